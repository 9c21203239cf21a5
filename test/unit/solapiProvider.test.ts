import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readImageInfo } from '../../src/input/imageInfo.js';
import { parseKey } from '../../src/journal/delivery.js';
import { authorizationHeader } from '../../src/providers/solapi/auth.js';
import { createSolapiProvider, type SolapiProvider } from '../../src/providers/solapi/provider.js';
import type { DeliveryReport, OutboundMessage, RcsOptions, SubmitResult } from '../../src/providers/types.js';
import { FakeSolapi, tinyJpeg } from '../support/fakeSolapi.js';

const KEY = 'NCSTESTAPIKEY0001';
const SECRET = 'sEcReT-for-tests-only-0123456789';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const fakes: FakeSolapi[] = [];
const providers: SolapiProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fake(opts: Partial<ConstructorParameters<typeof FakeSolapi>[0]> = {}): Promise<FakeSolapi> {
  const f = await FakeSolapi.start({ apiKey: KEY, apiSecret: SECRET, reportDelayMs: 0, ...opts });
  fakes.push(f);
  return f;
}

function provider(baseUrl: string, stateDir: string, extra: Record<string, unknown> = {}): SolapiProvider {
  const p = createSolapiProvider(
    'solapi',
    { type: 'solapi', apiKey: KEY, apiSecret: SECRET, baseUrl, tps: 100, timeoutMs: 2000, ...extra },
    { stateDir, readKey: parseKey },
  ) as SolapiProvider;
  providers.push(p);
  return p;
}

const stateDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ums-solapi-'));

function sms(
  row: number,
  to = `010${String(20000000 + row)}`,
  over: Partial<OutboundMessage> = {},
): OutboundMessage {
  return {
    key: `camp1:${row}:0`,
    to,
    from: '0212345678',
    channel: 'sms',
    subject: null,
    text: `안녕하세요 ${row}번 고객님`,
    parts: 1,
    ...over,
  };
}

function outcomes(r: SubmitResult) {
  if (r.kind !== 'results')
    throw new Error(`expected results, got ${r.kind}: ${'message' in r ? r.message : ''}`);
  return r.outcomes;
}

async function drain(p: SolapiProvider): Promise<DeliveryReport[]> {
  const all: DeliveryReport[] = [];
  for (;;) {
    const b = await p.pollReports();
    if (!b.reports.length) return all;
    all.push(...b.reports);
    await b.ack();
  }
}

describe('solapi provider against the fake Solapi server', () => {
  it('sends SMS and LMS with the type decided, autoTypeDetect false and the journal key in customFields', async () => {
    const f = await fake();
    const p = provider(f.url, stateDir());
    const batch = [
      sms(1),
      sms(2, '01020000002', {
        channel: 'lms',
        subject: '주문 안내',
        text: '긴 안내문 '.repeat(20),
        parts: 1,
      }),
      sms(3, '01000001061'),
      sms(4, '01000001062'),
    ];
    const o = outcomes(await p.submit(batch));
    expect(o[0]).toMatchObject({ kind: 'accepted' });
    expect(o[1]).toMatchObject({ kind: 'accepted' });
    expect(o[2]).toMatchObject({ kind: 'rejected', code: '1061', retryable: false, optedOut: true });
    expect(o[3]).toMatchObject({ kind: 'rejected', code: '1062', retryable: false });
    const byKey = new Map(f.messages.map((m) => [m.customFields.umsKey, m]));
    expect(byKey.get('camp1:1:0')).toMatchObject({
      type: 'SMS',
      autoTypeDetect: false,
      subject: null,
      from: '0212345678',
      to: '01020000001',
    });
    expect(byKey.get('camp1:2:0')).toMatchObject({ type: 'LMS', subject: '주문 안내' });
    expect(o[0]!.kind === 'accepted' && o[0]!.providerId).toBe(byKey.get('camp1:1:0')!.messageId);
  });

  it('uploads an MMS image once per campaign, across batches, concurrent sends and a restart', async () => {
    const f = await fake();
    const dir = stateDir();
    const img = path.join(dir, 'promo.jpg');
    fs.writeFileSync(img, tinyJpeg());
    expect(readImageInfo(fs.readFileSync(img))).toEqual({ format: 'jpeg', width: 8, height: 8 });
    const mms = (row: number, campaign = 'camp1'): OutboundMessage => ({
      ...sms(row),
      key: `${campaign}:${row}:0`,
      channel: 'mms',
      subject: '사진',
      images: [img],
    });
    const p = provider(f.url, dir);
    const [a, b] = await Promise.all([p.submit([mms(1), mms(2)]), p.submit([mms(3)])]);
    expect([...outcomes(a), ...outcomes(b)].every((o) => o.kind === 'accepted')).toBe(true);
    await p.close();
    providers.pop();
    const again = provider(f.url, dir); // a resumed run: same state folder
    expect(outcomes(await again.submit([mms(4)]))[0]).toMatchObject({ kind: 'accepted' });
    expect(f.stats.uploads).toBe(1);
    const fileId = [...f.files.keys()][0]!;
    expect(f.messages.map((m) => m.imageId)).toEqual([fileId, fileId, fileId, fileId]);
    expect(f.files.get(fileId)).toMatchObject({ name: 'promo.jpg', bytes: tinyJpeg().length });
    // another campaign uploads its own copy
    expect(outcomes(await again.submit([mms(1, 'camp2')]))[0]).toMatchObject({ kind: 'accepted' });
    expect(f.stats.uploads).toBe(2);
  });

  it('refuses an MMS without its image as a fault, before anything is sent', async () => {
    const f = await fake();
    const p = provider(f.url, stateDir());
    const r = await p.submit([sms(1), { ...sms(2), channel: 'mms', subject: 'x' }]);
    expect(r.kind).toBe('fatal');
    expect(f.stats.sendRequests).toBe(0);
  });

  it('sends AlimTalk (ATA) with kakaoOptions and RCS with rcsOptions', async () => {
    const f = await fake();
    const p = provider(f.url, stateDir());
    const ata: OutboundMessage = {
      ...sms(1),
      channel: 'alimtalk',
      text: '홍길동님, 주문하신 상품이 발송되었습니다.',
      kakao: {
        pfId: 'KA01PF200323182344986oTFz9CIabcx',
        templateId: 'KA01TP200323182345741y9yF20aabcx',
        variables: { '#{name}': '홍길동', item: '우산' },
        buttons: [{ type: 'WL', name: '주문 조회', linkMo: 'https://example.com/o/1' }],
        disableSms: true,
      },
    };
    const ataNoFrom: OutboundMessage = { ...ata, key: 'camp1:2:0', to: '01020000002', from: null };
    const rcs: OutboundMessage = {
      ...sms(3),
      from: '15441234',
      channel: 'rcs',
      text: '배송이 시작되었습니다',
      rcs: {
        brandId: 'BR.abc123',
        kind: 'sms',
        templateId: null,
        variables: {},
        buttons: [],
        disableSms: false,
        commercial: false,
      },
    };
    const rcsTpl: OutboundMessage = {
      ...rcs,
      key: 'camp1:4:0',
      to: '01020000004',
      rcs: { ...rcs.rcs!, kind: 'text_template', templateId: 'UBR.tpl-1', variables: { code: '1234' } },
    };
    const o = outcomes(await p.submit([ata, ataNoFrom, rcs, rcsTpl]));
    expect(o.map((x) => x.kind)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    const [m1, m2, m3, m4] = f.messages;
    expect(m1).toMatchObject({ type: 'ATA', text: ata.text });
    expect(m1!.kakaoOptions).toEqual({
      pfId: 'KA01PF200323182344986oTFz9CIabcx',
      templateId: 'KA01TP200323182345741y9yF20aabcx',
      variables: { '#{name}': '홍길동', '#{item}': '우산' },
      buttons: [{ buttonType: 'WL', buttonName: '주문 조회', linkMo: 'https://example.com/o/1' }],
      disableSms: true,
    });
    expect(m2!.from).toBeNull();
    expect(m3).toMatchObject({
      type: 'RCS_SMS',
      from: '15441234',
      rcsOptions: { brandId: 'BR.abc123', disableSms: false },
    });
    expect(m4).toMatchObject({
      type: 'RCS_TPL',
      rcsOptions: { brandId: 'BR.abc123', templateId: 'UBR.tpl-1', variables: { '#{code}': '1234' } },
    });
  });

  it('sends each planned RCS kind as its Solapi type; an RCS MMS image is uploaded as type RCS, apart from the MMS upload of the same file', async () => {
    const f = await fake();
    const dir = stateDir();
    const img = path.join(dir, 'card.jpg');
    fs.writeFileSync(img, tinyJpeg());
    const p = provider(f.url, dir);
    const rcs = (
      row: number,
      kind: RcsOptions['kind'],
      over: Partial<OutboundMessage> = {},
      opts: Partial<RcsOptions> = {},
    ): OutboundMessage =>
      sms(row, undefined, {
        channel: 'rcs',
        from: '15441234',
        text: '#{name}님 안내',
        rcs: {
          brandId: 'BR.abc123',
          kind,
          templateId: null,
          variables: { name: '홍길동' },
          buttons: [],
          disableSms: true,
          commercial: false,
          ...opts,
        },
        ...over,
      });
    const batch = [
      rcs(1, 'sms'),
      rcs(2, 'lms', { subject: '주문 안내' }),
      rcs(3, 'mms', { subject: '새 상품', images: [img] }, { commercial: true }),
      rcs(4, 'text_template', {}, { templateId: 'UBR.tpl-text' }),
      rcs(5, 'image_template', {}, { templateId: 'UBR.tpl-image' }),
      sms(6, undefined, { channel: 'mms', subject: '사진', images: [img] }),
    ];
    expect(outcomes(await p.submit(batch)).map((o) => o.kind)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'accepted',
      'accepted',
      'accepted',
    ]);
    const byKey = new Map(f.messages.map((m) => [m.customFields.umsKey, m]));
    const type = (row: number) => byKey.get(`camp1:${row}:0`)!;
    expect([1, 2, 3, 4, 5, 6].map((r) => type(r).type)).toEqual([
      'RCS_SMS',
      'RCS_LMS',
      'RCS_MMS',
      'RCS_TPL',
      'RCS_ITPL',
      'MMS',
    ]);
    expect(type(1)).toMatchObject({
      subject: null,
      imageId: null,
      rcsOptions: { brandId: 'BR.abc123', disableSms: true },
    });
    expect(type(1).rcsOptions).not.toHaveProperty('variables'); // ums rendered the text: only templates take variables
    expect(type(2)).toMatchObject({ subject: '주문 안내', imageId: null });
    expect(type(3)).toMatchObject({
      subject: '새 상품',
      rcsOptions: { brandId: 'BR.abc123', commercialType: true },
    });
    expect(type(4).rcsOptions).toEqual({
      brandId: 'BR.abc123',
      templateId: 'UBR.tpl-text',
      variables: { '#{name}': '홍길동' },
      disableSms: true,
    });
    expect(type(5).rcsOptions).toMatchObject({
      templateId: 'UBR.tpl-image',
      variables: { '#{name}': '홍길동' },
    });
    // one file, two uploads: as RCS for the RCS MMS, as MMS for the MMS
    expect(f.stats.uploads).toBe(2);
    expect(f.files.get(type(3).imageId!)).toMatchObject({ type: 'RCS', name: 'card.jpg' });
    expect(f.files.get(type(6).imageId!)).toMatchObject({ type: 'MMS', name: 'card.jpg' });
    // both stay cached: another batch uploads nothing
    expect(outcomes(await p.submit([rcs(7, 'mms', { images: [img] })]))[0]).toMatchObject({
      kind: 'accepted',
    });
    expect(f.stats.uploads).toBe(2);
  });

  it('refuses an RCS message without its planned kind, or an RCS MMS without its image, before anything is sent', async () => {
    const f = await fake();
    const p = provider(f.url, stateDir());
    const base = sms(1, undefined, { channel: 'rcs', from: '15441234' });
    const opts: RcsOptions = {
      brandId: 'BR.abc123',
      kind: 'mms',
      templateId: null,
      variables: {},
      buttons: [],
      disableSms: true,
      commercial: false,
    };
    const noImage = await p.submit([{ ...base, rcs: opts }]);
    expect(noImage).toMatchObject({
      kind: 'fatal',
      message: expect.stringMatching(/RCS MMS row without an image/),
    });
    const noKind = await p.submit([
      { ...base, rcs: { ...opts, kind: undefined as unknown as RcsOptions['kind'] } },
    ]);
    expect(noKind).toMatchObject({
      kind: 'fatal',
      message: expect.stringMatching(/without its planned kind/),
    });
    expect(f.stats.sendRequests).toBe(0);
  });

  it('stops on a wrong secret (fatal, credentials never in the message) and sends nothing', async () => {
    const f = await fake();
    const p = createSolapiProvider(
      'solapi',
      { type: 'solapi', apiKey: KEY, apiSecret: 'wrong-secret-xyz', baseUrl: f.url },
      { stateDir: stateDir() },
    );
    providers.push(p as SolapiProvider);
    const r = await p.submit([sms(1)]);
    expect(r.kind).toBe('fatal');
    expect(r.kind === 'fatal' && r.message).toMatch(/SignatureDoesNotMatch/);
    expect(JSON.stringify(r)).not.toContain('wrong-secret-xyz');
    expect(JSON.stringify(r)).not.toContain(KEY);
    expect(f.messages).toHaveLength(0);
    expect(f.stats.authFailures).toEqual(['SignatureDoesNotMatch']);
  });

  it('the fake refuses a reused signature and a skewed date; the provider signs afresh and learns the server clock', async () => {
    const f = await fake();
    const header = authorizationHeader(KEY, SECRET);
    const first = await fetch(`${f.url}/messages/v4/list?limit=1`, { headers: { Authorization: header } });
    const second = await fetch(`${f.url}/messages/v4/list?limit=1`, { headers: { Authorization: header } });
    expect(first.status).toBe(200);
    expect(second.status).toBe(403);
    expect(((await second.json()) as { errorCode: string }).errorCode).toBe('DuplicatedSignature');

    f.options.clockOffsetMs = 20 * 60_000; // the server's clock is 20 minutes ahead
    const fresh = provider(f.url, stateDir());
    const r1 = await fresh.submit([sms(1)]);
    expect(r1.kind).toBe('unavailable'); // RequestTimeTooSkewed: retryable, not fatal
    expect(f.stats.authFailures).toContain('RequestTimeTooSkewed');
    const r2 = await fresh.submit([sms(1)]);
    expect(outcomes(r2)[0]).toMatchObject({ kind: 'accepted' });
    expect(f.accepted()).toHaveLength(1);
  });

  it('maps 429 to throttled, 503 and a refused connection to unavailable', async () => {
    const f = await fake({ tps: 2 });
    const p = provider(f.url, stateDir());
    expect(outcomes(await p.submit([sms(1), sms(2)])).every((o) => o.kind === 'accepted')).toBe(true);
    expect((await p.submit([sms(3)])).kind).toBe('throttled');
    f.options.tps = 0;
    f.options.failSendsWith = 503;
    expect((await p.submit([sms(3)])).kind).toBe('unavailable');
    // a port nobody listens on
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const gone = provider(`http://127.0.0.1:${port}`, stateDir());
    const r = await gone.submit([sms(4)]);
    expect(r.kind).toBe('unavailable');
    expect(r.kind === 'unavailable' && r.message).toMatch(/ECONNREFUSED/);
  });

  it('a dropped or hung answer is ambiguous; lookup finds exactly what Solapi took, also after a restart', async () => {
    const f = await fake({ dropAnswer: (n) => n === 2, hangAnswer: (n) => n === 3 });
    const dir = stateDir();
    const p = provider(f.url, dir, { timeoutMs: 400 });
    expect(outcomes(await p.submit([sms(1), sms(2, '01000001061')]))[0]).toMatchObject({ kind: 'accepted' });
    const dropped = await p.submit([sms(3), sms(4), sms(5, '01000001026')]);
    expect(dropped.kind).toBe('ambiguous');
    const hung = await p.submit([sms(6)]);
    expect(hung.kind).toBe('ambiguous');
    expect(hung.kind === 'ambiguous' && hung.message).toMatch(/400 ms/);
    const keys = [3, 4, 5, 6, 7, 2].map((r) => `camp1:${r}:0`);
    const found = await p.lookup(keys);
    // 5 was refused at intake (1026) and 2 at intake (1061): Solapi does not hold them; 7 never left
    expect([...found.keys()].sort()).toEqual(['camp1:3:0', 'camp1:4:0', 'camp1:6:0']);
    const ids = new Map(f.messages.map((m) => [m.customFields.umsKey, m.messageId]));
    expect(found.get('camp1:3:0')!.providerId).toBe(ids.get('camp1:3:0'));
    await p.close();
    providers.pop();
    const restarted = provider(f.url, dir);
    expect([...(await restarted.lookup(keys)).keys()].sort()).toEqual([
      'camp1:3:0',
      'camp1:4:0',
      'camp1:6:0',
    ]);
    // keys that never left: no listing at all
    const before = f.stats.listRequests;
    expect((await restarted.lookup(['camp1:99:0', 'other:1:0'])).size).toBe(0);
    expect(f.stats.listRequests).toBe(before);
  });

  it('asks the group when the answer does not itemise accepted messages', async () => {
    const f = await fake({ itemiseAccepted: false });
    const p = provider(f.url, stateDir());
    const o = outcomes(await p.submit([sms(1), sms(2), sms(3, '01000001061')]));
    expect(o.map((x) => x.kind)).toEqual(['accepted', 'accepted', 'rejected']);
    const ids = new Map(f.messages.map((m) => [m.customFields.umsKey, m.messageId]));
    expect(o[1]!.kind === 'accepted' && o[1]!.providerId).toBe(ids.get('camp1:2:0'));
    expect(f.listQueries.some((q) => q.get('groupId') === f.messages[0]!.groupId)).toBe(true);
  });

  it('polls reports page by page with nextKey and remembers where it got to', async () => {
    const f = await fake({ reportDelayMs: 30 });
    const dir = stateDir();
    const p = provider(f.url, dir, { pageSize: 2 });
    const first = [1, 2, 3, 4, 5, 6].map((r) => sms(r));
    first.push(sms(7, '01000003032'));
    expect(outcomes(await p.submit(first)).every((o) => o.kind === 'accepted')).toBe(true);
    await sleep(80);
    const reports = await drain(p);
    expect(reports.map((r) => r.key).sort()).toEqual(first.map((m) => m.key).sort());
    expect(reports.find((r) => r.key === 'camp1:7:0')).toMatchObject({
      status: 'failed',
      code: '3032',
      text: 'not a subscriber',
    });
    expect(reports.filter((r) => r.status === 'delivered')).toHaveLength(6);
    expect(f.listQueries.filter((q) => q.get('dateType') === 'UPDATED').length).toBeGreaterThanOrEqual(4); // paged, 2 a page
    expect(await drain(p)).toEqual([]); // the same sync again: nothing new

    // later, in another process: only what is new since the checkpoint
    expect(outcomes(await p.submit([sms(8), sms(9)])).every((o) => o.kind === 'accepted')).toBe(true);
    await sleep(80);
    const later = provider(f.url, dir, { pageSize: 2 });
    expect((await drain(later)).map((r) => r.key).sort()).toEqual(['camp1:8:0', 'camp1:9:0']);
  });
});
