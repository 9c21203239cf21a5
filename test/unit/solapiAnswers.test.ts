import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryEngine, type EngineOptions } from '../../src/delivery/engine.js';
import { parseKey } from '../../src/journal/delivery.js';
import type { Journal } from '../../src/journal/journal.js';
import { createSolapiProvider, type SolapiProvider } from '../../src/providers/solapi/provider.js';
import { parseSolapiWebhook } from '../../src/providers/solapi/webhook.js';
import type { OutboundMessage } from '../../src/providers/types.js';
import { FakeSolapi, tinyJpeg } from '../support/fakeSolapi.js';
import { plannedJournal } from '../support/journal.js';

/**
 * What ums makes of Solapi answers it does not know (a proxy's `200 {}`, an API change) and of
 * requests that never left: never "not taken", never a resend storm; never "unknown" for a request
 * that was refused before any byte left. Against the fake Solapi over a real socket.
 */
const KEY = 'NCSTESTAPIKEY0002';
const SECRET = 'sEcReT-for-answer-tests-0123456789';

const fakes: FakeSolapi[] = [];
const providers: SolapiProvider[] = [];
const journals: Journal[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
  for (const j of journals.splice(0)) j.close();
});

async function fake(opts: Partial<ConstructorParameters<typeof FakeSolapi>[0]> = {}): Promise<FakeSolapi> {
  const f = await FakeSolapi.start({ apiKey: KEY, apiSecret: SECRET, reportDelayMs: 0, ...opts });
  fakes.push(f);
  return f;
}

const stateDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ums-answers-'));

function provider(baseUrl: string, dir = stateDir(), extra: Record<string, unknown> = {}): SolapiProvider {
  const p = createSolapiProvider(
    'solapi',
    { type: 'solapi', apiKey: KEY, apiSecret: SECRET, baseUrl, tps: 1000, timeoutMs: 2000, ...extra },
    { stateDir: dir, readKey: parseKey },
  ) as SolapiProvider;
  providers.push(p);
  return p;
}

function sms(row: number, over: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    key: `camp1:${row}:0`,
    to: `010${String(20000000 + row)}`,
    from: '0212345678',
    channel: 'sms',
    subject: null,
    text: `안내 ${row}`,
    parts: 1,
    ...over,
  };
}

function journal(rows: number): Journal {
  const j = plannedJournal(rows);
  journals.push(j);
  return j;
}

function engine(j: Journal, p: SolapiProvider, over: Partial<EngineOptions> = {}): DeliveryEngine {
  return new DeliveryEngine(j.delivery(), {
    campaignId: 'c',
    from: '0212345678',
    lanes: [{ channel: 'sms', provider: p, tps: 0, window: 2 }],
    resendUnknown: false,
    giveUpAfterMs: 60_000,
    reportWaitMs: 0,
    signal: new AbortController().signal,
    ...over,
  });
}

const rows = (j: Journal) => [...j.messages('c')];

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('Solapi answers of a shape ums does not know', () => {
  it('a send answered 200 with anything but the documented shape is ambiguous, never results', async () => {
    const answers: unknown[] = [
      {},
      { groupInfo: {} },
      { groupInfo: { groupId: 'G4V1' } },
      { groupInfo: { groupId: 'G4V1' }, failedMessageList: {} },
      {
        groupInfo: { groupId: 'G4V1' },
        failedMessageList: [{ to: '01020000001', statusCode: { code: 1061 } }],
      },
      {
        groupInfo: { groupId: 'G4V1' },
        failedMessageList: [],
        messageList: [{ messageId: 'M1', statusCode: 'OK' }],
      },
      [],
      'ok',
    ];
    let i = 0;
    const f = await fake({ sendAnswer: () => answers[i++] });
    const p = provider(f.url);
    for (const a of answers) {
      const r = await p.submit([sms(1)]);
      expect(r.kind, JSON.stringify(a)).toBe('ambiguous');
    }
  });

  it('a listing of a shape ums does not know makes a lookup throw ("cannot tell"), never an empty "not there"', async () => {
    const answers: unknown[] = [
      {},
      { messageList: [] },
      { messageList: null, nextKey: null },
      { messageList: {}, nextKey: 7 },
      // one listed message it cannot read (a date that is an object) may be ours
      {
        messageList: {
          M1: {
            messageId: 'M1',
            statusCode: '4000',
            customFields: { umsKey: 'camp1:1:0' },
            dateReceived: {},
          },
        },
        nextKey: null,
      },
    ];
    let i = 0;
    const f = await fake({ listAnswer: () => answers[i] });
    const dir = stateDir();
    const p = provider(f.url, dir);
    expect((await p.submit([sms(1)])).kind).toBe('results'); // it left: the request log knows
    for (; i < answers.length; i++)
      await expect(p.lookup(['camp1:1:0']), JSON.stringify(answers[i])).rejects.toThrow(
        /cannot tell|listing Solapi messages failed/,
      );
    // the documented empty listing is a definite "not there"
    f.options.listAnswer = () => ({ startKey: null, limit: 500, messageList: {}, nextKey: null });
    expect((await p.lookup(['camp1:2:0', 'camp1:1:0'])).size).toBe(0);
  });

  it('an upload answered 200 without a fileId is unavailable (tried again later), and nothing is sent', async () => {
    const f = await fake({ uploadAnswer: () => ({}) });
    const p = provider(f.url);
    const img = path.join(stateDir(), 'a.jpg');
    fs.writeFileSync(img, tinyJpeg());
    const mms = (row: number) => sms(row, { channel: 'mms', subject: '사진', images: [img] });
    expect((await p.submit([mms(1)])).kind).toBe('unavailable');
    expect(f.stats.sendRequests).toBe(0);
    f.options.uploadAnswer = () => undefined;
    expect((await p.submit([mms(2)])).kind).toBe('results');
  });
});

describe('submissions per message are capped across runs (maxSubmits, default 5)', () => {
  it('`200 {}` to every send while the listing says "not there": each message is submitted 5 times over three runs, then unknown with the reason', async () => {
    const stop = new AbortController();
    const f = await fake({
      sendAnswer: (n) => {
        if (n >= 2) stop.abort(); // the first run ends after its second request (both rows in each)
        return {};
      },
    });
    const dir = stateDir();
    const j = journal(2);
    const first = await engine(j, provider(f.url, dir), { signal: stop.signal }).run();
    expect(first.kind).toBe('interrupted');
    expect([...f.submissions.values()]).toEqual([2, 2]);
    expect(rows(j).map((m) => [m.status, m.attempts])).toEqual([
      ['planned', 2],
      ['planned', 2],
    ]);

    const second = await engine(j, provider(f.url, dir)).run();
    expect(second.kind).toBe('finished');
    expect([...f.submissions.values()]).toEqual([5, 5]);
    for (const m of rows(j)) {
      expect(m.status).toBe('unknown');
      expect(m.reason).toMatch(
        /^unknown: submitted 5 times without a definite answer \(last: Solapi answered 200 in a shape ums does not know/,
      );
    }
    const third = await engine(j, provider(f.url, dir)).run();
    expect(third.kind).toBe('finished');
    expect([...f.submissions.values()]).toEqual([5, 5]);
    expect(rows(j).every((m) => m.status === 'unknown')).toBe(true);
  }, 30_000);

  it("maxSubmits is the provider's setting, validated by its schema", async () => {
    const f = await fake({ sendAnswer: () => ({}) });
    const j = journal(1);
    expect((await engine(j, provider(f.url, stateDir(), { maxSubmits: 2 })).run()).kind).toBe('finished');
    expect([...f.submissions.values()]).toEqual([2]);
    expect(rows(j)[0]!.reason).toMatch(/submitted 2 times/);
    expect(() => provider(f.url, stateDir(), { maxSubmits: 0 })).toThrow(/^providers\.solapi\.maxSubmits: /);
    expect(() => provider(f.url, stateDir(), { maxSubmits: 'x' })).toThrow(
      /^providers\.solapi\.maxSubmits: /,
    );
  });

  it('throttles and 503s do not use up attempts', async () => {
    const f = await fake({ failSendsWith: 429 });
    const j = journal(1);
    let calls = 0;
    const stop = new AbortController();
    const p = provider(f.url);
    const submit = p.submit.bind(p);
    p.submit = async (batch) => {
      if (++calls === 5) f.options.failSendsWith = 503;
      if (calls === 8) f.options.failSendsWith = null;
      return submit(batch);
    };
    expect((await engine(j, p, { signal: stop.signal }).run()).kind).toBe('finished');
    expect(f.stats.sendRequests).toBe(8);
    expect(rows(j).map((m) => [m.status, m.attempts])).toEqual([['sent', 1]]);
  }, 30_000);

  it('`200 {}` to sends and to listings: unknown after one submission, never released, in this run or the next', async () => {
    const f = await fake({ sendAnswer: () => ({}), listAnswer: () => ({}) });
    const dir = stateDir();
    const j = journal(2);
    const first = await engine(j, provider(f.url, dir)).run();
    expect(first.kind).toBe('fault'); // could not be asked: `ums resume` once it answers
    expect([...f.submissions.values()]).toEqual([1, 1]);
    expect(rows(j).every((m) => m.status === 'unknown')).toBe(true);
    await engine(j, provider(f.url, dir)).run();
    expect([...f.submissions.values()]).toEqual([1, 1]);
    expect(rows(j).every((m) => m.status === 'unknown')).toBe(true);
  }, 60_000);
});

describe('a request refused before any byte left is not sent', () => {
  for (const [what, url] of [
    ['connection refused (a closed port)', async () => `http://127.0.0.1:${await closedPort()}`],
    ['a port fetch refuses to connect to', async () => 'http://127.0.0.1:1'],
  ] as const) {
    it(`${what}: rows stay planned with no attempt counted, and the run stops after giveUp, never unknown`, async () => {
      const j = journal(3);
      const p = provider(await url());
      const outcome = await engine(j, p, { giveUpAfterMs: 800 }).run();
      expect(outcome.kind).toBe('fault');
      expect(outcome.kind === 'fault' && outcome.message).toMatch(
        /has been unavailable for \d+ s \(cannot connect to 127\.0\.0\.1:\d+/,
      );
      expect(rows(j).map((m) => [m.status, m.attempts])).toEqual([
        ['planned', 0],
        ['planned', 0],
        ['planned', 0],
      ]);
    }, 20_000);
  }
});

describe('Solapi webhook bodies', () => {
  const good = (id: string, key: string) => ({
    messageId: id,
    statusCode: '4000',
    customFields: { umsKey: key },
    dateReceived: '2026-01-02T03:04:05.000Z',
  });
  it('refuses a malformed element alone and keeps the others', () => {
    const parsed = parseSolapiWebhook([
      good('M1', 'c:1:0'),
      { ...good('M2', 'c:2:0'), dateReceived: { $date: 1 } },
      { statusCode: '4000' },
      good('M4', 'c:4:0'),
    ]);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.reports.map((r) => r.providerId)).toEqual(['M1', 'M4']);
    expect(parsed.refused.map((r) => r.index)).toEqual([1, 2]);
    expect(parsed.refused[0]!.reason).toMatch(/^element 1: dateReceived: /);
    expect(parsed.refused[1]!.reason).toBe('element 2 has no messageId');
  });
  it('refuses a body with no element it can read as a whole', () => {
    expect(parseSolapiWebhook([{ groupId: 'G4V1', count: { total: 1 } }])).toMatchObject({ ok: false });
    expect(parseSolapiWebhook([{ ...good('M1', 'c:1:0'), dateReceived: 5 }])).toMatchObject({ ok: false });
  });
});
