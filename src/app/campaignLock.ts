import os from 'node:os';
import { LockedError } from '../errors.js';
import type { Journal } from '../journal/journal.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One process plans or sends a campaign at a time (DESIGN.md): take its lock for this process, or
 * throw LockedError (exit 75) naming the live holder. A holder on this host whose process is gone is
 * replaced. Taking it again in the same process is a no-op; returns the release.
 */
export function lockCampaign(journal: Journal, campaignId: string, command: string): () => void {
  const d = journal.delivery();
  const holder = d.acquireLock(campaignId, process.pid, os.hostname(), command, isAlive);
  if (holder) {
    throw new LockedError(
      `campaign ${campaignId} is being planned or sent by pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.startedAt}); wait for it or stop it`,
      {
        key: 'err.locked',
        params: {
          id: campaignId,
          pid: holder.pid,
          host: holder.host,
          command: holder.command,
          since: holder.startedAt,
        },
      },
    );
  }
  return () => {
    try {
      d.releaseLock(campaignId, process.pid);
    } catch {
      // A journal that cannot be written (a full disk) keeps the row: its process is gone by the next
      // run, which takes it over. The error that stopped this run is the one to report.
    }
  };
}

/** Whether another live process holds the campaign's lock (a `planning` campaign it is still planning). */
export function lockedByOther(journal: Journal, campaignId: string): boolean {
  const h = journal.delivery().lockHolder(campaignId);
  return h !== null && h.pid !== process.pid && (h.host !== os.hostname() || isAlive(h.pid));
}
