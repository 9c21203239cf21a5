import readline from 'node:readline/promises';
import type { Ora } from 'ora';
import { sheetRowOf, testOf } from '../app/campaignIdentity.js';
import { laneForecasts } from '../app/preflight.js';
import { buildReport, hasProblems } from '../app/report.js';
import { finishEmptyCampaign, sendCampaign } from '../app/sendCampaign.js';
import { type CampaignSummary, summariseCampaign } from '../app/summary.js';
import { maskPhone, maskPhoneNumbers } from '../campaign/phone.js';
import { formatClock } from '../campaign/quietHours.js';
import type { Config } from '../config/config.js';
import type { Progress } from '../delivery/engine.js';
import { InputError } from '../errors.js';
import { t } from '../i18n/index.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';
import { humanTime } from '../time/zone.js';
import { type Cli, EXIT } from './context.js';
import {
  formatPlanSummary,
  formatProgress,
  formatReport,
  forTerminal,
  type LanesView,
  oneLine,
} from './format.js';

export interface DeliverOptions {
  provider?: string;
  tps?: number;
  limit?: number;
  json: boolean;
  yes: boolean;
  resendUnknown?: boolean;
  /** a `send` (the operator's command): a draft may be armed, after the prompt on a terminal */
  confirmed?: boolean;
  /** `resume --retry-failed`: the new attempts it planned (in the JSON document) */
  retried?: { planned: number; reason: string | null };
  /** `send --test`: say what went to which test number (the JSON document's `test`) */
  testSend?: boolean;
  /** what this process is named by in the workers' table (`ums send`, `ums resume --join`) */
  command?: string;
}

/** A test send's messages, for people (numbers masked) and the JSON document's `test`. */
function testMessages(journal: Journal, campaign: CampaignRecord) {
  const test = testOf(campaign);
  if (!test) return null;
  const messages = [...journal.messages(campaign.id)].map((m) => ({
    sheetRow: test.sheetRows[m.row - 1] ?? null,
    leg: m.leg,
    to: m.to ? maskPhone(m.to) : null,
    channel: m.channel,
    status: m.status,
    reason: m.reason ? maskPhoneNumbers(m.reason) : null,
    text: m.body,
  }));
  return { of: test.of, id: campaign.id, messages };
}

function printTest(cli: Cli, t0: NonNullable<ReturnType<typeof testMessages>>, ad: boolean): void {
  cli.out(`\n  ${t('test.heading', { id: t0.id, of: t0.of })}`);
  for (const m of t0.messages) {
    const what = m.reason ? `${m.status} (${m.reason})` : m.status;
    const key = m.leg === 1 ? 'test.lineFallback' : 'test.line';
    cli.out(
      `    ${t(key, { row: m.sheetRow ?? '-', to: m.to ?? '-', channel: m.channel ?? '-', status: forTerminal(what) })}: ${forTerminal(oneLine(m.text ?? '', 60))}`,
    );
  }
  if (ad) cli.out(`  ${t('test.adQuiet')}`);
  cli.out(`  ${t('test.reportHint', { id: t0.id })}`);
}

/** --json, and the operator did not confirm: the one JSON document says so (nothing was sent). */
function notSent(c: CampaignRecord, outcome: 'not-confirmed' | 'interrupted'): Record<string, unknown> {
  return { campaign: c.id, state: 'draft', outcome, sent: 0 };
}

/** The `ums send` that planned a campaign (and, confirmed, sends it). */
function sendCommand(c: CampaignRecord): string {
  const s = c.settings;
  const quote = (v: string): string => (/^[\w./@:+-]+$/u.test(v) ? v : `'${v.replace(/'/g, "'\\''")}'`);
  const extra = [
    ...(typeof s.phoneColumn === 'string' ? ['--phone-column', s.phoneColumn] : []),
    ...(typeof s.encoding === 'string' && s.encoding !== 'auto' ? ['--encoding', s.encoding] : []),
  ];
  return [
    'ums send',
    quote(c.csvPath),
    '-t',
    quote(c.templatePath),
    '--campaign',
    quote(c.id),
    ...extra.map(quote),
  ].join(' ');
}

/** The lanes of a send starting now (the dry run and the prompt show them). */
export function lanesView(
  summary: CampaignSummary,
  config: Config,
  now: Date,
  opts: { provider?: string; tps?: number },
): LanesView {
  return {
    lanes: laneForecasts(summary, config, now, opts),
    timeZone: config.timezone,
    quietStart: formatClock(config.quietHours.start),
    quietEnd: formatClock(config.quietHours.end),
  };
}

/** The answer typed at the prompt; null for Ctrl-C (or the end of input). */
async function ask(question: string): Promise<string | null> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  const abort = new AbortController();
  rl.on('SIGINT', () => abort.abort());
  rl.on('close', () => abort.abort());
  try {
    return await rl.question(question, { signal: abort.signal });
  } catch {
    return null;
  } finally {
    rl.close();
  }
}

/**
 * Send (or continue sending) a planned campaign; returns the exit code. The caller holds the
 * campaign's lock (lockCampaign). A draft is sent only by a `send` (`confirmed`), and armed only once
 * the operator said so: --yes, "y" at the prompt on a terminal, or the command itself where nothing
 * can ask (cron).
 */
export async function deliver(
  cli: Cli,
  config: Config,
  journal: Journal,
  campaign: CampaignRecord,
  opts: DeliverOptions,
): Promise<number> {
  const d = journal.delivery();
  const channels = d.plannedChannels(campaign.id);
  const unknown = d.countInStatus(campaign.id, 'unknown');
  if (campaign.state === 'draft' && !opts.confirmed) {
    throw new InputError(
      `campaign ${campaign.id} is a draft (planned by a dry run, or not confirmed): nothing was sent; \`${sendCommand(campaign)}\` sends it`,
      { key: 'err.draft', params: { id: campaign.id, command: sendCommand(campaign) } },
    );
  }
  // A finished campaign is sent again only for --resend-unknown: its unknown rows are all it has left.
  if (
    campaign.state === 'cancelled' ||
    (campaign.state === 'done' && !(opts.resendUnknown && unknown > 0)) ||
    channels.length === 0
  ) {
    finishEmptyCampaign(journal, campaign); // confirmed, with nothing (left) to send: done
    const report = buildReport(journal, journal.findCampaign(campaign.id)!, 0, {
      config,
      provider: opts.provider,
    });
    const test = opts.testSend ? testMessages(journal, campaign) : null;
    if (opts.json)
      cli.out(
        JSON.stringify(
          {
            ...report,
            ...(test ? { test } : {}),
            outcome: campaign.state === 'cancelled' ? 'cancelled' : 'already-finished',
            ...(opts.retried ? { retryFailed: opts.retried } : {}),
          },
          null,
          2,
        ),
      );
    else if (campaign.state === 'cancelled')
      cli.out(`${formatReport(report, cli.color, sheetRowOf(campaign))}\n\n  ${t('cli.nothing.cancelled')}`);
    else {
      const hint =
        unknown > 0
          ? t('cli.nothing.unknownHint', { n: unknown.toLocaleString('en-US'), id: campaign.id })
          : '';
      cli.out(
        `${formatReport(report, cli.color, sheetRowOf(campaign))}\n\n  ${t('cli.nothing.finished', { hint })}`,
      );
    }
    if (test && !opts.json) printTest(cli, test, campaign.settings.ad === true);
    // DESIGN.md: `send` (a test send too) of a campaign whose rows were all rejected at planning, or
    // failed or unknown before, is not done: 3. `ums resume` with nothing (left) to do is done: 0.
    return opts.confirmed && campaign.state !== 'cancelled' && hasProblems(report)
      ? EXIT.incomplete
      : EXIT.ok;
  }

  // DESIGN.md: asked when stdin is a terminal and --yes is missing, --json or not (the prompt goes to
  // stderr: stdout carries the one JSON document only)
  if (campaign.state === 'draft' && !opts.yes && cli.stdinIsTTY) {
    const summary = summariseCampaign(journal, campaign, 3, { config, provider: opts.provider });
    cli.err(
      formatPlanSummary(
        summary,
        cli.color,
        t('cli.aboutToSend'),
        lanesView(summary, config, cli.now(), { provider: opts.provider, tps: opts.tps }),
        sheetRowOf(campaign),
      ),
    );
    const planned = d.countInStatus(campaign.id, 'planned');
    const answer = await ask(`\n${t('cli.prompt.send', { n: planned.toLocaleString('en-US') })} `);
    if (answer === null) {
      if (opts.json) cli.out(JSON.stringify(notSent(campaign, 'interrupted'), null, 2));
      cli.err(`ums: ${t('cli.prompt.ctrlC', { id: campaign.id })}`);
      return EXIT.fault;
    }
    if (!/^y(es)?$/i.test(answer.trim())) {
      if (opts.json) cli.out(JSON.stringify(notSent(campaign, 'not-confirmed'), null, 2));
      cli.err(t('cli.prompt.no', { id: campaign.id }));
      return EXIT.ok;
    }
  }

  const abort = new AbortController();
  const onSignal = (): void => {
    if (abort.signal.aborted) return;
    cli.err(`\n${t('cli.stopping')}`);
    abort.abort();
  };
  let progress: ProgressDisplay | null = null;
  const { outcome, left } = await sendCampaign(config, journal, campaign, {
    command: opts.command,
    provider: opts.provider,
    tps: opts.tps,
    limit: opts.limit,
    resendUnknown: Boolean(opts.resendUnknown),
    now: cli.now,
    signal: abort.signal,
    started: async (total) => {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      progress = new ProgressDisplay(cli, total, opts.json, campaign.id, config.timezone);
      await progress.start();
    },
    onProgress: (p) => progress?.update(p),
    onStandby: (lanes) => {
      if (!opts.json) cli.err(t('cli.worker.standby', { lanes: lanes.join(', ') }));
    },
    onLeaseWait: (w) => {
      if (!opts.json) cli.err(t('cli.worker.leaseWait', w));
    },
    ended: () => {
      progress?.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  });

  const report = buildReport(journal, journal.findCampaign(campaign.id)!, 20, {
    config,
    provider: opts.provider,
  });
  const test = opts.testSend ? testMessages(journal, journal.findCampaign(campaign.id)!) : null;
  const p = outcome.progress;
  const seconds = (Date.now() - p.startedAt) / 1000;
  if (opts.json) {
    cli.out(
      JSON.stringify(
        {
          ...report,
          outcome: outcome.kind,
          run: { ...p, seconds: Math.round(seconds * 10) / 10 },
          ...(test ? { test } : {}),
          ...(opts.retried ? { retryFailed: opts.retried } : {}),
          ...(outcome.kind === 'fault' ? { error: outcome.message } : {}),
        },
        null,
        2,
      ),
    );
  } else {
    cli.out(formatReport(report, cli.color, sheetRowOf(campaign)));
    cli.out(
      `\n  ${t('cli.thisRun', {
        n: p.accepted.toLocaleString('en-US'),
        failed: p.failed ? t('presend.runFailed', { count: p.failed.toLocaleString('en-US') }) : '',
        seconds: seconds.toFixed(1),
        throttles: p.throttles ? t('cli.thisRun.throttles', { n: p.throttles }) : '',
        retried: p.retried ? t('cli.thisRun.retried', { n: p.retried }) : '',
      })}`,
    );
    if (test) printTest(cli, test, campaign.settings.ad === true);
  }
  switch (outcome.kind) {
    case 'fault':
      cli.err(`ums: ${forTerminal(outcome.message)}`);
      return EXIT.fault;
    case 'interrupted':
      cli.err(`ums: ${t('cli.interrupted', { n: left.toLocaleString('en-US'), id: campaign.id })}`);
      return EXIT.fault;
    case 'limit':
      if (!opts.json)
        cli.out(`  ${t('cli.limitReached', { n: left.toLocaleString('en-US'), id: campaign.id })}`);
      return hasProblems(report) ? EXIT.incomplete : EXIT.ok;
    case 'deferred': {
      const end = formatClock(config.quietHours.end);
      cli.err(
        `ums: ${t('cli.deferred', {
          start: formatClock(config.quietHours.start),
          end,
          zone: config.quietHours.timeZone,
          n: outcome.deferred.toLocaleString('en-US'),
          id: campaign.id,
        })}`,
      );
      return EXIT.ok;
    }
    case 'finished':
      return hasProblems(report) ? EXIT.incomplete : EXIT.ok;
  }
}

/** ora on a terminal; otherwise a plain line every few seconds (cron logs); nothing with --json. */
class ProgressDisplay {
  private spinner: Ora | null = null;
  private lastLine = 0;
  private last: Progress | null = null;

  constructor(
    private readonly cli: Cli,
    private readonly total: number,
    private readonly quiet: boolean,
    private readonly campaignId: string,
    private readonly timeZone: string,
  ) {}

  async start(): Promise<void> {
    // DESIGN.md: no spinner when stdout is not a terminal or NO_COLOR is set (cron, pipes, logs).
    if (!this.quiet && this.cli.stdoutIsTTY && process.stderr.isTTY && !('NO_COLOR' in this.cli.env)) {
      const { default: ora } = await import('ora'); // only terminals pay for loading it
      this.spinner = ora({ text: this.text(null), stream: process.stderr }).start();
    }
  }

  private text(p: Progress | null): string {
    return formatProgress(p, this.total, Date.now());
  }

  update(p: Progress): void {
    this.last = p;
    if (this.quiet) return;
    if (this.spinner) {
      this.spinner.text = this.text(p);
      return;
    }
    const now = Date.now();
    if (now - this.lastLine >= 5000) {
      this.lastLine = now;
      // a log line (cron): when, and which campaign, first
      this.cli.err(`${humanTime(this.cli.now(), this.timeZone, true)} ${this.campaignId} ${this.text(p)}`);
    }
  }

  stop(): void {
    if (this.spinner) this.spinner.stopAndPersist({ symbol: '•', text: this.text(this.last) });
  }
}
