/**
 * What NHN and Solapi keep beside the journal besides their request logs (NHN's idempotency
 * generations and state: kinds sent, report checkpoint, uploaded MMS files; Solapi's image uploads)
 * live in the provider's SideStore: on a journal (PostgreSQL, where every worker reaches it), one
 * worker sees what another, dead one, wrote; as files, the names and formats of before still read.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { messageKey, parseKey } from '../../src/journal/delivery.js';
import { IdempotencyKeys, idempotencyKey } from '../../src/providers/nhn/idempotency.js';
import { createProvider } from '../../src/providers/registry.js';
import { ImageCache } from '../../src/providers/solapi/images.js';
import { createSolapiProvider, type SolapiProvider } from '../../src/providers/solapi/provider.js';
import type { OutboundMessage, Provider, SideStore, SubmitResult } from '../../src/providers/types.js';
import { FakeNhn } from '../support/fakeNhn.js';
import { FakeSolapi, tinyJpeg } from '../support/fakeSolapi.js';
import { testDialect } from '../support/journal.js';
import { sideStores } from '../support/sideStores.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** a worker that dies: closed now, not again at the end */
const closed = new WeakSet<{ close(): Promise<void> }>();
async function die(p: { close(): Promise<void> }): Promise<void> {
  closed.add(p);
  await p.close();
}

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ums-side-state-'));

const APP = 'nhnTestApp';
const SECRET = 'nhn-test-secret-Vb72';

async function nhn(fake: FakeNhn, stateDir: string, side?: SideStore): Promise<Provider> {
  const p = await createProvider(
    'nhn',
    {
      type: 'nhn',
      appKey: APP,
      secretKey: SECRET,
      senderKey: 'sender-key-40',
      baseUrl: fake.url,
      alimtalkBaseUrl: fake.url,
      timeoutMs: 3000,
    },
    { stateDir, ...(side ? { side } : {}) },
  );
  cleanup.push(() => (closed.has(p) ? undefined : p.close()));
  return p;
}

const sms = (row: number, over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  key: messageKey('c', row, 0),
  to: `010${String(30000000 + row)}`,
  from: '0212345678',
  channel: 'sms',
  subject: null,
  text: '배송이 시작되었습니다.',
  parts: 1,
  ...over,
});

const alimtalk = (row: number): OutboundMessage => ({
  ...sms(row),
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

const mms = (row: number, image: string): OutboundMessage => ({
  ...sms(row),
  channel: 'mms',
  subject: '사진',
  text: '새 상품 사진입니다.',
  images: [image],
});

const kinds = (r: SubmitResult): string[] =>
  r.kind === 'results'
    ? r.outcomes.map((o) => (o.kind === 'rejected' ? `rejected:${o.code}` : o.kind))
    : [r.kind];

function solapi(baseUrl: string, stateDir: string, side?: SideStore): SolapiProvider {
  const p = createSolapiProvider(
    'solapi',
    {
      type: 'solapi',
      apiKey: 'NCSTESTAPIKEY0001',
      apiSecret: 'sEcReT-for-tests-only-0123456789',
      baseUrl,
      tps: 100,
      timeoutMs: 2000,
    },
    { stateDir, readKey: parseKey, ...(side ? { side } : {}) },
  ) as SolapiProvider;
  cleanup.push(() => (closed.has(p) ? undefined : p.close()));
  return p;
}

async function fakeSolapi(): Promise<FakeSolapi> {
  const f = await FakeSolapi.start({
    apiKey: 'NCSTESTAPIKEY0001',
    apiSecret: 'sEcReT-for-tests-only-0123456789',
    reportDelayMs: 0,
  });
  cleanup.push(() => f.close());
  return f;
}

describe.each(sideStores())("NHN's and Solapi's side state ($what)", ({ what, open }) => {
  it.runIf(what === 'journal')(
    'NHN: a kind lost when two workers wrote the shared state at once is still searched by a look-up',
    async () => {
      const s = open();
      cleanup.push(s.close);
      const fake = await FakeNhn.start({ appKey: APP, secretKey: SECRET, dropAnswer: (n) => n === 1 });
      cleanup.push(() => fake.close());
      const a = await nhn(fake, tmp(), s.store);
      const since = Date.now();
      expect((await a.submit([alimtalk(1)])).kind).toBe('ambiguous'); // taken, its answer lost
      await die(a);
      // B wrote its own first kind at the same instant, from a state read before A's
      s.again()
        .state('nhn-nhn-state.json')
        .put(`${JSON.stringify({ kinds: ['sms'], since: null, reported: {}, files: {} })}\n`);
      const b = await nhn(fake, tmp(), s.again());
      const found = await b.lookup!(['c:1:0'], { sentSince: since });
      expect([...found.keys()]).toEqual(['c:1:0']);
    },
  );

  it("NHN's idempotency generations survive a restart, and another worker's are read again", () => {
    const s = open();
    cleanup.push(s.close);
    const batch = ['c:1:0', 'c:2:0'];
    const a = new IdempotencyKeys(s.store.log('nhn-x-idempotency.jsonl'));
    const b = new IdempotencyKeys(s.again().log('nhn-x-idempotency.jsonl')); // a worker already running
    expect(a.keyFor(batch)).toBe(b.keyFor(batch));
    a.answered(batch);
    a.answered([...batch].reverse()); // the same set: order does not matter
    expect(a.keyFor(batch)).toBe(idempotencyKey(batch, 2));
    expect(new IdempotencyKeys(s.again().log('nhn-x-idempotency.jsonl')).keyFor(batch)).toBe(
      idempotencyKey(batch, 2),
    );
    expect(b.keyFor(batch)).toBe(idempotencyKey(batch)); // not read yet
    b.reload();
    expect(b.keyFor(batch)).toBe(idempotencyKey(batch, 2));
    b.answered(batch);
    a.reload(); // the larger generation is kept, whatever order they are read in
    expect(a.keyFor(batch)).toBe(idempotencyKey(batch, 3));
    expect(a.keyFor(['c:3:0'])).toBe(idempotencyKey(['c:3:0']));
    a.close();
    b.close();
  });

  it('a generation that cannot be written does not throw out of answered(): it still moves on in this run', () => {
    const s = open();
    const keys = new IdempotencyKeys(s.store.log('nhn-x-idempotency.jsonl'));
    keys.answered(['c:1:0']);
    // the file's descriptor closed, or the journal's connection gone: every append throws now
    keys.close();
    s.close();
    expect(() => keys.answered(['c:1:0'])).not.toThrow();
    expect(keys.keyFor(['c:1:0'])).toBe(idempotencyKey(['c:1:0'], 2));
  });

  it('NHN: a worker looks up the AlimTalk a dead worker sent, and resends its refused batch with a new key', async () => {
    const s = open();
    cleanup.push(s.close);
    // request 2 is taken and its answer lost; request 3 is refused whole (-2021, retryable)
    const fake = await FakeNhn.start({
      appKey: APP,
      secretKey: SECRET,
      dropAnswer: (n) => n === 2,
      refuse: (n) => (n === 3 ? -2021 : null),
    });
    cleanup.push(() => fake.close());
    // B runs already (it sent SMS only) when A starts; A sends AlimTalk, then dies
    const b = await nhn(fake, tmp(), s.store);
    expect(kinds(await b.submit([sms(1)]))).toEqual(['accepted']);
    const a = await nhn(fake, tmp(), s.again());
    const since = Date.now();
    const lost = [alimtalk(2), alimtalk(3)];
    expect((await a.submit(lost)).kind).toBe('ambiguous');
    const refused = [alimtalk(4), alimtalk(5)];
    expect(kinds(await a.submit(refused))).toEqual(['rejected:-2021', 'rejected:-2021']);
    await die(a);

    // B takes over: its look-up searches AlimTalk too (A's kinds), and finds what NHN took
    const found = await b.lookup!(
      lost.map((m) => m.key),
      { sentSince: since },
    );
    expect([...found.keys()].sort()).toEqual(['c:2:0', 'c:3:0']);
    // the refused batch again, within 10 minutes: A's generation, so a new key and not -1005
    expect(kinds(await b.submit(refused))).toEqual(['accepted', 'accepted']);
    const keysSent = fake.requests.filter((q) => q.idempotencyKey !== null).map((q) => q.idempotencyKey);
    expect(keysSent).toHaveLength(3);
    expect(keysSent[2]).not.toBe(keysSent[1]);
    expect(fake.records.map((r) => r.recipientNo).sort()).toEqual(
      [1, 2, 3, 4, 5].map((row) => `010${String(30000000 + row)}`),
    );
  });

  it("NHN: two workers' state is joined, not replaced (kinds each sent, a file the other uploaded)", async () => {
    const s = open();
    cleanup.push(s.close);
    const fake = await FakeNhn.start({ appKey: APP, secretKey: SECRET });
    cleanup.push(() => fake.close());
    const image = path.join(tmp(), 'promo.jpg');
    fs.writeFileSync(image, tinyJpeg());
    const a = await nhn(fake, tmp(), s.store);
    const b = await nhn(fake, tmp(), s.again());
    const since = Date.now();
    expect(kinds(await b.submit([sms(1)]))).toEqual(['accepted']);
    const taken = await a.submit([alimtalk(2)]); // A had not read B's kind
    expect(kinds(taken)).toEqual(['accepted']);
    const takenId =
      taken.kind === 'results' && taken.outcomes[0]!.kind === 'accepted' && taken.outcomes[0]!.providerId;
    // B, which sent SMS only, polls the reports of A's AlimTalk too
    const polled = await b.pollReports!();
    expect(polled.reports).toHaveLength(2);
    expect(polled.reports.map((r) => r.providerId)).toContain(takenId);
    await polled.ack();
    // a third worker, looking up without either's kinds in memory, searches both
    const c = await nhn(fake, tmp(), s.again());
    const found = await c.lookup!(['c:1:0', 'c:2:0'], { sentSince: since });
    expect([...found.keys()].sort()).toEqual(['c:1:0', 'c:2:0']);
    // A uploads an image; B, running since before, sends it without uploading it again
    expect(kinds(await a.submit([mms(3, image)]))).toEqual(['accepted']);
    expect(kinds(await b.submit([mms(4, image)]))).toEqual(['accepted']);
    expect(fake.files.size).toBe(1);
    const [fileId] = [...fake.files.keys()];
    expect(fake.records.filter((r) => r.attachFileIdList).map((r) => r.attachFileIdList)).toEqual([
      [fileId],
      [fileId],
    ]);
  });

  it("Solapi: a worker reuses the MMS image another worker uploaded for the campaign (and keeps both workers' uploads)", async () => {
    const s = open();
    cleanup.push(s.close);
    const f = await fakeSolapi();
    const image = path.join(tmp(), 'promo.jpg');
    fs.writeFileSync(image, tinyJpeg());
    const solapiMms = (row: number, campaign: string): OutboundMessage => ({
      ...mms(row, image),
      key: messageKey(campaign, row, 0),
    });
    const b = solapi(f.url, tmp(), s.store);
    const a = solapi(f.url, tmp(), s.again());
    expect(kinds(await a.submit([solapiMms(1, 'camp1')]))).toEqual(['accepted']);
    await die(a);
    expect(kinds(await b.submit([solapiMms(2, 'camp1')]))).toEqual(['accepted']);
    expect(f.stats.uploads).toBe(1);
    expect(kinds(await b.submit([solapiMms(1, 'camp2')]))).toEqual(['accepted']);
    expect(f.stats.uploads).toBe(2);
    // B's write kept A's entry: a third worker reuses both
    const c = solapi(f.url, tmp(), s.again());
    expect(kinds(await c.submit([solapiMms(3, 'camp1'), solapiMms(4, 'camp2')]))).toEqual([
      'accepted',
      'accepted',
    ]);
    expect(f.stats.uploads).toBe(2);
    expect(new Set(f.messages.map((m) => m.imageId)).size).toBe(2);
  });
  it("Solapi: two workers' uploads made at once are both kept", async () => {
    const s = open();
    cleanup.push(s.close);
    const image = path.join(tmp(), 'promo.jpg');
    fs.writeFileSync(image, tinyJpeg());
    const a = new ImageCache(s.store.state('solapi-x-images.json'));
    const b = new ImageCache(s.again().state('solapi-x-images.json'));
    let finish: (id: string) => void = () => undefined;
    // B's upload is under way (it read the cache before A's was kept) while A's is made and kept
    const slow = b.fileId('camp2', image, 'MMS', () => new Promise<string>((r) => (finish = r)));
    expect(await a.fileId('camp1', image, 'MMS', async () => 'ST01A')).toBe('ST01A');
    finish('ST01B');
    expect(await slow).toBe('ST01B');
    const c = new ImageCache(s.again().state('solapi-x-images.json'));
    const none = async (): Promise<string> => {
      throw new Error('uploaded again');
    };
    expect(await c.fileId('camp1', image, 'MMS', none)).toBe('ST01A');
    expect(await c.fileId('camp2', image, 'MMS', none)).toBe('ST01B');
  });
});

describe.skipIf(testDialect !== 'sqlite')(
  'the side files of before still read (SQLite: state folder)',
  () => {
    const sha = createHash('sha256').update(tinyJpeg()).digest('hex');
    const batchId = (keys: string[]): string =>
      createHash('sha256')
        .update([...keys].sort().join('\n'))
        .digest('hex')
        .slice(0, 40);

    it('NHN: nhn-<name>-state.json and nhn-<name>-idempotency.jsonl as they were written, read and written on', async () => {
      const fake = await FakeNhn.start({ appKey: APP, secretKey: SECRET });
      cleanup.push(() => fake.close());
      const image = path.join(tmp(), 'promo.jpg');
      fs.writeFileSync(image, tinyJpeg());
      // the file an earlier run uploaded (NHN holds it)
      expect(kinds(await (await nhn(fake, tmp())).submit([mms(1, image)]))).toEqual(['accepted']);
      const [fileId] = [...fake.files.keys()];
      const dir = tmp();
      const batch = [alimtalk(2), alimtalk(3)];
      const keys = batch.map((m) => m.key);
      fs.writeFileSync(
        path.join(dir, 'nhn-nhn-state.json'),
        `${JSON.stringify({ kinds: ['sms'], since: null, reported: { 'R-1': 'delivered' }, files: { [sha]: fileId } })}\n`,
        { mode: 0o600 },
      );
      fs.writeFileSync(
        path.join(dir, 'nhn-nhn-idempotency.jsonl'),
        `\n${JSON.stringify({ b: batchId(keys), g: 1, t: 1 })}\n\n${JSON.stringify({ b: batchId(keys), g: 2, t: 2 })}\n{"b":"cut`,
        { mode: 0o600 },
      );
      const p = await nhn(fake, dir);
      expect(kinds(await p.submit([mms(4, image)]))).toEqual(['accepted']);
      expect(fake.files.size).toBe(1); // not uploaded again
      expect(kinds(await p.submit(batch))).toEqual(['accepted', 'accepted']);
      expect(fake.requests.at(-1)!.idempotencyKey).toBe(idempotencyKey(keys, 2));
      await p.close();
      // written on in the same format: the state whole, the generations a line each after the cut one
      const state = JSON.parse(fs.readFileSync(path.join(dir, 'nhn-nhn-state.json'), 'utf8')) as unknown;
      expect(state).toEqual({
        kinds: ['sms', 'alimtalk'],
        since: null,
        reported: { 'R-1': 'delivered' },
        files: { [sha]: fileId },
      });
      const lines = fs.readFileSync(path.join(dir, 'nhn-nhn-idempotency.jsonl'), 'utf8').split('\n');
      expect(lines.slice(0, 5)).toEqual([
        '',
        JSON.stringify({ b: batchId(keys), g: 1, t: 1 }),
        '',
        JSON.stringify({ b: batchId(keys), g: 2, t: 2 }),
        '{"b":"cut',
      ]);
      const last = lines.filter(Boolean).at(-1)!;
      expect(JSON.parse(last)).toMatchObject({ b: batchId(keys), g: 3 });
      expect(fs.statSync(path.join(dir, 'nhn-nhn-state.json')).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.join(dir, 'nhn-nhn-idempotency.jsonl')).mode & 0o777).toBe(0o600);
    });

    it('Solapi: solapi-<name>-images.json as it was written is reused, and written on in the same format', async () => {
      const f = await fakeSolapi();
      const image = path.join(tmp(), 'promo.jpg');
      fs.writeFileSync(image, tinyJpeg());
      const m = (row: number): OutboundMessage => ({ ...mms(row, image), key: messageKey('camp1', row, 0) });
      expect(kinds(await solapi(f.url, tmp()).submit([m(1)]))).toEqual(['accepted']);
      const [fileId] = [...f.files.keys()];
      const dir = tmp();
      const before = {
        camp1: { [sha]: { fileId, name: 'promo.jpg', uploadedAt: '2025-01-02T03:04:05.000Z' } },
      };
      fs.writeFileSync(path.join(dir, 'solapi-solapi-images.json'), JSON.stringify(before, null, 1), {
        mode: 0o600,
      });
      const p = solapi(f.url, dir);
      expect(kinds(await p.submit([m(2)]))).toEqual(['accepted']);
      expect(f.stats.uploads).toBe(1);
      expect(f.messages.map((x) => x.imageId)).toEqual([fileId, fileId]);
      // a new upload (an RCS copy of the same file is another) is added beside the old entry
      expect(kinds(await p.submit([{ ...m(3), key: messageKey('camp2', 3, 0) }]))).toEqual(['accepted']);
      expect(f.stats.uploads).toBe(2);
      const text = fs.readFileSync(path.join(dir, 'solapi-solapi-images.json'), 'utf8');
      const after = JSON.parse(text) as Record<string, Record<string, { fileId: string }>>;
      expect(text).toBe(JSON.stringify(after, null, 1));
      expect(after.camp1).toEqual(before.camp1);
      expect(Object.keys(after.camp2!)).toEqual([sha]);
    });
  },
);
