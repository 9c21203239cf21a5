import type { Command } from 'commander';
import { InputError } from '../campaign/errors.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';
import { openConfig, openJournal, type Cli, type CommonOptions } from './context.js';
import { parseCount, parsePositive } from './send.js';

interface ResumeOptions extends CommonOptions {
  provider?: string;
  tps?: string;
  limit?: string;
  json?: boolean;
  resendUnknown?: boolean;
}

/**
 * The named campaign, or the newest one not finished (`withUnknown`: or finished with messages whose
 * outcome is unknown, which `--resend-unknown` sends again).
 */
export function pickCampaign(journal: Journal, id: string | undefined, wantUnfinished: boolean, withUnknown = false): CampaignRecord {
  if (id !== undefined) {
    const c = journal.findCampaign(id);
    if (!c || c.state === 'planning') throw new InputError(`no campaign "${id}" in the journal (see \`ums campaigns\`)`);
    return c;
  }
  const all = journal.listCampaigns().filter((c) => c.state !== 'planning');
  const unfinished = all.filter((c) => c.state !== 'done');
  // A finished campaign's unknown rows are sent again only when nothing unfinished is waiting.
  const finishedWithUnknown = (): CampaignRecord[] => (withUnknown ? all.filter((c) => c.state === 'done' && journal.delivery().countInStatus(c.id, 'unknown') > 0) : []);
  const pool = wantUnfinished ? (unfinished.length ? unfinished : finishedWithUnknown()) : all;
  const latest = pool.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1);
  if (!latest) {
    const interrupted = journal.listCampaigns().some((c) => c.state === 'planning');
    if (interrupted) throw new InputError('the last campaign was interrupted while it was being planned: run the same `ums send` again (nothing was sent)');
    throw new InputError(wantUnfinished ? 'no unfinished campaign to resume (see `ums campaigns`)' : 'no campaigns yet');
  }
  return latest;
}

export function registerResume(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('resume')
    .description('continue an interrupted campaign (default: the latest unfinished one); never sends a row twice')
    .argument('[campaign]', 'campaign id')
    .option('--provider <name>', 'send every channel through this provider')
    .option('--tps <n>', "override the provider's parts per second")
    .option('--limit <n>', 'send at most N messages in this run')
    .option('--resend-unknown', 'resend rows whose outcome is unknown and cannot be looked up (may duplicate them)')
    .option('--json', 'print one JSON document on stdout')
    .option('--config <file>', 'config file')
    .option('--db <file>', 'journal file')
    .action(async (id: string | undefined, opts: ResumeOptions) => {
      const tps = parsePositive(opts.tps, '--tps');
      const limit = parseCount(opts.limit, '--limit');
      const config = openConfig(cli, opts);
      const journal = openJournal(cli, config, opts);
      try {
        const campaign = pickCampaign(journal, id, true, Boolean(opts.resendUnknown));
        const { deliver } = await import('./deliver.js');
        setExit(await deliver(cli, config, journal, campaign, { provider: opts.provider, tps, limit, json: Boolean(opts.json), yes: true, resendUnknown: opts.resendUnknown }, 'ums resume'));
      } finally {
        journal.close();
      }
    });
}
