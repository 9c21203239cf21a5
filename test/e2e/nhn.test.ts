/**
 * `ums` with the NHN Cloud provider through the built binary, against the fake NHN on 127.0.0.1
 * (test/support/fakeNhn.ts, in this process; `ums` is a real child process): SMS/LMS and AlimTalk
 * campaigns, AlimTalk with ums's own fallback, kill -9 twice then resume, a wrong secret, a blocked
 * channel.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runUms, UMS, workdir } from '../support/cli.js';
import { FakeNhn, type FakeNhnOptions, type NhnRecord } from '../support/fakeNhn.js';
import { tinyJpeg } from '../support/fakeSolapi.js';

const APP = 'nhnE2eAppKey01';
const SECRET = 'e2e-nhn-secret-do-not-print';
const ENV = { NHN_APP_KEY: APP, NHN_SECRET_KEY: SECRET };

const json = (s: string): Record<string, any> => JSON.parse(s) as Record<string, any>;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const fakes: FakeNhn[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fake(opts: Partial<FakeNhnOptions> = {}): Promise<FakeNhn> {
  const f = await FakeNhn.start({ appKey: APP, secretKey: SECRET, ...opts });
  fakes.push(f);
  return f;
}

function campaignDir(
  f: FakeNhn,
  rows: string[],
  template: string,
  nhn: Record<string, unknown> = {},
): string {
  const dir = workdir();
  const provider = {
    type: 'nhn',
    appKey: '${NHN_APP_KEY}',
    secretKey: '${NHN_SECRET_KEY}',
    senderKey: 'e2e-sender-key-0000000000000000000000040',
    baseUrl: f.url,
    alimtalkBaseUrl: f.url,
    tps: 2000,
    batchSize: 100,
    timeoutMs: 3000,
    ...nhn,
  };
  const lines = [
    'journal: ./journal.db',
    'from: "0212345678"',
    'providers:',
    '  nhn:',
    ...Object.entries(provider).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
    'routes:',
    '  default: nhn',
    '',
  ];
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), lines.join('\n'));
  fs.writeFileSync(path.join(dir, 'recipients.csv'), `${['name,phone,msg', ...rows].join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'notice.md'), template);
  return dir;
}

const phone = (i: number): string =>
  `010-${String(3000 + Math.floor(i / 10000))}-${String(i % 10000).padStart(4, '0')}`;
const national = (i: number): string => phone(i).replace(/-/g, '');
const numbers = (n: number, first = 0): string[] =>
  Array.from({ length: n }, (_, i) => `고객${first + i},${phone(first + i)},짧은 안내`);

const SHORT = '---\nchannel: auto\n---\n#{name}님, #{msg}입니다.\n';
const alimtalkTemplate = (fallback: string): string =>
  [
    '---',
    'channel: alimtalk',
    `fallback: ${fallback}`,
    'alimtalk:',
    '  pfId: KA01PF200323182344986oTFz9CIabcx',
    '  templateId: ORDER_SHIPPED_01',
    '---',
    '#{name}님, 주문하신 상품이 발송되었습니다.',
    '',
  ].join('\n');

function ums(args: string[], dir: string, env: Record<string, string> = ENV) {
  return runUms(args, { cwd: dir, env, timeoutMs: 120_000 });
}

async function exported(dir: string, campaign: string): Promise<Record<string, string>[]> {
  const res = await ums(['export', campaign, '--format', 'json'], dir);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as Record<string, string>[];
}

function start(args: string[], dir: string, env: Record<string, string> = ENV) {
  const child = spawn(process.execPath, [UMS, ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited };
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** How many times the fake took each (number, kind). */
function perRecipient(records: NhnRecord[]): Map<string, number> {
  const n = new Map<string, number>();
  for (const r of records)
    n.set(`${r.kind}:${r.recipientNo}`, (n.get(`${r.kind}:${r.recipientNo}`) ?? 0) + 1);
  return n;
}
const twice = (records: NhnRecord[]): string[] =>
  [...perRecipient(records)].filter(([, n]) => n > 1).map(([k]) => k);

describe('ums with the nhn provider (fake NHN on 127.0.0.1)', () => {
  it("AlimTalk's length is the routed provider's: 1,200 characters plan on NHN (1,300) and are refused on the simulator (1,000)", async () => {
    const f = await fake();
    const long = 'a'.repeat(1200); // ASCII: its LMS fallback (1,2xx bytes) fits too
    const tpl = [
      '---',
      'channel: alimtalk',
      'alimtalk:',
      '  pfId: KA01PF200323182344986oTFz9CIabcx',
      '  templateId: LONG_NOTICE_01',
      '---',
      '#{name}님, #{msg}',
      '',
    ].join('\n');
    const dir = campaignDir(f, [`고객0,${phone(0)},${long}`], tpl);
    const onNhn = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--dry-run', '--json'], dir);
    expect(onNhn.code, onNhn.stderr).toBe(0);
    expect(json(onNhn.stdout).statuses).toEqual({ planned: 1, held: 1 }); // the AlimTalk and its LMS fallback
    fs.rmSync(path.join(dir, 'ums.config.yaml'));
    fs.rmSync(path.join(dir, 'journal.db'), { force: true });
    const onSim = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--dry-run', '--json'], dir);
    expect(onSim.code, onSim.stderr).toBe(3); // a dry run that rejects a row
    const sim = json(onSim.stdout);
    expect(sim.statuses).toEqual({ rejected: 1 });
    expect(sim.reasons[0].example).toContain('over the alimtalk limit of 1,000');
    expect(f.records).toHaveLength(0);
  });

  it('`ums listen` takes NHN webhooks at /hooks/<name>: the static signature checked, results applied, UNSUBSCRIBE opts the number out', async () => {
    const SIG = 'e2e-nhn-webhook-signature-7Hq';
    const f = await fake({ webhookSignature: SIG });
    const dir = campaignDir(f, numbers(3), SHORT, { webhookSignature: SIG });
    const sent = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(sent.code, sent.stderr).toBe(0);
    const campaign = json(sent.stdout).campaign as string;
    const child = spawn(process.execPath, [UMS, 'listen', '--port', '0'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ...ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    await until('the listening line', () => /\/hooks\/nhn\b/.test(out), 15_000);
    // the operator is told the signature is no HMAC (on stderr: it may come after stdout's listening line)
    await until('the warning', () => /static shared string/.test(out), 15_000);
    expect(out).toMatch(/static shared string/);
    const port = /http:\/\/127\.0\.0\.1:(\d+)\/hooks\/nhn/.exec(out)![1];
    const url = `http://127.0.0.1:${port}/hooks/nhn`;
    const hooks = f.records.map((r) => f.resultHook(r));
    expect(hooks).toHaveLength(3);
    expect(await f.postWebhook(url, 'MESSAGE_RESULT_UPDATE', hooks, 'not-the-signature')).toBe(401);
    expect((await exported(dir, campaign)).map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    expect(await f.postWebhook(url, 'MESSAGE_RESULT_UPDATE', hooks)).toBe(200);
    expect((await exported(dir, campaign)).map((r) => r.status)).toEqual([
      'delivered',
      'delivered',
      'delivered',
    ]);
    expect(await f.postWebhook(url, 'UNSUBSCRIBE', [{ recipientNo: national(1) }])).toBe(200);
    const list = await ums(['optout', 'list', '--json'], dir);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(national(1));
    expect(list.stdout).not.toContain(national(0));
    child.kill('SIGTERM');
    expect(out).not.toContain(SIG);
    expect(out).not.toContain(SECRET);
  });

  it('sends an SMS/LMS campaign once (SMS to /sender/sms, LMS with its title to /sender/mms); `report --sync` pulls the results', async () => {
    const f = await fake();
    const long =
      '주문하신 상품이 오늘 출고되어 내일 도착할 예정입니다. 배송 조회는 앱에서 하실 수 있습니다. 감사합니다';
    const rows = [...numbers(8), ...numbers(4, 8).map((r) => r.replace('짧은 안내', long))];
    const dir = campaignDir(f, rows, SHORT);
    const sent = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    const out = json(sent.stdout);
    expect(out.statuses.sent).toBe(12);
    expect(twice(f.records)).toEqual([]);
    const byNo = new Map(f.records.map((r) => [r.recipientNo, r]));
    expect(byNo.size).toBe(12);
    for (let i = 0; i < 12; i++) {
      const r = byNo.get(national(i))!;
      expect(r.endpoint).toBe(i < 8 ? 'sms' : 'mms');
      expect(r.recipientGroupingKey).toMatch(new RegExp(`^${out.campaign}:${i + 1}:0$`));
      expect(r.body).toBe(`고객${i}님, ${i < 8 ? '짧은 안내' : long}입니다.`);
      if (i >= 8) expect(typeof r.title).toBe('string');
    }
    const rep = await ums(['report', '--sync', '--json'], dir);
    expect(rep.code, rep.stderr).toBe(0);
    const rows2 = await exported(dir, out.campaign as string);
    expect(rows2.every((r) => r.status === 'delivered')).toBe(true);
    for (const s of [SECRET, APP])
      expect(sent.stdout + sent.stderr + rep.stdout + rep.stderr).not.toContain(s);
  });

  it('sends an MMS campaign with its image uploaded once (attachfile/binaryUpload), its fileId on every message, across a resume', async () => {
    const f = await fake();
    const dir = campaignDir(
      f,
      numbers(24),
      '---\nchannel: mms\nsubject: "#{name}님께"\nimages: [promo.jpg]\n---\n#{name}님, 새 상품 사진을 보내드립니다.\n',
      { batchSize: 5 },
    );
    fs.writeFileSync(path.join(dir, 'promo.jpg'), tinyJpeg());
    const first = await ums(
      ['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json', '--limit', '10'],
      dir,
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const res = await ums(['resume', '--json'], dir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(json(res.stdout).statuses.sent).toBe(24);
    expect(f.files.size).toBe(1); // once per campaign, not once per run or per request
    const [fileId, file] = [...f.files][0]!;
    expect(file!.bytes.equals(tinyJpeg())).toBe(true);
    expect(file!.fileName).toBe('promo.jpg');
    expect(f.records).toHaveLength(24);
    expect(twice(f.records)).toEqual([]);
    expect(
      f.records.every(
        (r) =>
          r.endpoint === 'mms' &&
          r.attachFileIdList?.[0] === fileId &&
          r.title === `${r.body!.split('님')[0]}님께`,
      ),
    ).toBe(true);
  });

  it('AlimTalk with fallback: each number that is not a KakaoTalk user gets exactly one SMS from ums, nobody else; 3005 releases none', async () => {
    const notKakao = { 3: '3019', 7: '3020', 11: '3018', 15: '3021' } as Record<number, string>;
    const unconfirmed = [5, 9];
    const outcomes: FakeNhnOptions['outcomes'] = {};
    for (const [i, code] of Object.entries(notKakao)) outcomes[national(Number(i))] = { result: code };
    for (const i of unconfirmed) outcomes[national(i)] = { result: '3005' };
    const f = await fake({ outcomes });
    const dir = campaignDir(f, numbers(20), alimtalkTemplate('sms'));
    const sent = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(sent.stderr).toBe('');
    const campaign = json(sent.stdout).campaign as string;
    expect(f.accepted('alimtalk')).toHaveLength(20);
    expect(
      f.requests.every((q) =>
        (q.body as any).recipientList.every((r: any) => r.resendParameter?.isResend === false),
      ),
    ).toBe(true);
    // the results come by polling; the released legs go on resume
    const rep = await ums(['report', '--sync', '--json'], dir);
    // four AlimTalks failed, their fallbacks are now planned: nobody failed yet (exit 0 counts customers)
    expect(rep.code, rep.stderr).toBe(0);
    const resumed = await ums(['resume', campaign, '--json'], dir);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0); // the four AlimTalks stay failed, but their SMS reached everyone
    const sms = f.accepted('sms');
    expect(sms.map((r) => r.recipientNo).sort()).toEqual(
      Object.keys(notKakao)
        .map((i) => national(Number(i)))
        .sort(),
    );
    expect(sms.every((r) => r.recipientGroupingKey?.endsWith(':1'))).toBe(true);
    expect(f.vendorFallbacks).toEqual([]); // NHN never fell back by itself
    expect(twice(f.records)).toEqual([]);
    const rows = await exported(dir, campaign);
    for (const i of unconfirmed) {
      const legs = rows.filter((r) => r.to === national(i));
      expect(legs.map((r) => `${r.channel}:${r.status}`).sort()).toEqual([
        'alimtalk:delivered',
        'sms:skipped',
      ]);
    }
  });

  it('survives kill -9 twice mid-campaign: `ums resume` leaves every recipient taken by NHN exactly once', async () => {
    const f = await fake();
    const dir = campaignDir(f, numbers(3000), alimtalkTemplate('none'), { tps: 1500, batchSize: 50 });
    const first = start(['send', 'recipients.csv', '-t', 'notice.md', '--yes'], dir);
    await until('600 messages at the fake', () => f.records.length >= 600);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const second = start(['resume'], dir);
    const before = f.records.length;
    await until('more messages at the fake', () => f.records.length >= Math.min(2900, before + 900));
    second.child.kill('SIGKILL');
    expect((await second.exited).signal).toBe('SIGKILL');
    expect(f.records.length).toBeLessThan(3000);
    const res = await ums(['resume', '--json'], dir);
    expect(res.code, res.stderr).toBe(0);
    const out = json(res.stdout);
    expect(out.statuses.sent).toBe(3000);
    expect(out.statuses.unknown ?? 0).toBe(0);
    expect(twice(f.records)).toEqual([]);
    expect(perRecipient(f.records).size).toBe(3000);
  });

  it('a wrong secret stops the run with exit 1, marks nothing failed and never prints the credentials', async () => {
    const f = await fake();
    const dir = campaignDir(f, numbers(30), alimtalkTemplate('none'));
    const wrong = { ...ENV, NHN_SECRET_KEY: 'not-the-secret-4471' };
    const res = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir, wrong);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^ums: nhn: NHN refused our credentials .*appKey and secretKey$/m);
    for (const s of ['not-the-secret-4471', SECRET]) expect(res.stderr + res.stdout).not.toContain(s);
    expect(f.records).toHaveLength(0);
    const rows = await exported(dir, json(res.stdout).campaign as string);
    expect(rows).toHaveLength(30);
    expect(rows.every((r) => r.status === 'planned')).toBe(true);
  });

  it('a blocked channel (1021) stops the run with exit 1, rows still planned; fixed, `resume` within 10 minutes sends each once', async () => {
    let blocked = true;
    const f = await fake({ refuse: () => (blocked ? 1021 : null) });
    const dir = campaignDir(f, numbers(30), alimtalkTemplate('sms'), { batchSize: 10 });
    const res = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^ums: nhn: .*channel.*blocked.*ums resume.*\(1021\)$/m);
    expect(f.records).toHaveLength(0);
    const campaign = json(res.stdout).campaign as string;
    const rows = await exported(dir, campaign);
    expect(rows.filter((r) => r.channel === 'alimtalk').every((r) => r.status === 'planned')).toBe(true);
    expect(rows.some((r) => r.status === 'failed')).toBe(false);

    blocked = false; // the channel is fixed in NHN's console; the same batches go again within 10 minutes
    const resumed = await ums(['resume', campaign, '--json'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(json(resumed.stdout).statuses.unknown ?? 0).toBe(0);
    expect(f.accepted('alimtalk')).toHaveLength(30);
    expect(twice(f.records)).toEqual([]);
    expect(f.accepted('sms')).toHaveLength(0);
  });
});
