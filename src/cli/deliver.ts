import readline from 'node:readline/promises';
import type { Ora } from 'ora';
import { buildReport, hasProblems } from '../app/report.js';
import { finishEmptyCampaign, sendCampaign } from '../app/sendCampaign.js';
import { summariseCampaign } from '../app/summary.js';
import { formatClock } from '../campaign/quietHours.js';
import type { Config } from '../config/config.js';
import type { Progress } from '../delivery/engine.js';
import { InputError } from '../errors.js';
import { t } from '../i18n/index.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';
import { type Cli, EXIT } from './context.js';
import { formatPlanSummary, formatProgress, formatReport, forTerminal } from './format.js';

export interface DeliverOptions {
  provider?: string;
  tps?: number;
  limit?: number;
  json: boolean;
  yes: boolean;
  resendUnknown?: boolean;
  /** a `send` (the operator's command): a draft may be armed, after the prompt on a terminal */
  confirmed?: boolean;
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
    if (opts.json)
      cli.out(
        JSON.stringify(
          { ...report, outcome: campaign.state === 'cancelled' ? 'cancelled' : 'already-finished' },
          null,
          2,
        ),
      );
    else if (campaign.state === 'cancelled')
      cli.out(`${formatReport(report, cli.color)}\n\n  ${t('cli.nothing.cancelled')}`);
    else {
      const hint =
        unknown > 0
          ? t('cli.nothing.unknownHint', { n: unknown.toLocaleString('en-US'), id: campaign.id })
          : '';
      cli.out(`${formatReport(report, cli.color)}\n\n  ${t('cli.nothing.finished', { hint })}`);
    }
    return EXIT.ok;
  }

  if (campaign.state === 'draft' && !opts.yes && cli.stdinIsTTY && !opts.json) {
    cli.err(
      formatPlanSummary(
        summariseCampaign(journal, campaign, 3, { config, provider: opts.provider }),
        cli.color,
        t('cli.aboutToSend'),
      ),
    );
    const planned = d.countInStatus(campaign.id, 'planned');
    const answer = await ask(`\n${t('cli.prompt.send', { n: planned.toLocaleString('en-US') })} `);
    if (answer === null) {
      cli.err(`ums: ${t('cli.prompt.ctrlC', { id: campaign.id })}`);
      return EXIT.fault;
    }
    if (!/^y(es)?$/i.test(answer.trim())) {
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
    provider: opts.provider,
    tps: opts.tps,
    limit: opts.limit,
    resendUnknown: Boolean(opts.resendUnknown),
    now: cli.now,
    signal: abort.signal,
    started: async (total) => {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      progress = new ProgressDisplay(cli, total, opts.json);
      await progress.start();
    },
    onProgress: (p) => progress?.update(p),
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
  const p = outcome.progress;
  const seconds = (Date.now() - p.startedAt) / 1000;
  if (opts.json) {
    cli.out(
      JSON.stringify(
        {
          ...report,
          outcome: outcome.kind,
          run: { ...p, seconds: Math.round(seconds * 10) / 10 },
          ...(outcome.kind === 'fault' ? { error: outcome.message } : {}),
        },
        null,
        2,
      ),
    );
  } else {
    cli.out(formatReport(report, cli.color));
    cli.out(
      `\n  ${t('cli.thisRun', {
        n: p.accepted.toLocaleString('en-US'),
        seconds: seconds.toFixed(1),
        throttles: p.throttles ? t('cli.thisRun.throttles', { n: p.throttles }) : '',
        retried: p.retried ? t('cli.thisRun.retried', { n: p.retried }) : '',
      })}`,
    );
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
      this.cli.err(this.text(p));
    }
  }

  stop(): void {
    if (this.spinner) this.spinner.stopAndPersist({ symbol: '•', text: this.text(this.last) });
  }
}
