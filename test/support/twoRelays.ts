/**
 * Two relays for the routing e2e tests (test/e2e/failover.test.ts, routes2.test.ts): the fake Solapi
 * and the fake NHN on 127.0.0.1, a config naming both, campaign folders, and who got what across both.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import { type RunResult, runUms, workdir } from './cli.js';
import { FakeNhn } from './fakeNhn.js';
import { FakeSolapi } from './fakeSolapi.js';

export interface RelayNames {
  /** Solapi's API key and secret, NHN's app key, secret key and sender key (each file its own) */
  key: string;
  secret: string;
  app: string;
  nhnSecret: string;
  senderKey: string;
  /** recipients are 010-<phoneBase + i / 10000>-<i % 10000> */
  phoneBase: number;
}

export interface Setup {
  solapiUrl: string;
  nhnUrl: string;
  routes: string[];
  extra?: string[];
  solapi?: Record<string, unknown>;
  nhn?: Record<string, unknown>;
}

/** Call at a test file's top level: it registers the afterEach that closes the fakes. */
export function twoRelays(o: RelayNames) {
  const KEY = o.key;
  const SECRET = o.secret;
  const APP = o.app;
  const NHN_SECRET = o.nhnSecret;
  const SENDER_KEY = o.senderKey;
  const phoneBase = o.phoneBase;
  const ENV = {
    SOLAPI_API_KEY: KEY,
    SOLAPI_API_SECRET: SECRET,
    NHN_APP_KEY: APP,
    NHN_SECRET_KEY: NHN_SECRET,
  };

  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
    `010-${String(phoneBase + Math.floor(i / 10000))}-${String(i % 10000).padStart(4, '0')}`;
  const digits = (i: number): string => phone(i).replace(/-/g, '');

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
  return {
    KEY,
    SECRET,
    APP,
    NHN_SECRET,
    SENDER_KEY,
    ENV,
    sleep,
    fakes,
    phone,
    digits,
    config,
    campaignDir,
    rowsOf,
    ums,
    union,
    expectEveryoneOnce,
  };
}
