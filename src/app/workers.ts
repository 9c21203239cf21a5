import os from 'node:os';
import type { LanePins, LaneSpec } from '../delivery/engine.js';
import type { Journal } from '../journal/journal.js';
import type { ForeignSending } from '../journal/workers.js';
import { sleep } from '../time/sleep.js';

/** How far back a look-up searches for the rows of a worker whose row is gone. */
const FORGOTTEN_WORKER_MS = 24 * 3600_000;

/** A standing-by worker tries the lanes held elsewhere this often. */
export const STANDBY_RETRY_MS = 1000;

/** This process as a worker of one campaign: its lease, renewed while it sends, and its lanes. */
export interface WorkerSession {
  id: number;
  pins: LanePins;
  /** renew the lease every third of it; `fault` stops the run when a renewal fails */
  renewEvery(fault: (err: unknown) => void): void;
  /** the run ended: no more renewals, the lanes let go, the worker's row deleted */
  end(): void;
  /** live workers of the campaign, this one included, as of the last renewal */
  workers(): number;
}

/** The reason a row left `sending` by a worker whose lease ran out carries (its code: lease_expired). */
export function leaseExpiredReason(f: ForeignSending, canAsk = true): string {
  const after = canAsk
    ? 'looked up with its provider before anything is sent again'
    : 'its provider cannot be asked: not sent again (`ums resume --resend-unknown` sends it once more)';
  if (f.record)
    return `lease_expired: worker ${f.record.host} pid ${f.record.pid} (${f.record.command}) stopped renewing its lease, which ran out at ${new Date(f.record.leaseUntil).toISOString()}; ${after}`;
  return f.worker === null
    ? `lease_expired: claimed by a run that registered no worker, which is gone; ${after}`
    : `lease_expired: worker #${f.worker} is gone (its lease was removed); ${after}`;
}

/**
 * Register this process as a worker of the campaign (PostgreSQL). Its lanes are pinned to it by the
 * session advisory locks of its own connection (WorkersJournal.tryPin): the server lets them go when
 * the connection closes, so a dead worker's lanes are free at once, and its lease says when the rows
 * it left `sending` may be taken over (until then, its requests may still be in flight).
 */
export function joinAsWorker(
  journal: Journal,
  campaignId: string,
  command: string,
  leaseMs: number,
  /** the journal's clock (WorkersJournal.clock) unless given */
  now?: () => number,
  /** a lane's rows wait for another worker's lease to run out (its requests may be in flight) */
  onLeaseWait?: (w: { host: string; pid: number; until: string }) => void,
): WorkerSession {
  const w = journal.workers();
  const clock = now ?? (() => w.clock());
  const d = journal.delivery();
  const id = w.register({
    campaignId,
    host: os.hostname(),
    pid: process.pid,
    command,
    leaseUntil: clock() + leaseMs,
    startedAt: new Date(clock()).toISOString(),
  });
  d.worker = id;
  let live = w.liveCount(campaignId, clock());
  const pinned: LaneSpec[] = [];
  let timer: NodeJS.Timeout | undefined;
  const pins: LanePins = {
    retryMs: STANDBY_RETRY_MS,
    sentSince: (workers) =>
      Math.min(
        ...workers.map((id) => {
          const r = w.find(id);
          // its row is gone: as far back as a look-up searches at all (a day)
          return r ? Date.parse(r.startedAt) : clock() - FORGOTTEN_WORKER_MS;
        }),
      ),
    left: (spec, withUnknown) => w.laneLeft(campaignId, spec.channel, spec.provider.name, withUnknown),
    release(spec) {
      const i = pinned.indexOf(spec);
      if (i < 0) return;
      pinned.splice(i, 1);
      w.unpin(campaignId, spec.channel, spec.provider.name);
    },
    async tryHold(spec, signal) {
      const [channel, provider] = [spec.channel, spec.provider.name];
      // pinned here already: not again (a session's advisory locks stack, and end() lets go once)
      if (!pinned.includes(spec)) {
        if (!w.tryPin(campaignId, channel, provider)) return false;
        pinned.push(spec);
      }
      for (;;) {
        let wait = 0;
        for (const f of w.foreignSending(campaignId, channel, provider, id)) {
          const left = f.record ? f.record.leaseUntil - clock() : 0;
          if (left > 0 && f.record) {
            wait = Math.max(wait, left);
            const until = new Date(f.record.leaseUntil).toISOString();
            onLeaseWait?.({ host: f.record.host, pid: f.record.pid, until });
          } else
            w.expire(
              campaignId,
              channel,
              provider,
              f.worker,
              leaseExpiredReason(f, Boolean(spec.provider.lookup)),
            );
        }
        if (wait === 0) return true;
        await sleep(wait + 50, signal);
        if (signal.aborted) return false;
      }
    },
  };
  return {
    id,
    pins,
    renewEvery(fault) {
      timer = setInterval(
        () => {
          try {
            if (!w.renew(id, clock() + leaseMs))
              throw new Error(`the lease of worker #${id} is gone from the journal`);
            live = w.liveCount(campaignId, clock());
          } catch (err) {
            clearInterval(timer);
            fault(err);
          }
        },
        Math.max(100, Math.floor(leaseMs / 3)),
      );
      timer.unref();
    },
    workers: () => live,
    end() {
      clearInterval(timer);
      d.worker = null;
      try {
        for (const spec of pinned) w.unpin(campaignId, spec.channel, spec.provider.name);
        w.remove(id);
      } catch {
        // the journal cannot be written: the lease runs out, and another worker takes the rows over
      }
    },
  };
}
