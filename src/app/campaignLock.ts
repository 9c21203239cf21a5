import os from 'node:os';
import { LockedError } from '../errors.js';
import type { LockHolder } from '../journal/delivery.js';
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
 * replaced. A holder on another host is judged by its worker's lease (PostgreSQL: every sending
 * process renews one): running, it holds the lock until the lease runs out (the error says when);
 * run out, it is replaced (another worker reconciles the rows it left `sending`). One with no lease
 * (planning, or a journal on SQLite) holds it. Taking it again in the same process is a no-op;
 * returns the release.
 */
export function lockCampaign(
  journal: Journal,
  campaignId: string,
  command: string,
  /** the journal's clock (a lease is judged by it) unless given */
  now?: () => number,
): () => void {
  const d = journal.delivery();
  const workers = journal.workers();
  const clock = now ?? (() => workers.clock());
  const here = os.hostname();
  const lease = (h: LockHolder) => workers.ofProcess(campaignId, h.host, h.pid);
  const holds = (h: LockHolder): boolean => {
    if (h.host === here) return isAlive(h.pid);
    const w = lease(h);
    return w === null || w.leaseUntil > clock();
  };
  const holder = d.acquireLock(campaignId, process.pid, here, command, holds);
  if (holder) {
    const w = holder.host === here ? null : lease(holder);
    if (w)
      throw LockedError.of('err.lockedLease', {
        id: campaignId,
        pid: holder.pid,
        host: holder.host,
        command: holder.command,
        until: new Date(w.leaseUntil).toISOString(),
      });
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
