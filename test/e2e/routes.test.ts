import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunResult, runUms, workdir } from '../support/cli.js';
import { FakeSolapi } from '../support/fakeSolapi.js';

/**
 * Routes (DESIGN.md, Config): a config mistake never sends through the simulator, a run through the
 * simulator says so, and no value of an expanded ${VAR} is printed or stored.
 */

const KEY = 'NCSROUTESKEY4242';
const SECRET = 'routes-secret-9f3a-do-not-print';
const ENV = { SOLAPI_API_KEY: KEY, SOLAPI_API_SECRET: SECRET };

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
});

async function fakeSolapi(): Promise<FakeSolapi> {
  const fake = await FakeSolapi.start({ apiKey: KEY, apiSecret: SECRET, reportDelayMs: 10 });
  closers.push(() => fake.close());
  return fake;
}

function campaignDir(config: string | null): string {
  const dir = workdir();
  if (config !== null) fs.writeFileSync(path.join(dir, 'ums.config.yaml'), config);
  fs.writeFileSync(
    path.join(dir, 'r.csv'),
    'name,phone\n홍길동,010-3100-0001\n김영희,010-3100-0002\n이철수,010-3100-0003\n',
  );
  fs.writeFileSync(path.join(dir, 't.md'), '#{name}님, 주문하신 상품이 발송되었습니다.');
  return dir;
}

function solapiConfig(baseUrl: string, routes: string | null): string {
  return [
    'journal: ./journal.db',
    'from: "0212345678"',
    'providers:',
    '  solapi:',
    '    type: solapi',
    '    apiKey: "${SOLAPI_API_KEY}"',
    '    apiSecret: "${SOLAPI_API_SECRET}"',
    `    baseUrl: "${baseUrl}"`,
    ...(routes === null ? [] : [routes]),
    '',
  ].join('\n');
}

/** Every file under dir whose name says it is the simulator's carrier log. */
function simLogs(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (/^sim-/.test(e.name)) found.push(path.relative(dir, path.join(d, e.name)));
    }
  };
  walk(dir);
  return found;
}

function campaignsIn(db: string): { id: string; state: string }[] {
  if (!fs.existsSync(db)) return [];
  const sqlite = new Database(db, { readonly: true });
  try {
    return sqlite.prepare('SELECT id, state FROM campaigns').all() as { id: string; state: string }[];
  } finally {
    sqlite.close();
  }
}

describe('routes', () => {
  it('a route typo (routes: { defualt: solapi }) is exit 2 naming the nearest key: nothing planned, neither Solapi nor the simulator saw anything', async () => {
    const fake = await fakeSolapi();
    const dir = campaignDir(solapiConfig(fake.url, 'routes: { defualt: solapi }'));
    for (const args of [['--yes'], ['--dry-run']]) {
      const r = await runUms(['send', 'r.csv', '-t', 't.md', ...args], { cwd: dir, env: ENV });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(
        'ums: ums.config.yaml: routes.defualt: not a channel or default; did you mean default?\n',
      );
      expect(r.stdout).toBe('');
    }
    expect(campaignsIn(path.join(dir, 'journal.db'))).toEqual([]);
    expect(fake.stats.sendRequests + fake.stats.listRequests).toBe(0);
    expect(simLogs(dir)).toEqual([]);
  });

  it('one provider and no routes: it is the default; the messages reach Solapi and nothing says simulated', async () => {
    const fake = await fakeSolapi();
    const dir = campaignDir(solapiConfig(fake.url, null));
    const r = await runUms(['send', 'r.csv', '-t', 't.md', '--yes', '--json'], { cwd: dir, env: ENV });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { simulated: boolean; lanes: { provider: string }[] };
    expect(out.simulated).toBe(false);
    expect(out.lanes.map((l) => l.provider)).toEqual(['solapi']);
    expect(
      fake
        .accepted()
        .map((m) => m.to)
        .sort(),
    ).toEqual(['01031000001', '01031000002', '01031000003']);
    expect(simLogs(dir)).toEqual([]);
    const report = await runUms(['report'], { cwd: dir, env: ENV });
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).not.toMatch(/simulated/);
  });

  it('two providers and no route for the channel the campaign sends: exit 2 naming it, nothing planned or sent', async () => {
    const fake = await fakeSolapi();
    const config = solapiConfig(fake.url, null).replace(
      'providers:\n',
      'providers:\n  backup: { type: sim }\n',
    );
    const dir = campaignDir(config);
    const r = await runUms(['send', 'r.csv', '-t', 't.md', '--yes'], { cwd: dir, env: ENV });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(
      'ums: ums.config.yaml: the campaign sends sms, which has no route: add routes.sms or routes.default (providers: backup, solapi)\n',
    );
    expect(campaignsIn(path.join(dir, 'journal.db'))).toEqual([]);
    expect(fake.stats.sendRequests).toBe(0);
    expect(simLogs(dir)).toEqual([]);
  });

  it('--provider must name a configured provider: the simulator is not one when the config configures Solapi', async () => {
    const fake = await fakeSolapi();
    const dir = campaignDir(solapiConfig(fake.url, null));
    const r = await runUms(['send', 'r.csv', '-t', 't.md', '--yes', '--provider', 'sim'], {
      cwd: dir,
      env: ENV,
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe('ums: --provider "sim": not a configured provider (providers: solapi)\n');
    expect(campaignsIn(path.join(dir, 'journal.db'))).toEqual([]);
    expect(simLogs(dir)).toEqual([]);
  });

  it('no config at all: the built-in simulator, and the dry run, the summary, the report and --json all say simulated', async () => {
    const dir = campaignDir(null);
    const dry = await runUms(['send', 'r.csv', '-t', 't.md', '--dry-run'], { cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/simulated: nothing left this machine/);
    const sent = await runUms(['send', 'r.csv', '-t', 't.md', '--yes'], { cwd: dir });
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/simulated: nothing left this machine/);
    expect(sent.stdout).toMatch(/delivered +3/);
    const report = await runUms(['report', '--json'], { cwd: dir });
    expect(JSON.parse(report.stdout)).toMatchObject({ simulated: true, statuses: { delivered: 3 } });
    expect((await runUms(['report'], { cwd: dir })).stdout).toMatch(/simulated: nothing left this machine/);
  });
});

describe('secrets from ${VAR}', () => {
  it('a ${VAR} in the base URL path that an error echoes is scrubbed from every byte printed or stored: output, journal, export, report', {
    timeout: 120_000,
  }, async () => {
    // A proxy in front of Solapi whose path carries a token, answering 502 with the path it could not reach.
    const token = 'proxy-token-51c0e7-never-store';
    let seen = 0;
    const proxy = http.createServer((req, res) => {
      seen++;
      req.resume();
      req.on('end', () => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`502 Bad Gateway: no upstream for ${req.url}`);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => proxy.close(() => resolve())));
    const port = (proxy.address() as AddressInfo).port;
    const dir = campaignDir(
      solapiConfig(`http://127.0.0.1:${port}/\${UMS_PROXY_PATH}`, 'routes: { default: solapi }'),
    );
    const env = { ...ENV, UMS_PROXY_PATH: token };
    const runs: RunResult[] = [];
    const run = async (args: string[]): Promise<RunResult> => {
      const r = await runUms(args, { cwd: dir, env });
      runs.push(r);
      return r;
    };
    const sent = await run(['send', 'r.csv', '-t', 't.md', '--yes']);
    // the proxy's 502 leaves the rows unknown (they cannot be looked up through it): a fault or exit 3, never "delivered"
    expect([1, 3], sent.stderr).toContain(sent.code);
    expect(seen).toBeGreaterThan(0);
    const id = (JSON.parse((await run(['campaigns', '--json'])).stdout) as { id: string }[])[0]!.id;
    await run(['report', '--json']);
    await run(['report', '--failed']);
    await run(['report', '--json', '--failed']);
    await run(['export', id]);
    await run(['export', id, '-o', 'out.csv']);
    await run(['export', id, '--format', 'json', '-o', 'out.json']);
    // the echo did reach what ums keeps: scrubbed, not dropped
    expect(fs.readFileSync(path.join(dir, 'out.csv'), 'utf8')).toMatch(/no upstream for \/\*\*\*\/messages/);
    expect(runs.map((r) => r.stdout + r.stderr).join('')).toMatch(/\*\*\*/);

    const leaks: string[] = [];
    runs.forEach((r, i) => {
      for (const s of [token, SECRET])
        if ((r.stdout + r.stderr).includes(s)) leaks.push(`${s} in the output of run ${i}`);
    });
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else
          for (const s of [token, SECRET])
            if (fs.readFileSync(p).includes(s)) leaks.push(`${s} in ${path.relative(dir, p)}`);
      }
    };
    walk(dir);
    expect(leaks).toEqual([]);
  });
});

describe('${VAR} in what every recipient reads', () => {
  it('from and senderName from the environment are message content: the dry run shows them, as they will be sent', async () => {
    const dir = campaignDir(
      [
        'journal: ./journal.db',
        'from: "${UMS_FROM}"',
        'senderName: "${UMS_SENDER}"',
        'providers: { s: { type: sim } }',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(dir, 'ad.md'),
      '---\nad: true\n---\n(광고) 한빛마트상회\n#{name}님, 세일! 문의 0231234567\n무료수신거부 080-123-4567',
    );
    const env = { UMS_FROM: '0231234567', UMS_SENDER: '한빛마트상회', UMS_NOW: '2026-12-02T10:00:00+09:00' };
    const dry = await runUms(['send', 'r.csv', '-t', 'ad.md', '--dry-run'], { cwd: dir, env });
    expect(dry.code, dry.stderr).toBe(0);
    // scrubbed, the preview would read "(광고) ***": the operator could not check the text they confirm
    expect(dry.stdout).toContain('(광고) 한빛마트상회');
    expect(dry.stdout).toContain('문의 0231234567');
    expect(dry.stdout).not.toMatch(/(^|[^*])\*\*\*([^*]|$)/m);
  });
});
