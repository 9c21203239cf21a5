import type { Command } from 'commander';
import { campaignArg } from '../app/campaignIdentity.js';
import type { Config } from '../config/config.js';
import { InputError, LockedError } from '../errors.js';
import { t } from '../i18n/index.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';
import { type Cli, type CommonOptions, EXIT, openConfig, openJournal } from './context.js';
import type { DeliverOptions } from './deliver.js';
import { errorText } from './lang.js';
import { parseCount, parsePositive } from './send.js';

interface ResumeOptions extends CommonOptions {
  provider?: string;
  tps?: string;
  limit?: string;
  json?: boolean;
  resendUnknown?: boolean;
  retryFailed?: boolean;
  reason?: string;
  join?: boolean;
}

/** `--reason CODE`: a provider's code as reasons carry it (`3104`, `-2019`, `opted_out`). */
export function parseReason(v: string | undefined, retryFailed: boolean): string | null {
  if (v === undefined) return null;
  if (!retryFailed) throw InputError.of('retry.reasonAlone');
  if (!/^[\w.-]{1,40}$/u.test(v)) throw InputError.of('retry.badReason', { value: v.slice(0, 40) });
  return v;
}

/** A campaign named on the command line: one that exists and was planned to the end. */
export function namedCampaign(journal: Journal, id: string): CampaignRecord {
  const c = journal.findCampaign(id);
  if (!c) throw InputError.of('err.noCampaign', { id });
  if (c.state === 'planning')
    throw new InputError(
      `campaign ${id} was interrupted while it was being planned (nothing was sent): run the same \`ums send\` again`,
      { key: 'err.interruptedPlanning', params: { id } },
    );
  return c;
}

/** The named campaign, or else the newest planned one (`ums report`). */
export function namedOrLatest(journal: Journal, id: string | undefined): CampaignRecord {
  if (id !== undefined) return namedCampaign(journal, id);
  const latest = journal
    .listCampaigns()
    .filter((c) => c.state !== 'planning')
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .at(-1);
  if (latest) return latest;
  if (journal.listCampaigns().length)
    throw new InputError(
      'the last campaign was interrupted while it was being planned: run the same `ums send` again (nothing was sent)',
      { key: 'err.lastInterrupted' },
    );
  throw new InputError('no campaigns yet', { key: 'err.noCampaigns' });
}

/**
 * What a bare `ums resume` continues: every armed campaign not finished, oldest first (never a draft:
 * only the operator's `send` arms one). With --resend-unknown, one campaign: the newest armed one, or
 * else the newest finished one that has unknown messages.
 */
export function campaignsToResume(journal: Journal, resendUnknown: boolean): CampaignRecord[] {
  const all = journal.listCampaigns().sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const armed = all.filter((c) => c.state === 'armed');
  if (!resendUnknown) return armed;
  const pick =
    armed.at(-1) ??
    all.filter((c) => c.state === 'done' && journal.delivery().countInStatus(c.id, 'unknown') > 0).at(-1);
  return pick ? [pick] : [];
}

/** Worst first: a fault, then rows not reached, then fine. */
function worse(a: number, b: number): number {
  const rank = (c: number): number =>
    c === EXIT.fault ? 3 : c === EXIT.locked ? 2 : c === EXIT.incomplete ? 1 : 0;
  return rank(b) > rank(a) ? b : a;
}

export function registerResume(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('resume')
    .description(
      'continue an interrupted campaign (default: every armed unfinished one, oldest first); never sends a row twice, never a draft',
    )
    .argument('[campaign]', 'campaign id', campaignArg)
    .option('--provider <name>', 'send every channel through this provider')
    .option('--tps <n>', "override the provider's parts per second")
    .option('--limit <n>', 'send at most N messages in this run')
    .option(
      '--resend-unknown',
      'resend rows whose outcome is unknown and cannot be looked up (may duplicate them)',
    )
    .option(
      '--retry-failed',
      'send a new attempt to every recipient not reached whose last message failed (never to opted-out numbers)',
    )
    .option(
      '--reason <code>',
      'with --retry-failed: only those whose failure has this reason code (e.g. 3040)',
    )
    .option(
      '--join',
      'PostgreSQL journal: add this process as a worker to a campaign being sent (it takes the lanes no live worker holds)',
    )
    .option('--json', 'print one JSON document on stdout')
    .option('--config <file>', 'config file')
    .option('--db <file>', 'journal file')
    .action(async (id: string | undefined, opts: ResumeOptions) => {
      const deliverOptions: DeliverOptions = {
        provider: opts.provider,
        tps: parsePositive(opts.tps, '--tps'),
        limit: parseCount(opts.limit, '--limit'),
        json: Boolean(opts.json),
        yes: true,
        resendUnknown: opts.resendUnknown,
        command: opts.join ? 'ums resume --join' : 'ums resume',
      };
      const reason = parseReason(opts.reason, Boolean(opts.retryFailed));
      if (opts.retryFailed && id === undefined) throw InputError.of('retry.needsCampaign');
      if (opts.join && id === undefined) throw InputError.of('err.joinNeedsCampaign');
      const config = openConfig(cli, opts);
      const journal = openJournal(cli, config, opts);
      try {
        if (opts.join && journal.dialect !== 'postgres')
          throw InputError.of('err.joinNeedsPostgres', { file: journal.file });
        if (id !== undefined) {
          const c = namedCampaign(journal, id);
          const retry = opts.retryFailed ? { reason } : undefined;
          setExit(await resumeOne(cli, config, journal, c, deliverOptions, retry, Boolean(opts.join)));
          return;
        }
        const todo = campaignsToResume(journal, Boolean(opts.resendUnknown));
        if (!todo.length) {
          const drafts = journal.listCampaigns().filter((c) => c.state === 'draft').length;
          const note = drafts
            ? t(drafts === 1 ? 'cli.resume.draftNote1' : 'cli.resume.draftNote', { n: drafts })
            : '';
          if (opts.json) cli.out(JSON.stringify({ outcome: 'nothing-to-do', campaigns: [] }, null, 2));
          else cli.out(t('cli.resume.nothing', { note }));
          setExit(EXIT.ok);
          return;
        }
        // One JSON document on stdout: one campaign's, as for a named resume; several in a list.
        const documents: string[] = [];
        const out =
          opts.json && todo.length > 1 ? { ...cli, out: (line: string) => void documents.push(line) } : cli;
        let code: number = EXIT.ok;
        for (const c of todo) {
          try {
            code = worse(code, await resumeOne(out, config, journal, c, deliverOptions));
          } catch (err) {
            // Another process sends this one (an earlier cron run still going): it is in hand.
            if (!(err instanceof LockedError)) throw err;
            cli.err(
              `ums: ${t('cli.resume.lockedSkipped', { message: errorText(err.message, err.localised) })}`,
            );
          }
        }
        if (opts.json && todo.length > 1)
          cli.out(
            JSON.stringify(
              { outcome: 'several', campaigns: documents.map((d) => JSON.parse(d) as unknown) },
              null,
              2,
            ),
          );
        setExit(code);
      } finally {
        journal.close();
      }
    });
}

async function resumeOne(
  cli: Cli,
  config: Config,
  journal: Journal,
  campaign: CampaignRecord,
  opts: DeliverOptions,
  retry?: { reason: string | null },
  /** `--join` (PostgreSQL): one more worker, without the campaign's lock (the lanes are pinned to workers) */
  join = false,
): Promise<number> {
  const [{ lockCampaign }, { deliver }] = await Promise.all([
    import('../app/campaignLock.js'),
    import('./deliver.js'),
  ]);
  const release = join ? () => {} : lockCampaign(journal, campaign.id, 'ums resume');
  try {
    // read again under the lock: another process may have moved it on meanwhile
    let c = journal.findCampaign(campaign.id) ?? campaign;
    if (retry && (c.state === 'armed' || c.state === 'done')) {
      // New attempts (legs 2, 3, …) planned in one transaction under the lock; a done campaign is armed again.
      const planned = journal.retryFailed(c.id, retry.reason);
      const line =
        planned > 0
          ? t('retry.planned', { n: planned.toLocaleString('en-US'), id: c.id })
          : t('retry.nothing', { id: c.id });
      const why = retry.reason ? t('retry.withReason', { code: retry.reason }) : '';
      if (!opts.json) cli.err(`${line}${why}`);
      c = journal.findCampaign(c.id) ?? c;
      opts = { ...opts, retried: { planned, reason: retry.reason } };
    }
    return await deliver(cli, config, journal, c, opts);
  } finally {
    release();
  }
}
