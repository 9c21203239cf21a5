/**
 * The NHN provider against the fake NHN server over a real socket (test/support/fakeNhn.ts):
 * SMS/LMS/ad endpoints, AlimTalk with ums's own fallback (never NHN's), 3005, the idempotency key,
 * both all-failed answer shapes, a blocked channel, a wrong secret, and the webhook parser.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { messageKey } from '../../src/journal/delivery.js';
import { parseNhnWebhook, signatureMatches } from '../../src/providers/nhn/webhook.js';
import { createProvider } from '../../src/providers/registry.js';
import type { OutboundMessage, Provider, SubmitResult } from '../../src/providers/types.js';
import { FakeNhn, type FakeNhnOptions } from '../support/fakeNhn.js';
import { plannedJournal } from '../support/journal.js';

const APP = 'nhnTestApp';
const SECRET = 'nhn-test-secret-Vb72';
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function rig(
  opts: Partial<FakeNhnOptions> = {},
  secret = SECRET,
  reuse?: { fake: FakeNhn; dir: string },
): Promise<{ fake: FakeNhn; provider: Provider; dir: string }> {
  const fake = reuse?.fake ?? (await FakeNhn.start({ appKey: APP, secretKey: SECRET, ...opts }));
  if (!reuse) cleanup.push(() => fake.close());
  const dir = reuse?.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ums-nhn-'));
  const provider = await createProvider(
    'nhn',
    {
      type: 'nhn',
      appKey: APP,
      secretKey: secret,
      senderKey: 'sender-key-40',
      baseUrl: fake.url,
      alimtalkBaseUrl: fake.url,
      timeoutMs: 3000,
    },
    { stateDir: dir },
  );
  cleanup.push(() => provider.close());
  return { fake, provider, dir };
}

const sms = (row: number, to: string, over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  key: messageKey('c', row, 0),
  to,
  from: '0212345678',
  channel: 'sms',
  subject: null,
  text: '배송이 시작되었습니다.',
  parts: 1,
  ...over,
});

const alimtalk = (row: number, to: string): OutboundMessage => ({
  ...sms(row, to),
  channel: 'alimtalk',
  text: '홍길동님, 주문이 접수되었습니다.',
  kakao: {
    pfId: '',
    templateId: 'ORDER01',
    variables: { '#{name}': '홍길동' },
    buttons: [],
    disableSms: true,
  },
});

const kinds = (r: SubmitResult): string[] =>
  r.kind === 'results'
    ? r.outcomes.map((o) => (o.kind === 'rejected' ? `rejected:${o.code}` : o.kind))
    : [r.kind];

describe('NHN SMS v3.0', () => {
  it('SMS to /sender/sms, LMS (with title) to /sender/mms, ads to /sender/ad-*; the key rides in recipientGroupingKey', async () => {
    const { fake, provider } = await rig();
    const r = await provider.submit([
      sms(1, '01020000001'),
      sms(2, '01020000002', { channel: 'lms', subject: '안내', text: '긴 안내문'.repeat(20) }),
      sms(3, '01020000003', { text: '(광고) 할인 안내 무료수신거부 0801234567' }),
    ]);
    expect(kinds(r)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(fake.requests.map((q) => q.path.split('/').pop())).toEqual(['sms', 'mms', 'ad-sms']);
    expect(fake.byKey('c:2:0')?.title).toBe('안내');
    expect(fake.records.map((x) => x.recipientGroupingKey).sort()).toEqual(['c:1:0', 'c:2:0', 'c:3:0']);
  });

  it('a lost answer is resolved by the send-list search by grouping key: found, never sent twice', async () => {
    const { fake, provider } = await rig({ dropAnswer: (n) => n === 1 });
    const m = sms(1, '01020000001');
    expect((await provider.submit([m])).kind).toBe('ambiguous');
    const found = await provider.lookup!([m.key, 'c:9:0']);
    const rec = fake.byKey(m.key)!;
    expect(found.get(m.key)).toEqual({ providerId: `${rec.requestId}:${rec.recipientSeq}` });
    expect(found.has('c:9:0')).toBe(false);
    expect(fake.records).toHaveLength(1);
  });

  it('a wrong secret is fatal and nothing is taken', async () => {
    const { fake, provider } = await rig({}, 'wrong-secret-Zz');
    const r = await provider.submit([sms(1, '01020000001')]);
    expect(r.kind).toBe('fatal');
    expect(JSON.stringify(r)).not.toContain('wrong-secret-Zz');
    expect(fake.records).toHaveLength(0);
  });
});

describe('NHN AlimTalk v2.3', () => {
  it('every recipient carries resendParameter.isResend false, so NHN never falls back by itself', async () => {
    const { fake, provider } = await rig();
    const r = await provider.submit([alimtalk(1, '01000003019'), alimtalk(2, '01020000002')]);
    expect(kinds(r)).toEqual(['accepted', 'accepted']);
    const body = fake.requests[0]!.body as {
      recipientList: { resendParameter: unknown; templateParameter: unknown }[];
    };
    for (const x of body.recipientList) expect(x.resendParameter).toEqual({ isResend: false });
    expect(body.recipientList[0]!.templateParameter).toEqual({ name: '홍길동' });
    expect(fake.vendorFallbacks).toEqual([]);
  });

  it('the idempotency key is the same on every retry of a batch; -1005 is looked up, never resent', async () => {
    const { fake, provider } = await rig({ dropAnswer: (n) => n === 1 });
    const batch = [alimtalk(1, '01020000001'), alimtalk(2, '01020000002')];
    expect((await provider.submit(batch)).kind).toBe('ambiguous');
    const again = await provider.submit(batch); // the same batch again within 10 minutes
    expect(again.kind).toBe('ambiguous');
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[0]!.idempotencyKey).toMatch(/^ums-[0-9a-f]{40}$/);
    expect(fake.requests[1]!.idempotencyKey).toBe(fake.requests[0]!.idempotencyKey);
    expect(fake.records).toHaveLength(2); // the repeat took nothing
    const found = await provider.lookup!(batch.map((m) => m.key));
    expect([...found.keys()].sort()).toEqual(['c:1:0', 'c:2:0']);
  });

  it('a batch NHN refused whole (key consumed) is sent again within 10 minutes with a new key, once', async () => {
    const { fake, provider } = await rig({ refuse: (n) => (n === 1 ? -2021 : null) });
    const batch = [alimtalk(1, '01020000001'), alimtalk(2, '01020000002')];
    expect(kinds(await provider.submit(batch))).toEqual(['rejected:-2021', 'rejected:-2021']);
    // the engine resends a retryable refusal: a new request, so a new key, not -1005
    expect(kinds(await provider.submit(batch))).toEqual(['accepted', 'accepted']);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]!.idempotencyKey).not.toBe(fake.requests[0]!.idempotencyKey);
    expect(fake.records.map((r) => r.recipientNo).sort()).toEqual(['01020000001', '01020000002']);
  });

  it('after a blocked channel (1021) stopped the run, `resume` within 10 minutes sends with a new key (state kept across runs)', async () => {
    let blocked = true;
    const first = await rig({ refuse: () => (blocked ? 1021 : null) });
    const batch = [alimtalk(1, '01020000001'), alimtalk(2, '01020000002')];
    const r = await first.provider.submit(batch);
    expect(r.kind === 'results' && r.outcomes.every((o) => o.kind === 'rejected' && o.stopsRun)).toBe(true);
    await first.provider.close();
    blocked = false; // fixed in the console; `ums resume` is a new process on the same state folder
    const second = await rig({}, SECRET, first);
    expect(kinds(await second.provider.submit(batch))).toEqual(['accepted', 'accepted']);
    expect(first.fake.records).toHaveLength(2);
  });

  it('an ambiguous answer keeps the key for every retry, in this run or the next: -1005, look-up, no duplicate', async () => {
    const first = await rig({ refuse: (n) => (n === 1 ? -2021 : null), dropAnswer: (n) => n === 2 });
    const { fake } = first;
    const batch = [alimtalk(1, '01020000001'), alimtalk(2, '01020000002')];
    expect(kinds(await first.provider.submit(batch))).toEqual(['rejected:-2021', 'rejected:-2021']);
    expect((await first.provider.submit(batch)).kind).toBe('ambiguous'); // taken, answer lost
    await first.provider.close();
    const second = await rig({}, SECRET, first); // a crash, then `ums resume`
    expect((await second.provider.submit(batch)).kind).toBe('ambiguous'); // -1005
    expect(fake.requests.map((q) => q.idempotencyKey)).toEqual([
      fake.requests[0]!.idempotencyKey,
      fake.requests[1]!.idempotencyKey,
      fake.requests[1]!.idempotencyKey,
    ]);
    expect(fake.requests[1]!.idempotencyKey).not.toBe(fake.requests[0]!.idempotencyKey);
    const found = await second.provider.lookup!(batch.map((m) => m.key));
    expect([...found.keys()].sort()).toEqual(['c:1:0', 'c:2:0']);
    expect(fake.records).toHaveLength(2);
  });

  it('fallback: 3019/3020 fail (their leg goes, once, from ums), 3005 and 1000 are delivered (no leg); NHN sends none', async () => {
    const tos = ['01020000001', '01000003019', '01000003020', '01000003005'];
    const journal = plannedJournal(tos.length, (i) => ({
      to: tos[i]!,
      channel: 'alimtalk',
      body: '홍길동님, 주문이 접수되었습니다.',
      fallback: {
        row: i + 1,
        to: tos[i]!,
        channel: 'sms',
        status: 'held',
        reason: null,
        parts: 1,
        bytes: 10,
        subject: null,
        body: '주문 접수 안내',
        cost: 13,
        leg: 1,
        vars: null,
        rcsKind: null,
        deferrable: false,
      },
    }));
    cleanup.push(() => journal.close());
    const { fake, provider } = await rig();
    const d = journal.delivery();
    const legs0 = d.claim(d.nextPlanned('c', 'alimtalk', 0, 100), 'nhn');
    const r = await provider.submit(legs0.map((m) => alimtalk(m.row, m.to)));
    expect(r.kind).toBe('results');
    d.settle(
      legs0.map((m, i) => ({
        id: m.id,
        kind: 'sent' as const,
        providerId: (r as { outcomes: { providerId: string }[] }).outcomes[i]!.providerId,
        at: new Date().toISOString(),
      })),
    );
    const batch = await provider.pollReports!();
    d.applyReports('nhn', batch.reports);
    await batch.ack();
    const byRow = new Map([...journal.messages('c')].map((m) => [`${m.row}:${m.leg}`, m.status]));
    expect(byRow.get('1:0')).toBe('delivered');
    expect(byRow.get('4:0')).toBe('delivered'); // 3005: sent, receipt unconfirmed
    expect(byRow.get('2:0')).toBe('failed');
    expect(byRow.get('3:0')).toBe('failed');
    expect([byRow.get('1:1'), byRow.get('4:1')]).toEqual(['skipped', 'skipped']);
    expect([byRow.get('2:1'), byRow.get('3:1')]).toEqual(['planned', 'planned']);
    // ums sends the released legs: each such number gets exactly one SMS, from ums
    const legs1 = d.claim(d.nextPlanned('c', 'sms', 0, 100), 'nhn');
    expect(legs1.map((m) => m.to).sort()).toEqual(['01000003019', '01000003020']);
    const r2 = await provider.submit(legs1.map((m) => sms(m.row, m.to, { key: messageKey('c', m.row, 1) })));
    expect(kinds(r2)).toEqual(['accepted', 'accepted']);
    const smsTo = fake.accepted('sms').map((x) => x.recipientNo);
    expect(smsTo.sort()).toEqual(['01000003019', '01000003020']);
    expect(fake.vendorFallbacks).toEqual([]);
  });

  it('the fake catches a client that leaves NHN fallback on', async () => {
    const fake = await FakeNhn.start({ appKey: APP, secretKey: SECRET });
    cleanup.push(() => fake.close());
    await fetch(`${fake.url}/alimtalk/v2.3/appkeys/${APP}/messages`, {
      method: 'POST',
      headers: { 'X-Secret-Key': SECRET, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        senderKey: 's',
        templateCode: 't',
        recipientList: [{ recipientNo: '01000003019' }],
      }),
    }).then((r) => r.text());
    expect(fake.vendorFallbacks.map((v) => v.recipientNo)).toEqual(['01000003019']);
  });

  for (const legacy of [false, true]) {
    it(`a blocked channel (1021) stops the run without failing rows (${legacy ? 'old success shape' : 'requestId null'})`, async () => {
      const { fake, provider } = await rig({ legacyAllFailed: legacy });
      const r = await provider.submit([alimtalk(1, '01000001021'), alimtalk(2, '01000001021')]);
      expect(r.kind).toBe('results');
      const outs = (r as { outcomes: { kind: string; stopsRun?: string }[] }).outcomes;
      for (const o of outs) {
        expect(o.kind).toBe('rejected');
        expect(o.stopsRun).toMatch(/channel/);
      }
      expect(fake.records).toHaveLength(0);
    });
  }

  it('an all-failed answer (requestId null) gives each recipient its own refusal, none accepted', async () => {
    const { provider } = await rig({ outcomes: { '01099990001': { intake: -3010 } } });
    const r = await provider.submit([alimtalk(1, '01099990001')]);
    expect(kinds(r)).toEqual(['rejected:-3010']);
  });
});

describe('NHN webhooks', () => {
  it('compares the static signature in constant time and reads results and opt-outs', async () => {
    expect(signatureMatches('sig-1', 'sig-1')).toBe(true);
    expect(signatureMatches('sig-2', 'sig-1')).toBe(false);
    expect(signatureMatches(undefined, 'sig-1')).toBe(false);
    expect(signatureMatches('', '')).toBe(false);
    const fake = await FakeNhn.start({ appKey: APP, secretKey: SECRET });
    cleanup.push(() => fake.close());
    const seen: { sig: unknown; body: unknown }[] = [];
    const http = await import('node:http');
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          sig: req.headers['x-toast-webhook-signature'],
          body: JSON.parse(Buffer.concat(chunks).toString()),
        });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    const { provider } = await rig();
    void provider;
    await fake.postWebhook(url, 'MESSAGE_RESULT_UPDATE', [
      {
        requestId: 'R1',
        recipientSeq: 1,
        resultCode: '3019',
        recipientNo: '01000003019',
        recipientGroupingKey: 'c:1:0',
        kakaoMessageType: 'ALIMTALK_NORMAL',
      },
      {
        requestId: 'R1',
        recipientSeq: 2,
        resultCode: '3005',
        recipientNo: '01000003005',
        kakaoMessageType: 'ALIMTALK_NORMAL',
      },
    ]);
    await fake.postWebhook(url, 'UNSUBSCRIBE', [{ recipientNo: '01012341234', unsubscribeNo: '0801234567' }]);
    expect(signatureMatches(seen[0]!.sig as string, fake.opts.webhookSignature)).toBe(true);
    const a = parseNhnWebhook(seen[0]!.body);
    expect(a.ok && a.reports.map((r) => [r.key, r.providerId, r.status])).toEqual([
      ['c:1:0', 'R1:1', 'failed'],
      [null, 'R1:2', 'delivered'],
    ]);
    const b = parseNhnWebhook(seen[1]!.body);
    expect(b.ok && b.optOuts).toEqual(['01012341234']);
    expect(parseNhnWebhook([1, 2]).ok).toBe(false);
  });
});
