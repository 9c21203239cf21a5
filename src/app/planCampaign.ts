import { createHash } from 'node:crypto';
import { InputError } from '../campaign/errors.js';
import { checkVariables, findPhoneColumn, Planner } from '../campaign/plan.js';
import { checkSenderNumber } from '../campaign/sender.js';
import { providerFor, type Config } from '../config/config.js';
import type { TextEncoding } from '../input/decode.js';
import { checkReadableFile } from '../input/readableFile.js';
import { digestFile, estimateRows, readRecipients } from '../input/recipients.js';
import { checkTemplateAssets } from '../input/templateChecks.js';
import { readTemplateFile } from '../input/templateFile.js';
import { openPlanSink, type PlanSink } from './planWriter.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';


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
}

/** What sending needs of the template, kept on the campaign (the template file may change later). */
export interface CampaignChannelSettings {
  ad: boolean;
  alimtalk: { pfId: string; templateId: string; buttons: Record<string, string>[] } | null;
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
    if (!check.ok) throw new InputError(`${template.from ? req.templateFile : (config.file ?? 'config')}: ${check.reason}`);
    if (config.senders && !config.senders.includes(check.number)) {
      throw new InputError(`${template.from ? req.templateFile : (config.file ?? 'config')}: sender number ${sender} is not in the config's senders: list of registered numbers`);
    }
  }
  const assets = checkTemplateAssets(template, config, sender);
  const csvBytes = checkReadableFile(req.csvFile, 'recipient CSV'); // before the digest reads it: a missing file is an input error
  const csvDigest = await digestFile(req.csvFile);
  const digest = createHash('sha256')
    .update(csvDigest)
    .update(createHash('sha256').update(templateBytes).digest('hex'))
    .update(req.phoneColumn ?? '')
    .digest('hex');
  const id = req.campaignId ?? `c-${digest.slice(0, 12)}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id)) {
    throw new InputError(`--campaign "${id}": use 1-64 letters, digits, ".", "_" or "-"`);
  }

  const existing = journal.findCampaign(id);
  if (existing && existing.state !== 'planning') {
    if (existing.digest !== digest) {
      throw new InputError(`campaign ${id} already exists with other inputs (the CSV or template changed): pass another --campaign`);
    }
    return { campaign: existing, created: false };
  }
  // A campaign left in `planning` was interrupted mid-plan (crash, kill): start it over.
  if (existing) journal.discardCampaign(id);

  const channelSettings: CampaignChannelSettings = {
    ad: template.ad,
    alimtalk: template.alimtalk ? { pfId: template.alimtalk.pfId, templateId: template.alimtalk.templateId, buttons: template.alimtalk.buttons } : null,
    rcs: template.rcs ? { brandId: template.rcs.brandId, templateId: template.rcs.templateId, buttons: template.rcs.buttons } : null,
    images: assets.images,
    fallback: template.fallback,
  };
  const settings = {
    encoding: req.encoding,
    phoneColumn: req.phoneColumn ?? null,
    from: template.rcs?.chatbotId ?? sender,
    prices: config.prices,
    channel: template.channel,
    ...channelSettings,
  };
  const optouts = journal.optouts().all();
  journal.createCampaign({ id, digest, csvPath: req.csvFile, templatePath: req.templateFile, settings });
  let planner: Planner | null = null;
  let sink: PlanSink | null = null;
  try {
    // Large CSVs: a worker thread stores the rows while this one reads and plans them.
    const out = (sink = openPlanSink(journal, id, csvBytes));
    const expectedRows = Math.ceil(estimateRows(req.csvFile, csvBytes) * ROW_ESTIMATE_MARGIN);
    const result = await readRecipients(req.csvFile, req.encoding, {
      onHeader(header) {
        const phoneIndex = findPhoneColumn(header, req.csvFile, req.phoneColumn);
        checkVariables(template, header, req.csvFile);
        planner = new Planner(template, header, phoneIndex, config.prices, optouts, expectedRows);
      },
      onRow(values, row) {
        out.add(planner!.plan(values, row));
      },
    });
    await out.finish();
    // every channel the plan uses has a provider (several providers, no route for it: exit 2, nothing kept)
    for (const channel of journal.delivery().plannedChannels(id)) providerFor(config, channel, req.provider);
    journal.markPlanned(id, result.rows, { ...settings, detectedEncoding: result.encoding });
  } catch (err) {
    await sink?.abort();
    journal.discardCampaign(id);
    throw err;
  }
  return { campaign: journal.findCampaign(id)!, created: true };
}
