import { describe, expect, it, vi } from 'vitest';
import { lockCampaign } from '../../src/app/campaignLock.js';
import { joinAsWorker } from '../../src/app/workers.js';
import type { LaneSpec } from '../../src/delivery/engine.js';
import type { Journal } from '../../src/journal/journal.js';
import { WorkersJournal } from '../../src/journal/workers.js';
import type { Provider } from '../../src/providers/types.js';
import { plannedJournal, reopenTestJournal, secondConnection, testDialect } from '../support/journal.js';

const lane = (provider: string): LaneSpec => ({
  channel: 'sms',
  provider: { name: provider } as Provider,
  tps: 0,
  window: 1,
});

const rows = (j: Journal) =>
  [...j.messages('c')].map((m) => ({ row: m.row, status: m.status, reason: m.reason ?? '' }));

/** Claim the next `n` planned rows for `provider` as worker `worker`. */
function claimAs(j: Journal, worker: number, provider: string, n: number): void {
  const d = j.delivery();
  d.worker = worker;
  expect(d.claim(d.nextPlanned('c', 'sms', 0, n), provider)).toHaveLength(n);
  d.worker = null;
}

describe('workers and their leases', () => {
  it("a lane taken over turns only the expired worker's sending rows of that lane unknown, and waits out a live lease", async () => {
    const j = plannedJournal(5);
    const w = j.workers();
    const now = Date.now();
    const at = new Date(now).toISOString();
    const dead = w.register({
      campaignId: 'c',
      host: 'h1',
      pid: 4242,
      command: 'ums send',
      leaseUntil: now - 1000,
      startedAt: at,
    });
    const live = w.register({
      campaignId: 'c',
      host: 'h2',
      pid: 4343,
      command: 'ums resume --join',
      leaseUntil: now + 700,
      startedAt: at,
    });
    claimAs(j, dead, 'sim', 2); // rows 1, 2
    claimAs(j, live, 'sim', 1); // row 3
    claimAs(j, dead, 'other', 1); // row 4: another lane (provider) of the dead worker
    const waits: unknown[] = [];
    const me = joinAsWorker(j, 'c', 'ums resume --join', 30_000, Date.now, (x) => waits.push(x));
    try {
      const started = Date.now();
      const held = me.pins.tryHold(lane('sim'), new AbortController().signal);
      await new Promise((r) => setTimeout(r, 150));
      const during = rows(j);
      expect(during.map((r) => r.status)).toEqual(['unknown', 'unknown', 'sending', 'sending', 'planned']);
      expect(during[0]!.reason).toMatch(
        /^lease_expired: worker h1 pid 4242 \(ums send\) .*lease.*ran out at /,
      );
      expect(await held).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(600); // the live lease was waited out
      expect(waits).toEqual([{ host: 'h2', pid: 4343, until: new Date(now + 700).toISOString() }]);
      const after = rows(j);
      expect(after.map((r) => r.status)).toEqual(['unknown', 'unknown', 'unknown', 'sending', 'planned']);
      expect(after[2]!.reason).toMatch(/^lease_expired: worker h2 pid 4343 /);
      // the look-up is told since when the other workers may have sent them
      expect(me.pins.sentSince([dead, live])).toBe(now);
      // rows this worker claims name it
      claimAs(j, me.id, 'sim', 1);
      expect(w.foreignSending('c', 'sms', 'sim', me.id)).toEqual([]);
    } finally {
      me.end();
    }
    expect(w.find(me.id)).toBeNull(); // a finished worker deletes its row
    j.close();
  });

  it('renews the lease every third of it; a renewal that fails stops the run', async () => {
    const j = plannedJournal(1);
    const me = joinAsWorker(j, 'c', 'ums send', 300);
    const first = j.workers().find(me.id)!.leaseUntil;
    const faults: unknown[] = [];
    me.renewEvery((err) => faults.push(err));
    await new Promise((r) => setTimeout(r, 250));
    expect(j.workers().find(me.id)!.leaseUntil).toBeGreaterThan(first);
    expect(me.workers()).toBe(1);
    const other = joinAsWorker(reopenTestJournal(j), 'c', 'ums resume c --join', 30_000);
    await new Promise((r) => setTimeout(r, 150)); // a renewal counts the workers again
    expect(me.workers()).toBe(2);
    other.end();
    j.workers().remove(me.id); // its row gone (another process took it for dead)
    await new Promise((r) => setTimeout(r, 250));
    expect(String(faults[0])).toMatch(/lease of worker #\d+ is gone/);
    me.end();
    j.close();
  });

  it.runIf(testDialect === 'postgres')('pins a lane to one connection until it lets go', () => {
    const j = plannedJournal(1);
    const other = new WorkersJournal(secondConnection(j));
    const me = joinAsWorker(j, 'c', 'ums send', 30_000);
    expect(j.workers().tryPin('c', 'sms', 'sim')).toBe(true);
    expect(other.tryPin('c', 'sms', 'sim')).toBe(false);
    expect(other.tryPin('c', 'sms', 'nhn')).toBe(true); // another lane
    j.workers().unpin('c', 'sms', 'sim');
    expect(other.tryPin('c', 'sms', 'sim')).toBe(true);
    me.end();
    j.close();
  });
  it.runIf(testDialect === 'postgres')(
    "judges leases by the journal's clock: a host whose clock runs an hour ahead neither takes a live worker's rows nor stretches its own lease",
    async () => {
      const j = plannedJournal(2);
      const w = j.workers();
      const real = Date.now();
      const other = w.register({
        campaignId: 'c',
        host: 'h2',
        pid: 4343,
        command: 'ums resume --join',
        leaseUntil: real + 30_000,
        startedAt: new Date(real).toISOString(),
      });
      claimAs(j, other, 'sim', 1);
      vi.useFakeTimers({ toFake: ['Date'], now: real + 3600_000 });
      try {
        expect(Math.abs(w.clock() - real)).toBeLessThan(5000);
        const me = joinAsWorker(j, 'c', 'ums resume --join', 30_000);
        try {
          expect(Math.abs(w.find(me.id)!.leaseUntil - (real + 30_000))).toBeLessThan(5000);
          const stop = new AbortController();
          const held = me.pins.tryHold(lane('sim'), stop.signal);
          await new Promise((r) => setTimeout(r, 100));
          expect(rows(j).map((r) => r.status)).toEqual(['sending', 'planned']); // its lease still runs
          stop.abort();
          expect(await held).toBe(false);
        } finally {
          me.end();
        }
        // a plain run from this host still sees the other worker's lease running
        j.delivery().acquireLock('c', 4343, 'h2', 'ums resume --join', () => true);
        expect(() => lockCampaign(j, 'c', 'ums resume')).toThrow(/lease/);
      } finally {
        vi.useRealTimers();
        j.close();
      }
    },
  );
});
