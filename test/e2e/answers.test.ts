import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runUms, UMS, workdir } from '../support/cli.js';
import { FakeSmsc } from '../support/fakeSmsc.js';
import { FakeSolapi } from '../support/fakeSolapi.js';

/**
 * Issue 12 §2 through the built binary: no provider answer starts a resend storm, no report
 * touches the wrong message, and receipts faster than the commit of their submit are not lost.
 */
const KEY = 'NCSE2EANSWERS0001';
const SECRET = 'e2e-answers-secret-do-not-print';
const ENV = { SOLAPI_API_KEY: KEY, SOLAPI_API_SECRET: SECRET, SMPP_PASSWORD: 'secret' };
const json = (s: string): Record<string, any> => JSON.parse(s) as Record<string, any>;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const stops: (() => Promise<void>)[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const f of stops.splice(0).reverse()) await f();
});

async function fakeSolapi(
  opts: Partial<ConstructorParameters<typeof FakeSolapi>[0]> = {},
): Promise<FakeSolapi> {
  const f = await FakeSolapi.start({ apiKey: KEY, apiSecret: SECRET, reportDelayMs: 0, ...opts });
  stops.push(() => f.close());
  return f;
}

function write(
  dir: string,
  providers: Record<string, Record<string, unknown>>,
  route: string,
  rows: number,
  first = 0,
): void {
  const lines = ['journal: ./journal.db', 'from: "0212345678"', 'providers:'];
  for (const [name, p] of Object.entries(providers))
    lines.push(`  ${name}:`, ...Object.entries(p).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`));
  lines.push('routes:', `  default: ${route}`, '');
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), lines.join('\n'));
  const csv = [
    'name,phone',
    ...Array.from(
      { length: rows },
      (_, i) =>
        `고객${first + i},010-4${String(first + i).padStart(3, '0')}-${String(first + i).padStart(4, '0')}`,
    ),
  ];
  fs.writeFileSync(path.join(dir, `r${first}.csv`), `${csv.join('\n')}\n`);
  fs.writeFileSync(
    path.join(dir, 'notice.md'),
    '---\nchannel: auto\n---\n#{name}님, 주문하신 상품이 발송되었습니다.\n',
  );
}

const solapiCfg = (f: FakeSolapi) => ({
  type: 'solapi',
  apiKey: '${SOLAPI_API_KEY}',
  apiSecret: '${SOLAPI_API_SECRET}',
  baseUrl: f.url,
  tps: 1000,
  batchSize: 10,
  timeoutMs: 3000,
});
const ums = (args: string[], dir: string) => runUms(args, { cwd: dir, env: ENV, timeoutMs: 120_000 });

async function exported(
  dir: string,
  campaign: string,
): Promise<{ row: number; status: string; reason: string; attempts: number; provider: string }[]> {
  const res = await ums(['export', campaign, '--format', 'json'], dir);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as {
    row: number;
    status: string;
    reason: string;
    attempts: number;
    provider: string;
  }[];
}

describe('no provider answer starts a resend storm', () => {
  it('a Solapi that answers every send `200 {}` sees each message at most 5 times across a send and two resumes; the rows end unknown with the reason (exit 3)', async () => {
    const f = await fakeSolapi({ sendAnswer: () => ({}) });
    const dir = workdir();
    write(dir, { solapi: solapiCfg(f) }, 'solapi', 3);
    const sent = await ums(['send', 'r0.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(sent.code, sent.stderr).toBe(3);
    const campaign = json(sent.stdout).campaign as string;
    expect(f.submissions.size).toBe(3);
    expect([...f.submissions.values()].every((n) => n <= 5)).toBe(true);
    for (const round of [1, 2]) {
      const resumed = await ums(['resume', campaign, '--json'], dir);
      expect(resumed.code, `resume ${round}: ${resumed.stderr}`).not.toBe(1);
      expect(
        [...f.submissions.values()].every((n) => n <= 5),
        `after resume ${round}`,
      ).toBe(true);
    }
    const rows = await exported(dir, campaign);
    expect(rows.map((r) => r.status)).toEqual(['unknown', 'unknown', 'unknown']);
    for (const r of rows) {
      expect(r.attempts).toBe(5);
      expect(r.reason).toMatch(/^unknown: submitted 5 times without a definite answer/);
    }
    expect([...f.submissions.values()]).toEqual([5, 5, 5]);
    expect(f.messages).toHaveLength(0);
  }, 120_000);
});

describe('`ums listen`: a report touches only a message of its provider, with its id', () => {
  it('a Solapi webhook naming a sim row by its key is not applied; one malformed element is refused alone and the valid reports of that POST are stored (200)', async () => {
    const f = await fakeSolapi();
    const dir = workdir();
    write(
      dir,
      {
        sim: { type: 'sim', tps: 0, dlrDelayMs: 3_600_000 },
        solapi: { ...solapiCfg(f), webhookSecret: 'hook-7f3a' },
      },
      'sim',
      3,
      0,
    );
    write(
      dir,
      {
        sim: { type: 'sim', tps: 0, dlrDelayMs: 3_600_000 },
        solapi: { ...solapiCfg(f), webhookSecret: 'hook-7f3a' },
      },
      'sim',
      3,
      100,
    );
    // sim: 2 rows sent (--limit: the run does not wait for their reports); solapi: 3 rows sent
    const viaSim = await ums(
      ['send', 'r0.csv', '-t', 'notice.md', '--yes', '--json', '--campaign', 'by-sim', '--limit', '2'],
      dir,
    );
    expect(viaSim.code, viaSim.stderr).toBe(0);
    const viaSolapi = await ums(
      [
        'send',
        'r100.csv',
        '-t',
        'notice.md',
        '--yes',
        '--json',
        '--campaign',
        'by-solapi',
        '--provider',
        'solapi',
      ],
      dir,
    );
    expect(viaSolapi.code, viaSolapi.stderr).toBe(0);
    expect((await exported(dir, 'by-sim')).map((r) => r.status)).toEqual(['sent', 'sent', 'planned']);

    const child = spawn(process.execPath, [UMS, 'listen', '--port', '0', '--provider', 'solapi'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ...ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    for (let i = 0; !/127\.0\.0\.1:(\d+)\//.test(out); i++) {
      if (i > 500) throw new Error(`no listening line: ${err}`);
      await sleep(20);
    }
    const url = `http://127.0.0.1:${/127\.0\.0\.1:(\d+)\//.exec(out)![1]}/solapi/hook-7f3a`;

    // a report naming the sim rows by key (with any messageId): not theirs to settle
    const forged = [1, 2].map((row) => ({
      messageId: `M4V-FORGED-${row}`,
      statusCode: '3032',
      customFields: { umsKey: `by-sim:${row}:0` },
      dateReceived: new Date().toISOString(),
    }));
    expect(await f.postWebhook(url, forged)).toBe(200);
    expect((await exported(dir, 'by-sim')).map((r) => r.status)).toEqual(['sent', 'sent', 'planned']);

    const body = f.webhookBody();
    expect(body).toHaveLength(3);
    const mixed = [
      body[0],
      { ...body[1], dateReceived: { $date: Date.now() } },
      { statusCode: '4000', customFields: { umsKey: 'by-solapi:2:0' } },
      body[2],
    ];
    expect(await f.postWebhook(url, mixed)).toBe(200);
    const solapiRows = await exported(dir, 'by-solapi');
    expect(solapiRows.map((r) => r.status)).toEqual(['delivered', 'sent', 'delivered']);
    // a body that is not a report at all is still refused whole
    expect(await f.postWebhook(url, [{ groupId: 'G4V1', count: { total: 1 } }])).toBe(400);

    child.kill('SIGTERM');
    await new Promise((r) => child.on('close', r));
    expect(err).toMatch(/refused one element of a POST \(the others are kept\): element 1: dateReceived/);
    expect(err).toMatch(/refused one element of a POST \(the others are kept\): element 2 has no messageId/);
  }, 120_000);
});

describe('receipts that arrive before the submit result is committed', () => {
  it('an SMSC that sends receipts at 0 ms, before its submit_sm_resp, 400 rows at 100 TPS, window 10: no row stays `sent`, no report stays unmatched', async () => {
    // the receipt leaves the SMSC at once; the answer to the submit follows 30 ms later
    const smsc = await FakeSmsc.start({ receipts: { delayMs: 0 }, respondDelayMs: 30 });
    stops.push(() => smsc.stop());
    const dir = workdir();
    write(
      dir,
      {
        carrier: {
          type: 'smpp',
          host: '127.0.0.1',
          port: smsc.port,
          systemId: 'ums',
          password: '${SMPP_PASSWORD}',
          tps: 100,
          window: 10,
          requestTimeoutMs: 5000,
          reportWaitMs: 5000,
        },
      },
      'carrier',
      400,
    );
    const sent = await ums(['send', 'r0.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(sent.code, sent.stderr).toBe(0);
    const out = json(sent.stdout);
    expect(smsc.receiptsSent).toBeGreaterThanOrEqual(400);
    expect(out.statuses.sent ?? 0).toBe(0);
    expect(out.statuses.delivered).toBe(400);
    expect(out.unmatchedReports).toBe(0);
  }, 120_000);
});
