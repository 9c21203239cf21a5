/**
 * Routes across providers, second part, through the built binary against the fake Solapi and the
 * fake NHN on 127.0.0.1: AlimTalk with each provider's own template id (Solapi's templateId, NHN's
 * templateCode), and its refusal when a provider of the route has none; back to the first provider
 * once it answers again (failback); the primary's three faults in one campaign; each provider's
 * lane at its own account's rate after a failover.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunResult, runUms, workdir } from '../support/cli.js';
import { FakeNhn } from '../support/fakeNhn.js';
import { FakeSolapi } from '../support/fakeSolapi.js';

const KEY = 'NCSROUTES2KEY042';
const SECRET = 'routes2-secret-do-not-print';
const APP = 'routes2AppKey001';
const NHN_SECRET = 'routes2-nhn-secret';
const SENDER_KEY = 'routes2-sender-key-00000000000000000000040';
const ENV = {
  SOLAPI_API_KEY: KEY,
  SOLAPI_API_SECRET: SECRET,
  NHN_APP_KEY: APP,
  NHN_SECRET_KEY: NHN_SECRET,
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c().catch(() => undefined)));
});

async function fakes(): Promise<{ solapi: FakeSolapi; nhn: FakeNhn }> {
  const solapi = await FakeSolapi.start({ apiKey: KEY, apiSecret: SECRET, reportDelayMs: 10 });
  const nhn = await FakeNhn.start({ appKey: APP, secretKey: NHN_SECRET });
  closers.push(
    () => solapi.close(),
    () => nhn.close(),
  );
  return { solapi, nhn };
}

const phone = (i: number): string =>
  `010-${String(4000 + Math.floor(i / 10000))}-${String(i % 10000).padStart(4, '0')}`;
const digits = (i: number): string => phone(i).replace(/-/g, '');

interface Setup {
  solapiUrl: string;
  nhnUrl: string;
  routes: string[];
  extra?: string[];
  solapi?: Record<string, unknown>;
  nhn?: Record<string, unknown>;
}

function config(s: Setup): string {
  const solapi = {
    type: 'solapi',
    apiKey: '${SOLAPI_API_KEY}',
    apiSecret: '${SOLAPI_API_SECRET}',
    baseUrl: s.solapiUrl,
    tps: 20,
    batchSize: 5,
    timeoutMs: 3000,
    ...s.solapi,
  };
  const nhn = {
    type: 'nhn',
    appKey: '${NHN_APP_KEY}',
    secretKey: '${NHN_SECRET_KEY}',
    senderKey: SENDER_KEY,
    baseUrl: s.nhnUrl,
    alimtalkBaseUrl: s.nhnUrl,
    tps: 2000,
    batchSize: 50,
    timeoutMs: 3000,
    ...s.nhn,
  };
  const block = (name: string, o: Record<string, unknown>): string[] => [
    `  ${name}:`,
    ...Object.entries(o).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
  ];
  return [
    'journal: ./journal.db',
    'from: "0212345678"',
    'providers:',
    ...block('solapi', solapi),
    ...block('nhn', nhn),
    'routes:',
    ...s.routes.map((r) => `  ${r}`),
    ...(s.extra ?? []),
    '',
  ].join('\n');
}

function campaignDir(cfg: string, rows: string[], template = '#{name}님, #{msg}입니다.\n'): string {
  const dir = workdir();
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), cfg);
  fs.writeFileSync(path.join(dir, 'r.csv'), `${['name,phone,msg', ...rows].join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 't.md'), template);
  return dir;
}

const rowsOf = (n: number, msg = '짧은 안내'): string[] =>
  Array.from({ length: n }, (_, i) => `고객${i},${phone(i)},${msg}`);

function ums(args: string[], dir: string): Promise<RunResult> {
  return runUms(args, { cwd: dir, env: ENV, timeoutMs: 120_000 });
}

/** How many times each recipient was taken, across both fakes. */
function union(solapi: FakeSolapi, nhn: FakeNhn): Map<string, number> {
  const n = new Map<string, number>();
  for (const m of solapi.accepted()) n.set(m.to, (n.get(m.to) ?? 0) + 1);
  for (const r of nhn.accepted()) n.set(r.recipientNo, (n.get(r.recipientNo) ?? 0) + 1);
  return n;
}

function expectEveryoneOnce(solapi: FakeSolapi, nhn: FakeNhn, total: number): void {
  const n = union(solapi, nhn);
  const twice = [...n].filter(([, c]) => c > 1).map(([to]) => to);
  const missing = Array.from({ length: total }, (_, i) => digits(i)).filter((d) => !n.has(d));
  expect(twice).toEqual([]);
  expect(missing).toEqual([]);
  expect(n.size).toBe(total);
}

const alimtalkTemplate = (ids: string[]): string =>
  [
    '---',
    'channel: alimtalk',
    'fallback: none',
    'alimtalk:',
    '  pfId: KA01PF200323182344986oTFz9CIabcx',
    '  templateId: KA01TP230101000000000ORDERxx01',
    ...ids.map((l) => `  ${l}`),
    '---',
    '#{name}님, 주문하신 상품이 발송되었습니다.',
    '',
  ].join('\n');

describe('AlimTalk: each provider its own template id', () => {
  it('a split AlimTalk campaign: Solapi gets its pfId and templateId, NHN its templateCode and senderKey; every recipient once', async () => {
    const { solapi, nhn } = await fakes();
    const N = 40;
    const dir = campaignDir(
      config({
        solapiUrl: solapi.url,
        nhnUrl: nhn.url,
        solapi: { tps: 1000 },
        routes: ['alimtalk: { split: { solapi: 50, nhn: 50 } }'],
      }),
      rowsOf(N),
      alimtalkTemplate(['nhn: { templateCode: ORDER_SHIPPED_01 }']),
    );
    const res = await ums(['send', 'r.csv', '-t', 't.md', '--yes', '--campaign', 'at'], dir);
    expect(res.code, res.stderr).toBe(0);
    expect(solapi.accepted().length).toBeGreaterThan(0);
    expect(nhn.accepted('alimtalk').length).toBeGreaterThan(0);
    expectEveryoneOnce(solapi, nhn, N);
    const solapiIds = new Set(
      solapi.accepted().map((m) => `${m.type} ${m.kakaoOptions?.pfId} ${m.kakaoOptions?.templateId}`),
    );
    expect([...solapiIds]).toEqual(['ATA KA01PF200323182344986oTFz9CIabcx KA01TP230101000000000ORDERxx01']);
    const nhnIds = new Set(nhn.accepted('alimtalk').map((r) => `${r.senderKey} ${r.templateCode}`));
    expect([...nhnIds]).toEqual([`${SENDER_KEY} ORDER_SHIPPED_01`]);
  });

  it('AlimTalk over [solapi, nhn] and no alimtalk.nhn.templateCode: refused before planning, one line naming nhn and the key, exit 2', async () => {
    const dir = campaignDir(
      config({
        solapiUrl: 'http://127.0.0.1:9',
        nhnUrl: 'http://127.0.0.1:9',
        routes: ['alimtalk: [solapi, nhn]'],
      }),
      rowsOf(3),
      alimtalkTemplate([]),
    );
    const res = await ums(['send', 'r.csv', '-t', 't.md', '--dry-run'], dir);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /^ums: t\.md: alimtalk\.nhn\.templateCode: not set: AlimTalk goes through nhn \(NHN\)[^\n]*\n$/,
    );
    const list = await ums(['campaigns', '--json'], dir);
    expect(JSON.parse(list.stdout || '[]')).toEqual([]);
  });

  it('a provider block naming no configured provider, or a key that provider does not read: refused, one line', async () => {
    const cfg = config({
      solapiUrl: 'http://127.0.0.1:9',
      nhnUrl: 'http://127.0.0.1:9',
      routes: ['alimtalk: [solapi, nhn]'],
    });
    const typo = campaignDir(cfg, rowsOf(3), alimtalkTemplate(['nhm: { templateCode: ORDER_SHIPPED_01 }']));
    const a = await ums(['send', 'r.csv', '-t', 't.md', '--dry-run'], typo);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(
      /^ums: t\.md: alimtalk\.nhm: not a configured provider, nor a key of alimtalk \(providers: solapi, nhn\)\n$/,
    );
    const wrong = campaignDir(cfg, rowsOf(3), alimtalkTemplate(['nhn: { templateId: ORDER_SHIPPED_01 }']));
    const b = await ums(['send', 'r.csv', '-t', 't.md', '--dry-run'], wrong);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(
      /^ums: t\.md: alimtalk\.nhn\.templateId: nhn \(nhn\) does not read it: use templateCode\n$/,
    );
  });
});
