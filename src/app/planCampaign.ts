import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_TEXT_LIMITS, type TextLimits } from '../campaign/channel.js';
import {
  checkVariables,
  findPhoneColumn,
  PHONE_SAMPLE_ROWS,
  type PhoneColumn,
  Planner,
  phoneColumnByHeader,
} from '../campaign/plan.js';
import { checkSenderNumber } from '../campaign/sender.js';
import type { AlimtalkIds } from '../campaign/template.js';
import type { ChannelChoice } from '../campaign/types.js';
import { type Config, providerConfig, routeFor } from '../config/config.js';
import { FaultError, InputError } from '../errors.js';
import type { TextEncoding } from '../input/decode.js';
import { checkReadableFile } from '../input/readableFile.js';
import { digestFile, estimateRows, readRecipients } from '../input/recipients.js';
import { checkTemplateAssets } from '../input/templateChecks.js';
import { readTemplateFile } from '../input/templateFile.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';
import { providerModule } from '../providers/registry.js';
import {
  type CampaignIdentity,
  campaignName,
  identityDifferences,
  identityDigest,
  type TestSettings,
  testOf,
} from './campaignIdentity.js';
import { openPlanSink, type PlanSink } from './planWriter.js';
import { checkAlimtalkIds, checkRouteCarries } from './routeChecks.js';
import { assignProviders, providersByKind } from './routing.js';

/**
 * Planning's memory of numbers seen is sized for the rows estimateRows() expects and this much more:
 * an estimate from the first rows, and a table that must grow leaves the old one to the GC.
 */
const ROW_ESTIMATE_MARGIN = 1.1;

export interface PlanRequest {
  csvFile: string;
  templateFile: string;
  campaignId?: string;
  encoding: 'auto' | TextEncoding;
  phoneColumn?: string;
  /** `--provider`: every channel goes there */
  provider?: string;
  config: Config;
  journal: Journal;
  /** takes the campaign's lock before it is planned (LockedError when another process has it) */
  lock: (campaignId: string) => void;
  /** Ctrl-C / SIGTERM: the partial plan is discarded */
  signal?: AbortSignal;
  /**
   * `--test`: a test send, journaled as its own campaign (`<campaign>.test-N`, settings.test): the
   * messages of these spreadsheet rows (header = row 1), each rendered for and sent to each test
   * number. It never is, nor is found as, the campaign itself.
   */
  test?: TestSend;
}

export interface TestSend {
  /** national digits (or E.164), as normalisePhone gives them */
  phones: string[];
  /** spreadsheet rows (header = 1) */
  sheetRows: number[];
}

/** `<campaign>.test-N`: the next free one (1-64 characters, as every name). */
function testCampaignId(journal: Journal, of: string): string {
  const n = journal.listCampaigns().filter((c) => testOf(c)?.of === of).length + 1;
  for (let k = n; ; k++) {
    const suffix = `.test-${k}`;
    const id = `${[...of].slice(0, 64 - suffix.length).join('')}${suffix}`;
    if (!journal.findCampaign(id)) return id;
  }
}

/** What sending needs of the template, kept on the campaign (the template file may change later). */
export interface CampaignChannelSettings {
  ad: boolean;
  alimtalk: {
    pfId: string;
    templateId: string;
    /** alimtalk.<provider>: a provider's own ids (alimtalkIdsFor reads them per provider) */
    providers?: Record<string, AlimtalkIds>;
    buttons: Record<string, string>[];
  } | null;
  rcs: { brandId: string; templateId: string | null; buttons: Record<string, string>[] } | null;
  images: string[];
  fallback: string;
}

export interface PlanOutcome {
  campaign: CampaignRecord;
  /** false when the campaign already existed (same inputs): nothing was planned again */
  created: boolean;
}

/**
 * CSV + template -> a campaign in the journal, every row accounted for. A failure at any
 * row discards the half-planned campaign: a campaign exists only once fully planned.
 */
export async function planCampaign(req: PlanRequest): Promise<PlanOutcome> {
  const { journal, config } = req;
  const { template, bytes: templateBytes } = readTemplateFile(req.templateFile);
  const sender = template.from ?? config.from;
  if (sender !== null) {
    const check = checkSenderNumber(sender);
    if (!check.ok)
      throw InputError.of('err.atFile', {
        file: template.from ? req.templateFile : (config.file ?? 'config'),
        problem: { key: check.key, params: { raw: sender } },
      });
    if (config.senders && !config.senders.includes(check.number)) {
      throw InputError.of('err.senderNotListed', {
        file: template.from ? req.templateFile : (config.file ?? 'config'),
        sender,
      });
    }
  }
  // a route that cannot carry the template's channel (AlimTalk, RCS) at every provider: exit 2, before planning
  checkRouteCarries(config, template.channel, req.provider);
  // every provider of an AlimTalk route has its own template id (NHN's templateCode is not Solapi's templateId)
  checkAlimtalkIds(config, template, req.provider);
  const assets = checkTemplateAssets(template, config, sender);
  const csvBytes = checkReadableFile(req.csvFile, 'recipient CSV'); // before the digest reads it: a missing file is an input error
  const identity: CampaignIdentity = {
    csv: await digestFile(req.csvFile),
    template: createHash('sha256').update(templateBytes).digest('hex'),
    phoneColumn: req.phoneColumn ?? null,
    encoding: req.encoding,
    from: template.rcs?.chatbotId ?? sender,
    senderName: config.senderName,
    images: assets.images.map((file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex')),
  };
  const test = req.test;
  const realDigest = identityDigest(identity);
  const realId = req.campaignId !== undefined ? campaignName(req.campaignId) : `c-${realDigest.slice(0, 12)}`;
  const id = test ? testCampaignId(journal, realId) : realId;
  // a test's digest is never the campaign's: nothing takes one for the other
  const digest = test ? `test:${realDigest}` : realDigest;
  const planned = (): PlanOutcome | null => {
    if (test)
      return journal.findCampaign(id) ? { campaign: journal.findCampaign(id)!, created: false } : null;
    const existing = journal.findCampaign(id);
    if (existing && testOf(existing)) {
      // a test send's campaign is never the real one: its rows went to the test numbers only
      throw new InputError(
        `campaign ${id} is a test send (of campaign ${testOf(existing)!.of}), not a campaign to send for real: pass another --campaign`,
        { key: 'err.campaignIsTest', params: { id, of: testOf(existing)!.of } },
      );
    }
    if (existing && existing.state !== 'planning') {
      const differs = identityDifferences(existing, identity);
      if (differs.length) {
        throw InputError.of('err.campaignDiffers', { id, changed: differs.join(', ') });
      }
      return { campaign: existing, created: false };
    }
    // The same inputs planned before under another name that came from them (an older ums's digest,
    // or --encoding asked another way but read the same): that campaign, never a second one.
    if (req.campaignId === undefined) {
      const same = findSameCampaign(journal, (c) => identityDifferences(c, identity).length === 0);
      if (same) return { campaign: same, created: false };
    }
    return null;
  };
  // A planned campaign is only read here; planning one takes its lock (a second planner exits 75),
  // and looks again under it: another process may have planned it meanwhile.
  const before = planned();
  if (before) return before;
  req.lock(id);
  const meanwhile = planned();
  if (meanwhile) return meanwhile;
  // A campaign left in `planning` was interrupted mid-plan (crash, kill, full disk): we hold its
  // lock, so its planner is gone: start it over.
  if (journal.findCampaign(id)) journal.discardCampaign(id);

  const channelSettings: CampaignChannelSettings = {
    ad: template.ad,
    alimtalk: template.alimtalk
      ? {
          pfId: template.alimtalk.pfId,
          templateId: template.alimtalk.templateId,
          providers: template.alimtalk.providers,
          buttons: template.alimtalk.buttons,
        }
      : null,
    rcs: template.rcs
      ? { brandId: template.rcs.brandId, templateId: template.rcs.templateId, buttons: template.rcs.buttons }
      : null,
    images: assets.images,
    fallback: template.fallback,
  };
  const settings = {
    identity,
    // where `ums export` reads the CSV's own columns again, wherever it runs from (csvPath is as typed)
    csvFile: path.resolve(req.csvFile),
    encoding: req.encoding,
    phoneColumn: req.phoneColumn ?? null,
    from: template.rcs?.chatbotId ?? sender,
    prices: config.prices,
    channel: template.channel,
    ...channelSettings,
  };
  /** a test's messages: its row -> the spreadsheet row it renders */
  const testRows: number[] = [];
  const optouts = journal.optouts().all();
  journal.createCampaign({ id, digest, csvPath: req.csvFile, templatePath: req.templateFile, settings });
  let planner: Planner | null = null;
  let sink: PlanSink | null = null;
  let detected: string;
  try {
    // Large CSVs: a worker thread stores the rows while this one reads and plans them.
    const out = (sink = openPlanSink(
      journal,
      id,
      csvBytes,
      process.env,
      providersByKind(config, req.provider),
    ));
    const expectedRows = Math.ceil(estimateRows(req.csvFile, csvBytes) * ROW_ESTIMATE_MARGIN);
    const signal = req.signal;
    let header: string[] = [];
    let phoneColumn: PhoneColumn | null = null;
    const wanted = new Set(test?.sheetRows ?? []);
    const limits = textLimitsFor(config, template.channel, req.provider);
    /** a row of the CSV: planned (a test: only the rows asked for, once per test number) */
    const planRow = (values: string[], row: number): void => {
      if (!test) {
        out.add(planner!.plan(values, row));
        return;
      }
      if (!wanted.has(row + 1)) return;
      const index = (phoneColumn as PhoneColumn | null)!.index;
      for (const phone of test.phones) {
        const v = values.slice();
        v[index] = phone;
        testRows.push(row + 1);
        // one planner per message: a test number in several rows is no duplicate of itself
        const p = new Planner(template, header, index, config.prices, optouts, 1, limits);
        out.add(p.plan(v, testRows.length));
      }
    };
    // No header names the phone column: the first rows are held back until their values show it.
    const sample: { values: string[]; row: number }[] = [];
    const startPlanning = (): void => {
      phoneColumn = findPhoneColumn(
        header,
        req.csvFile,
        req.phoneColumn,
        sample.map((s) => s.values),
      );
      checkVariables(template, header, req.csvFile);
      planner = new Planner(
        template,
        header,
        phoneColumn.index,
        config.prices,
        optouts,
        expectedRows,
        limits,
      );
      for (const s of sample.splice(0)) planRow(s.values, s.row);
    };
    const result = await readRecipients(req.csvFile, req.encoding, {
      onHeader(h) {
        header = h;
        if (phoneColumnByHeader(header, req.csvFile, req.phoneColumn)) startPlanning();
      },
      onRow(values, row) {
        if (signal?.aborted) throw new PlanningInterrupted();
        if (planner) {
          planRow(values, row);
          return;
        }
        sample.push({ values: values.slice(), row });
        if (sample.length >= PHONE_SAMPLE_ROWS) startPlanning();
      },
    });
    if (!planner) startPlanning();
    if (signal?.aborted) throw new PlanningInterrupted();
    if (test) {
      const last = result.rows + 1;
      const out = test.sheetRows.find((r) => r > last);
      if (out !== undefined) throw InputError.of('test.rowOutOfRange', { row: out, file: req.csvFile, last });
    }
    await out.finish();
    // every message gets its provider by its channel's route (several providers, no route for a
    // channel the plan uses: exit 2, nothing kept)
    assignProviders(config, journal.routing(), id, req.provider);
    detected = result.encoding;
    const found = phoneColumn as PhoneColumn | null;
    journal.markPlanned(id, test ? testRows.length : result.rows, {
      ...settings,
      ...(test ? { test: { of: realId, sheetRows: testRows } satisfies TestSettings } : {}),
      detectedEncoding: result.encoding,
      phoneColumnFound: found ? { name: found.name, how: found.how } : null,
    });
  } catch (err) {
    await sink?.abort().catch(() => undefined);
    try {
      journal.discardCampaign(id);
    } catch {
      // A journal that cannot be written (a full disk) keeps the campaign in `planning`: shown as
      // interrupted, never sent, and discarded by the next run.
    }
    if (err instanceof PlanningInterrupted) throw FaultError.of('err.planStopped');
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) {
      throw FaultError.of('err.planJournal', { code, why: (err as Error).message });
    }
    throw err;
  }
  // Read in the same encoding as one planned before with --encoding asked another way (auto that
  // found CP949, and --encoding cp949): the same campaign. The new plan goes; the old one stays.
  if (req.campaignId === undefined && !test) {
    const twin = findSameCampaign(journal, (c) => {
      if (c.id === id) return false;
      const differs = identityDifferences(c, { ...identity, encoding: 'auto' });
      const read = c.settings.detectedEncoding;
      return (
        differs.every((d) => d === '--encoding') &&
        (read === detected || read === 'ascii' || detected === 'ascii')
      );
    });
    if (twin) {
      journal.discardCampaign(id);
      return { campaign: twin, created: false };
    }
  }
  return { campaign: journal.findCampaign(id)!, created: true };
}

class PlanningInterrupted extends Error {}

/** A planned campaign (not one being planned) that `matches`. */
function findSameCampaign(
  journal: Journal,
  matches: (c: CampaignRecord) => boolean,
): CampaignRecord | undefined {
  // a test send is never the campaign it tests
  return journal.listCampaigns().find((c) => c.state !== 'planning' && !testOf(c) && matches(c));
}

/**
 * The text lengths of the provider a template's channel goes to (NHN takes 1,300 AlimTalk
 * characters, Solapi 1,000); a channel that is not AlimTalk or RCS, or a provider that declares
 * none, gets the channel's own.
 */
function textLimitsFor(config: Config, channel: ChannelChoice, provider?: string): TextLimits {
  if (channel !== 'alimtalk' && channel !== 'rcs') return DEFAULT_TEXT_LIMITS;
  // a route over several providers: what every one of them takes
  const all = routeFor(config, channel, provider).providers.map(
    (name) => providerModule(providerConfig(config, name)?.type ?? 'sim')?.limits,
  );
  return {
    alimtalkChars: Math.min(...all.map((l) => l?.alimtalkChars ?? DEFAULT_TEXT_LIMITS.alimtalkChars)),
    rcsChars: Object.fromEntries(
      Object.entries(DEFAULT_TEXT_LIMITS.rcsChars).map(([kind, n]) => [
        kind,
        Math.min(...all.map((l) => (l?.rcsChars as Record<string, number> | undefined)?.[kind] ?? n)),
      ]),
    ) as TextLimits['rcsChars'],
  };
}
