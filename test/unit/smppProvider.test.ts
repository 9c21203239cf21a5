import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { createSmppProvider, type SmppProvider } from '../../src/providers/smpp/provider.js';
import type { OutboundMessage, ReportBatch } from '../../src/providers/types.js';
import { FakeSmsc, type FakeSmscOptions } from '../support/fakeSmsc.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(
  smscOpts: FakeSmscOptions = {},
  cfg: Record<string, unknown> = {},
): Promise<{ smsc: FakeSmsc; p: SmppProvider }> {
  const smsc = await FakeSmsc.start(smscOpts);
  cleanup.push(() => smsc.stop());
  const p = createSmppProvider(
    'carrier',
    {
      type: 'smpp',
      host: '127.0.0.1',
      port: smsc.port,
      systemId: 'ums',
      password: 'secret',
      tps: 0,
      requestTimeoutMs: 2000,
      unavailableAfterMs: 1000,
      ...cfg,
    },
    { stateDir: os.tmpdir() },
  ) as SmppProvider;
  cleanup.push(() => p.close());
  return { smsc, p };
}

const msg = (
  to: string,
  text = '주문하신 상품이 발송되었습니다.',
  channel: OutboundMessage['channel'] = 'sms',
): OutboundMessage => ({
  key: `c:${to}:0`,
  to,
  from: '0212345678',
  channel,
  subject: null,
  text,
  parts: 1,
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(5);
  }
}

describe('SMPP provider against a local SMSC', () => {
  it('binds as a 3.4 transceiver and sends a long Korean text as concatenated parts, one id per part', async () => {
    const { smsc, p } = await setup();
    const text = '고객님, 주문하신 상품이 오늘 발송되었습니다. 배송 조회는 링크를 눌러 주세요. '.repeat(6);
    const r = await p.submit([msg('01012345678', text, 'lms')]);
    expect(r.kind).toBe('results');
    const o = r.kind === 'results' ? r.outcomes[0]! : null;
    expect(o?.kind).toBe('accepted');
    const parts = p.countParts(msg('01012345678', text, 'lms'));
    expect(parts).toBeGreaterThan(2);
    expect(o?.kind === 'accepted' && o.partIds).toHaveLength(parts);
    expect(smsc.binds).toEqual([{ systemId: 'ums', interfaceVersion: 0x34, ok: true }]);
    expect(smsc.messages).toEqual([
      expect.objectContaining({ to: '01012345678', text, parts, dataCoding: 0x0e }),
    ]);
    expect(smsc.violations).toEqual([]);
  });

  it('writes TON/NPI as configured, international for +numbers, alphanumeric for a sender name', async () => {
    const { smsc, p } = await setup({}, { sourceTon: 2, sourceNpi: 8 });
    const r = await Promise.all([
      p.submit([msg('01012345678')]),
      p.submit([{ ...msg('+821012345679'), from: '+82212345678' }]),
      p.submit([{ ...msg('01012345670'), from: 'UMS Shop' }]),
    ]);
    for (const x of r) expect(x.kind).toBe('results');
    const by = new Map(smsc.arrivals.map((a) => [a.to, a]));
    expect(by.get('01012345678')).toMatchObject({
      source: [2, 8, '0212345678'],
      dest: [0, 1, '01012345678'],
    });
    expect(by.get('821012345679')).toMatchObject({
      source: [1, 1, '82212345678'],
      dest: [1, 1, '821012345679'],
    });
    expect(by.get('01012345670')).toMatchObject({ source: [5, 0, 'UMS Shop'], dest: [0, 1, '01012345670'] });
  });

  it('answers ESME_RTHROTTLED with a throttled outcome, nothing else', async () => {
    const { p } = await setup({ tps: 1 });
    const first = await p.submit([msg('01011110000')]);
    const second = await p.submit([msg('01022220000')]);
    expect(first.kind === 'results' && first.outcomes[0]!.kind).toBe('accepted');
    expect(second).toEqual({ kind: 'results', outcomes: [{ kind: 'throttled' }] });
  });

  it('fails permanent statuses with the SMPP code and name; 0x64 may be retried', async () => {
    const { p } = await setup({ refuse: { '01011110000': 0x0b, '01022220000': 0x64 } });
    expect(await p.submit([msg('01011110000')])).toEqual({
      kind: 'results',
      outcomes: [{ kind: 'rejected', code: '0x0000000B', message: 'ESME_RINVDSTADR', retryable: false }],
    });
    const temp = await p.submit([msg('01022220000')]);
    expect(temp.kind === 'results' && temp.outcomes[0]).toMatchObject({
      kind: 'rejected',
      code: '0x00000064',
      retryable: true,
    });
  });

  it('makes a request without an answer in time ambiguous, not failed', async () => {
    const { p } = await setup({ respondDelayMs: 600 }, { requestTimeoutMs: 150 });
    const r = await p.submit([msg('01011110000')]);
    expect(r.kind).toBe('ambiguous');
  });

  it('times each request out from its own write: one written later waits its full time, one held by the window is written when the first expires', async () => {
    const timeout = 300;
    const { p } = await setup({ respondDelayMs: 5000 }, { requestTimeoutMs: timeout, window: 2 });
    const t0 = performance.now();
    const at = (r: Promise<unknown>) => r.then((x) => ({ x, ms: performance.now() - t0 }));
    const a = at(p.submit([msg('01011110000')]));
    await sleep(200);
    const b = at(p.submit([msg('01022220000')]));
    const c = at(p.submit([msg('01033330000')])); // the window (2) holds it until a's expires
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    for (const r of [ra, rb, rc]) expect(r.x).toMatchObject({ kind: 'ambiguous' });
    // (lower bounds only: a loaded machine makes timers late, never early)
    expect(ra.ms).toBeGreaterThanOrEqual(timeout - 5);
    expect(rb.ms).toBeGreaterThanOrEqual(200 + timeout - 5); // not with a's
    expect(rc.ms).toBeGreaterThanOrEqual(2 * timeout - 5); // written when a's expired, then its own time
  });

  it('makes what was in flight ambiguous when the connection drops, and sends the rest after a rebind', async () => {
    const { smsc, p } = await setup({ respondDelayMs: 30, dropAfterSubmits: 3 }, { window: 5 });
    const batch = Array.from({ length: 20 }, (_, i) => msg(`0101111${String(i).padStart(4, '0')}`));
    const results = await Promise.all(batch.map((m) => p.submit([m])));
    const ambiguous = batch.filter((_, i) => results[i]!.kind === 'ambiguous').map((m) => m.to);
    const accepted = batch.filter((_, i) => results[i]!.kind === 'results').map((m) => m.to);
    expect(ambiguous.length).toBeGreaterThanOrEqual(3); // the 3 that reached the SMSC, and any written behind them
    expect(ambiguous.length).toBeLessThanOrEqual(5); // at most the window
    expect(accepted.length + ambiguous.length).toBe(20);
    expect(p.stats.binds).toBe(2);
    const got = smsc.received();
    for (const to of accepted) expect(got.get(to)).toHaveLength(1);
    for (const to of ambiguous) expect((got.get(to) ?? []).length).toBeLessThanOrEqual(1);
  });

  it('stops on refused credentials (fatal) without ever naming the password', async () => {
    const { p } = await setup({}, { password: 'hunter22' });
    const r = await p.submit([msg('01011110000')]);
    expect(r.kind).toBe('fatal');
    expect(r.kind === 'fatal' && r.message).toMatch(/0x0000000E ESME_RINVPASWD/);
    expect(JSON.stringify(r)).not.toContain('hunter22');
  });

  it('answers unavailable when no connection can be had (nothing left)', async () => {
    const { smsc, p } = await setup({}, { unavailableAfterMs: 300 });
    await smsc.stop();
    const t0 = Date.now();
    const r = await p.submit([msg('01011110000')]);
    expect(r.kind).toBe('unavailable');
    expect(r.kind === 'unavailable' && r.message).toMatch(/ECONNREFUSED/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('keeps the link alive with enquire_link, and rebinds when they go unanswered', async () => {
    const live = await setup({}, { enquireLinkMs: 40 });
    await live.p.submit([msg('01011110000')]);
    await until(() => live.smsc.enquireLinks >= 3);
    expect(live.p.stats.binds).toBe(1);
    const dead = await setup({ silentEnquireLink: true }, { enquireLinkMs: 40, requestTimeoutMs: 100 });
    await dead.p.submit([msg('01011110000')]);
    await until(() => dead.p.stats.binds >= 2);
  });

  it('answers a receipt only after the handler has committed it (ack), and 0x64 when storing failed', async () => {
    const { smsc, p } = await setup({ receipts: { delayMs: 5, styles: ['text-dec'] } });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batches: ReportBatch[] = [];
    p.subscribeReports(async (b) => {
      batches.push(b);
      await gate; // the journal's commit, slow
      await b.ack();
    });
    const r = await p.submit([msg('01011110000')]);
    const id = r.kind === 'results' && r.outcomes[0]!.kind === 'accepted' ? r.outcomes[0]!.providerId : '?';
    await until(() => batches.length === 1);
    expect(batches[0]!.reports).toEqual([
      expect.objectContaining({ providerId: id, status: 'delivered', to: '01011110000' }),
    ]);
    await sleep(50);
    expect(smsc.receiptAnswers).toEqual([]);
    release();
    await until(() => smsc.receiptAnswers.length === 1);
    expect(smsc.receiptAnswers[0]!.status).toBe(0);

    p.subscribeReports(async () => {
      throw new Error('disk full');
    });
    expect(await smsc.sendReceipt('id:99 stat:DELIVRD')).toBe(0x64);
  });

  it('stores MO messages through the inbound handler before answering; opt-out words add the sender', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-mo-'));
    const journal = Journal.open(path.join(dir, 'journal.db'));
    cleanup.push(async () => journal.close());
    const { smsc, p } = await setup();
    await p.submit([msg('01011110000')]);
    expect(await smsc.sendMo('01099998888', '수신거부')).toBe(0x64); // nobody stores it yet: the SMSC keeps it
    p.subscribeInbound(async (messages) => {
      journal.inbox().store(p.name, messages);
    });
    expect(await smsc.sendMo('821099998888', '수신 거부', 0x0e, 1)).toBe(0);
    expect(await smsc.sendMo('01077776666', 'STOP', 0x08)).toBe(0);
    expect(await smsc.sendMo('01055554444', '언제 도착하나요?', 0x08)).toBe(0);
    expect(
      journal
        .inbox()
        .list(10)
        .map((m) => [m.from, m.text, m.optedOut]),
    ).toEqual([
      ['01055554444', '언제 도착하나요?', false],
      ['01077776666', 'STOP', true],
      ['01099998888', '수신 거부', true],
    ]);
    expect(journal.optouts().has('01099998888')).toBe(true);
    expect(journal.optouts().has('01055554444')).toBe(false);
  });

  it('collects the receipts the SMSC kept when polled (report --sync), answering them on ack', async () => {
    const { smsc, p } = await setup();
    const polled = p.pollReports(200, 3000);
    while (smsc.binds.length === 0) await sleep(5);
    const answers = [
      smsc.sendReceipt('id:255 stat:DELIVRD', {}, '01011110000'),
      smsc.sendReceipt('id:256 stat:EXPIRED', {}, '01011110001'),
    ];
    const batch = await polled;
    expect(batch.reports.map((r) => [r.providerId, r.status, r.code])).toEqual([
      ['ff', 'delivered', 'DELIVRD'],
      ['100', 'failed', 'EXPIRED'],
    ]);
    await sleep(50);
    expect(smsc.receiptAnswers).toEqual([]); // nothing answered before ack
    await batch.ack();
    expect(await Promise.all(answers)).toEqual([0, 0]);
    expect((await p.pollReports(100)).reports).toEqual([]);
  });

  it('refuses channels SMPP cannot carry', async () => {
    const { p } = await setup();
    const r = await p.submit([msg('01011110000', 'hi', 'alimtalk')]);
    expect(r.kind === 'results' && r.outcomes[0]).toMatchObject({
      kind: 'rejected',
      code: 'channel',
      retryable: false,
    });
  });
});

describe('SMPP provider over several binds', () => {
  it('spreads messages over the binds, and a bind that drops hands the ones it had not written to another', async () => {
    const { smsc, p } = await setup(
      { systemIds: ['a', 'b'], respondDelayMs: 300 },
      { window: 1, binds: [{ systemId: 'a' }, { systemId: 'b' }] },
    );
    const batch = ['01011110001', '01011110002', '01011110003', '01011110004'].map((to) => msg(to));
    const results = batch.map((m) => p.submit([m]));
    await until(() => smsc.arrivals.length === 2); // one in flight on each bind, one waiting behind each
    const first = smsc.arrivals.map((a) => a.systemId).sort();
    expect(first).toEqual(['a', 'b']);
    const onA = smsc.arrivals.find((a) => a.systemId === 'a')!.to;
    smsc.kill('a');
    const settled = await Promise.all(results);
    const byTo = new Map(batch.map((m, i) => [m.to, settled[i]!]));
    expect(byTo.get(onA)!.kind).toBe('ambiguous'); // in flight on the bind that dropped: today's rule
    const others = batch.filter((m) => m.to !== onA);
    for (const m of others) expect(byTo.get(m.to)!.kind, m.to).toBe('results');
    // the one that waited on `a` went out on `b`, once; nobody twice
    const after = smsc.arrivals.slice(2);
    expect(after.every((a) => a.systemId === 'b')).toBe(true);
    expect(new Set(smsc.arrivals.map((a) => a.to)).size).toBe(4);
    expect(smsc.arrivals).toHaveLength(4);
    expect(p.tps).toBe(0);
    expect(p.window).toBe(2);
  });

  it("says wait while every bind's cap is full, so the lane claims nothing it could not write", async () => {
    const { smsc, p } = await setup({}, { tps: 3, binds: 2, window: 10 });
    expect(p.tps).toBe(6);
    // a wait until both binds are up, then room for the caps' 3 + 3
    for (let w = p.writable(); w; w = p.writable()) await w;
    expect(p.writable(6)).toBeNull();
    // more than the two caps hold: it may go alone into an empty window (else a long LMS waited for ever)
    expect(p.writable(7)).toBeNull();
    const first = ['01011110001', '01011110002', '01011110003', '01011110004', '01011110005'];
    const answers = await Promise.all(first.map((to) => p.submit([msg(to)])));
    expect(answers.every((a) => a.kind === 'results')).toBe(true);
    expect(p.writable(1)).toBeNull(); // one part of room is left, on one bind
    expect(p.writable(2)).not.toBeNull();
    await p.submit([msg('01011110006')]);
    const wait = p.writable(1);
    expect(wait).not.toBeNull(); // both caps full: nothing may be claimed now
    const t0 = Date.now();
    for (let w = wait; w; w = p.writable(1)) await w;
    expect(Date.now() - t0).toBeGreaterThan(500); // until the caps' second has passed
    expect(smsc.arrivals).toHaveLength(6);
  });

  it('a bind the SMSC refuses does not hold back a message with more parts than the other bind’s window', async () => {
    const { smsc, p } = await setup(
      { systemIds: ['a'] },
      { window: 1, binds: [{ systemId: 'a' }, { systemId: 'nope' }] },
    );
    // resolves once `a` is up and `nope` refused: before, it waited for ever (room 1 of a window of 2)
    for (let w = p.writable(2); w; w = p.writable(2)) await w;
    const long = '주문하신 상품이 발송되었습니다. '.repeat(8); // several parts
    const r = await p.submit([msg('01011110009', long)]);
    expect(r.kind).toBe('results');
    expect(smsc.binds.map((b) => `${b.systemId} ${b.ok}`).sort()).toEqual(['a true', 'nope false']);
  }, 10_000);

  it('binds: N takes the lane TPS as N times the per-bind tps', async () => {
    const { p } = await setup({}, { tps: 25, binds: 4, window: 3 });
    expect(p.tps).toBe(100);
    expect(p.window).toBe(12);
  });
});
