import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runUms, UMS, workdir } from '../support/cli.js';
import { FakeSolapi, tinyJpeg } from '../support/fakeSolapi.js';

const KEY = 'NCSE2EAPIKEY0001';
const SECRET = 'e2e-solapi-secret-do-not-print';
const HOOK = 'hook-secret-7f3a9c';
const ENV = { SOLAPI_API_KEY: KEY, SOLAPI_API_SECRET: SECRET, UMS_WEBHOOK_SECRET: HOOK };

const json = (s: string): Record<string, any> => JSON.parse(s) as Record<string, any>;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const fakes: FakeSolapi[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  // a failed test must not leave a listener or a sender behind
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fake(opts: Partial<ConstructorParameters<typeof FakeSolapi>[0]> = {}): Promise<FakeSolapi> {
  const f = await FakeSolapi.start({ apiKey: KEY, apiSecret: SECRET, reportDelayMs: 20, ...opts });
  fakes.push(f);
  return f;
}

/** A working folder routed to the fake Solapi, with a recipients CSV and a template. */
function campaignDir(
  f: FakeSolapi,
  rows: string[],
  template: string,
  solapi: Record<string, unknown> = {},
): string {
  const dir = workdir();
  const provider = {
    type: 'solapi',
    apiKey: '${SOLAPI_API_KEY}',
    apiSecret: '${SOLAPI_API_SECRET}',
    webhookSecret: '${UMS_WEBHOOK_SECRET}',
    baseUrl: f.url,
    tps: 2000,
    batchSize: 100,
    timeoutMs: 3000,
    ...solapi,
  };
  const lines = [
    'journal: ./journal.db',
    'from: "0212345678"',
    'providers:',
    '  solapi:',
    ...Object.entries(provider).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
    'routes:',
    '  default: solapi',
    '',
  ];
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), lines.join('\n'));
  fs.writeFileSync(path.join(dir, 'recipients.csv'), `${['name,phone,msg', ...rows].join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'notice.md'), template);
  return dir;
}

function numbers(n: number, first = 0): string[] {
  return Array.from(
    { length: n },
    (_, i) =>
      `고객${first + i},010-${String(3000 + Math.floor((first + i) / 10000))}-${String((first + i) % 10000).padStart(4, '0')},짧은 안내`,
  );
}

const SHORT = '---\nchannel: auto\n---\n#{name}님, #{msg}입니다.\n';

function ums(args: string[], dir: string, env: Record<string, string> = ENV) {
  return runUms(args, { cwd: dir, env });
}

async function exported(
  dir: string,
  campaign: string,
): Promise<{ row: number; to: string; status: string; reason: string; provider_id: string }[]> {
  const res = await ums(['export', campaign, '--format', 'json'], dir);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout) as {
    row: number;
    to: string;
    status: string;
    reason: string;
    provider_id: string;
  }[];
}

function start(args: string[], dir: string, env: Record<string, string> = ENV) {
  const child = spawn(process.execPath, [UMS, ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('ums with the solapi provider (fake Solapi on 127.0.0.1)', () => {
  it('sends an SMS/LMS campaign once, and `report --sync` pulls the delivery reports', async () => {
    const f = await fake();
    const long =
      '주문하신 상품이 오늘 출고되어 내일 도착할 예정입니다. 배송 조회는 앱에서 하실 수 있습니다. 감사합니다';
    const rows = [
      ...numbers(40),
      ...numbers(10, 40).map((r) => r.replace('짧은 안내', long)),
      '불통,010-0000-3032,짧은 안내',
      '거부,01000001061,짧은 안내',
    ];
    const dir = campaignDir(f, rows, SHORT);
    const sent = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(sent.stderr).not.toContain(SECRET);
    expect(sent.code).toBe(3); // 1061 was refused at intake
    const out = json(sent.stdout);
    expect(out.statuses.sent).toBe(51);
    expect(out.statuses.failed).toBe(1);

    // what Solapi took: each number once, typed by ums, the journal key riding along
    const accepted = f.accepted();
    expect(accepted).toHaveLength(51);
    expect(f.duplicates()).toEqual([]);
    expect(accepted.filter((m) => m.type === 'SMS')).toHaveLength(41);
    expect(accepted.filter((m) => m.type === 'LMS')).toHaveLength(10);
    expect(
      accepted.every(
        (m) =>
          m.autoTypeDetect === false &&
          m.from === '0212345678' &&
          /^.+:\d+:0$/.test(m.customFields.umsKey ?? ''),
      ),
    ).toBe(true);

    await sleep(60);
    const report = await ums(['report', '--sync', '--json'], dir);
    expect(report.code).toBe(3);
    const r = json(report.stdout);
    expect(r.synced).toBe(51);
    expect(r.statuses.delivered).toBe(50);
    expect(r.statuses.failed).toBe(2);
    const rowsOut = await exported(dir, r.campaign);
    expect(rowsOut.find((x) => x.to === '01000003032')).toMatchObject({
      status: 'failed',
      reason: '3032: not a subscriber',
    });
    expect(rowsOut.find((x) => x.to === '01000001061')!.reason).toMatch(/^1061: /);
    const ids = new Map(accepted.map((m) => [m.to, m.messageId]));
    expect(
      rowsOut.filter((x) => x.status === 'delivered').every((x) => x.provider_id === ids.get(x.to)),
    ).toBe(true);
  });

  it('an empty balance (1030) stops the run with exit 1 and fails nobody; after a top-up `ums resume` sends the rest once', async () => {
    const f = await fake();
    f.balance = 30;
    const dir = campaignDir(f, numbers(100), SHORT, { batchSize: 10 });
    const sent = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(sent.code).toBe(1);
    expect(sent.stderr).toMatch(
      /^ums: solapi: the account balance is insufficient \(1030\); nothing is lost: top up the account, then run `ums resume`$/m,
    );
    const out = json(sent.stdout);
    expect(out.statuses.sent).toBe(30);
    expect(out.statuses.failed ?? 0).toBe(0);
    expect(out.statuses.planned).toBe(70);

    f.balance = Infinity;
    const resumed = await ums(['resume', '--json'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(json(resumed.stdout).statuses.sent).toBe(100);
    expect(f.accepted()).toHaveLength(100);
    expect(f.duplicates()).toEqual([]);
  });

  it('sends an MMS campaign with its image uploaded once', async () => {
    const f = await fake();
    const dir = campaignDir(
      f,
      numbers(24),
      '---\nchannel: mms\nsubject: "#{name}님께"\nimages: [promo.jpg]\n---\n#{name}님, 새 상품 사진을 보내드립니다.\n',
      { batchSize: 5 },
    );
    fs.writeFileSync(path.join(dir, 'promo.jpg'), tinyJpeg());
    const res = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(json(res.stdout).statuses.sent).toBe(24);
    expect(f.stats.uploads).toBe(1);
    const [fileId] = [...f.files.keys()];
    expect(f.files.get(fileId!)).toMatchObject({ name: 'promo.jpg', bytes: tinyJpeg().length });
    expect(
      f
        .accepted()
        .every(
          (m) => m.type === 'MMS' && m.imageId === fileId && m.subject === `${m.text.split('님')[0]}님께`,
        ),
    ).toBe(true);
    expect(f.stats.sendRequests).toBeGreaterThanOrEqual(5);
  });

  it('sends an AlimTalk campaign as ATA with its Kakao options', async () => {
    const f = await fake();
    const template = [
      '---',
      'channel: alimtalk',
      'fallback: none',
      'alimtalk:',
      '  pfId: KA01PF200323182344986oTFz9CIabcx',
      '  templateId: KA01TP200323182345741y9yF20aabcx',
      '  buttons: [{type: WL, name: 주문 조회, linkMo: "https://shop.example.com/orders"}]',
      '---',
      '#{name}님, 주문하신 상품이 발송되었습니다.',
      '',
    ].join('\n');
    const dir = campaignDir(f, numbers(12), template);
    const res = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(res.code).toBe(0);
    expect(json(res.stdout).statuses.sent).toBe(12);
    const accepted = f.accepted();
    expect(accepted).toHaveLength(12);
    expect(accepted.every((m) => m.type === 'ATA')).toBe(true);
    const first = accepted.find((m) => m.to === '01030000000')!;
    expect(first.text).toBe('고객0님, 주문하신 상품이 발송되었습니다.');
    expect(first.kakaoOptions).toMatchObject({
      pfId: 'KA01PF200323182344986oTFz9CIabcx',
      templateId: 'KA01TP200323182345741y9yF20aabcx',
      variables: { '#{name}': '고객0' },
      buttons: [{ buttonType: 'WL', buttonName: '주문 조회', linkMo: 'https://shop.example.com/orders' }],
      disableSms: true,
    });
  });

  it('sends an RCS campaign with its brand, from the chatbot number, short texts as RCS_SMS and long ones as RCS_LMS', async () => {
    const f = await fake();
    const template = [
      '---',
      'channel: rcs',
      'fallback: none',
      'rcs:',
      '  brandId: BR.ums0000001',
      '  chatbotId: "15881234"',
      '---',
      '#{name}님, #{msg}입니다.',
      '',
    ].join('\n');
    const rows = [...numbers(4), `고객장문,010-3000-9999,${'긴 안내 문구'.repeat(20)}`];
    const dir = campaignDir(f, rows, template);
    const res = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(json(res.stdout).statuses.sent).toBe(5);
    const accepted = f.accepted();
    expect(accepted).toHaveLength(5);
    expect(accepted.every((m) => m.from === '15881234' && m.rcsOptions?.brandId === 'BR.ums0000001')).toBe(
      true,
    );
    expect(accepted.filter((m) => m.to !== '01030009999').every((m) => m.type === 'RCS_SMS')).toBe(true);
    expect(accepted.find((m) => m.to === '01030009999')!.type).toBe('RCS_LMS');
  });

  it('sends an RCS MMS campaign as RCS_MMS: the image uploaded once as an RCS file, its id on every message', async () => {
    const f = await fake();
    const template = [
      '---',
      'channel: rcs',
      'fallback: none',
      'subject: "#{name}님 새 소식"',
      'images: [card.jpg]',
      'rcs:',
      '  brandId: BR.ums0000001',
      '  chatbotId: "15881234"',
      '---',
      '#{name}님, #{msg}입니다.',
      '',
    ].join('\n');
    const dir = campaignDir(f, numbers(12), template, { batchSize: 5 });
    fs.writeFileSync(path.join(dir, 'card.jpg'), tinyJpeg());
    const res = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(json(res.stdout).statuses.sent).toBe(12);
    expect(f.stats.uploads).toBe(1);
    const [fileId] = [...f.files.keys()];
    expect(f.files.get(fileId!)).toMatchObject({ type: 'RCS', name: 'card.jpg', bytes: tinyJpeg().length });
    const accepted = f.accepted();
    expect(accepted).toHaveLength(12);
    for (const m of accepted) {
      expect(m).toMatchObject({
        type: 'RCS_MMS',
        imageId: fileId,
        from: '15881234',
        subject: `${m.text.split('님')[0]}님 새 소식`,
      });
      expect(m.rcsOptions).toEqual({ brandId: 'BR.ums0000001', disableSms: true });
    }
    const rowsOut = await exported(dir, json(res.stdout).campaign as string);
    expect(rowsOut.map((r) => (r as unknown as { channel: string }).channel)).toEqual(
      new Array(12).fill('rcs'),
    );
  });

  it('sends RCS template rows as RCS_TPL with their variables, and rejects a row over the 90-character text template limit', async () => {
    const f = await fake();
    const template = [
      '---',
      'channel: rcs',
      'fallback: none',
      'rcs:',
      '  brandId: BR.ums0000001',
      '  chatbotId: "15881234"',
      '  templateId: UBR.tpl-order-1',
      '---',
      '#{name}님, #{msg}입니다.',
      '',
    ].join('\n');
    // "고객장문님, " + msg + "입니다." is 11 characters around msg: 90 and 91 in all
    const rows = [
      ...numbers(3),
      `고객장문,010-3000-9998,${'가'.repeat(79)}`,
      `고객장문,010-3000-9999,${'가'.repeat(80)}`,
    ];
    const dir = campaignDir(f, rows, template);
    const res = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(3); // one row rejected
    const accepted = f.accepted();
    expect(accepted.map((m) => m.to).sort()).toEqual([
      '01030000000',
      '01030000001',
      '01030000002',
      '01030009998',
    ]);
    for (const m of accepted) {
      const vars =
        m.to === '01030009998'
          ? { '#{name}': '고객장문', '#{msg}': '가'.repeat(79) }
          : { '#{name}': `고객${m.to.slice(-1)}`, '#{msg}': '짧은 안내' };
      expect(m.type).toBe('RCS_TPL');
      expect(m.rcsOptions).toEqual({
        brandId: 'BR.ums0000001',
        templateId: 'UBR.tpl-order-1',
        variables: vars,
        disableSms: true,
      });
    }
    expect([...accepted.find((m) => m.to === '01030009998')!.text]).toHaveLength(90);
    const rowsOut = await exported(dir, json(res.stdout).campaign as string);
    expect(rowsOut.find((r) => r.to === '01030009999')).toMatchObject({
      status: 'rejected',
      reason: 'too_long: 91 characters, over the RCS text template limit of 90',
    });
  });

  it('survives kill -9 mid-campaign: `ums resume` leaves every recipient sent exactly once', async () => {
    const f = await fake();
    const dir = campaignDir(f, numbers(3000), SHORT, { tps: 1500 });
    const run = start(['send', 'recipients.csv', '-t', 'notice.md', '--yes'], dir);
    await until('600 messages at the fake', () => f.accepted().length >= 600);
    run.child.kill('SIGKILL');
    expect((await run.exited).signal).toBe('SIGKILL');
    const atKill = f.accepted().length;
    expect(atKill).toBeLessThan(3000);
    const res = await ums(['resume', '--json'], dir);
    expect(res.code).toBe(0);
    const out = json(res.stdout);
    expect(out.statuses.sent).toBe(3000);
    expect(out.statuses.unknown ?? 0).toBe(0);
    expect(f.duplicates()).toEqual([]);
    expect(f.acceptedPerRecipient().size).toBe(3000);
  });

  it('sends nothing twice when answers are lost after acceptance and Solapi answers 429', async () => {
    const f = await fake({ tps: 300, dropAnswer: (n) => n % 4 === 0 });
    const dir = campaignDir(f, numbers(1200), SHORT, { tps: 2000, batchSize: 100 });
    const res = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(res.code).toBe(0);
    const out = json(res.stdout);
    expect(f.stats.dropped).toBeGreaterThan(0);
    expect(f.stats.throttled).toBeGreaterThan(0);
    expect(out.run.throttles).toBeGreaterThan(0);
    expect(out.statuses.sent).toBe(1200);
    expect(out.statuses.unknown ?? 0).toBe(0);
    expect(f.duplicates()).toEqual([]);
    expect(f.acceptedPerRecipient().size).toBe(1200);
  });

  it('a wrong secret stops the run with exit 1, marks nothing failed and never prints the credentials', async () => {
    const f = await fake();
    const dir = campaignDir(f, numbers(50), SHORT);
    const wrong = { ...ENV, SOLAPI_API_SECRET: 'not-the-secret-4471' };
    const res = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir, wrong);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/SignatureDoesNotMatch/);
    expect(res.stderr).toMatch(/apiKey and apiSecret/);
    for (const s of ['not-the-secret-4471', KEY, SECRET]) {
      expect(res.stderr).not.toContain(s);
      expect(res.stdout).not.toContain(s);
    }
    expect(f.messages).toHaveLength(0);
    const out = json(res.stdout);
    expect(out.outcome).toBe('fault');
    const rows = await exported(dir, out.campaign as string);
    expect(rows).toHaveLength(50);
    expect(rows.filter((x) => x.status === 'failed')).toEqual([]);
    expect(rows.every((x) => x.status === 'planned')).toBe(true);

    const fixed = await ums(['resume', '--json'], dir);
    expect(fixed.code).toBe(0);
    expect(json(fixed.stdout).statuses.sent).toBe(50);
    expect(f.acceptedPerRecipient().size).toBe(50);
    expect(f.duplicates()).toEqual([]);
  });

  it('`ums listen` stores Solapi webhooks after checking the secret, and refuses what is not a report', async () => {
    const f = await fake({ reportDelayMs: 0 });
    const dir = campaignDir(f, [...numbers(19), '불통,01000003032,짧은 안내'], SHORT);
    const sent = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(sent.code).toBe(0);
    const campaign = json(sent.stdout).campaign as string;

    const listener = start(['listen', '--port', '0'], dir);
    await until('the listening line', () => /http:\/\/127\.0\.0\.1:(\d+)\//.test(listener.out()), 10_000);
    const port = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(listener.out())![1];
    expect(listener.out()).not.toContain(HOOK);
    const base = `http://127.0.0.1:${port}`;
    const body = f.webhookBody();
    expect(body).toHaveLength(20);

    expect(await f.postWebhook(`${base}/solapi/wrong-secret`, body)).toBe(401);
    expect(await f.postWebhook(`${base}/solapi`, body)).toBe(401);
    expect(await f.postWebhook(`${base}/solapi/${HOOK}x`, body, { 'X-Webhook-Secret': 'nope' })).toBe(401);

    expect(await f.postWebhook(`${base}/solapi/${HOOK}`, { hello: 'world' })).toBe(400);
    expect(await f.postWebhook(`${base}/solapi/${HOOK}`, [{ groupId: 'G4V1', count: { total: 1 } }])).toBe(
      400,
    );
    const tooBig = await fetch(`${base}/solapi/${HOOK}`, {
      method: 'POST',
      body: 'x'.repeat(2 * 1024 * 1024),
    }).then(
      (r) => r.status,
      () => 413,
    );
    expect(tooBig).toBe(413);

    const refusedSoFar = await exported(dir, campaign);
    expect(refusedSoFar.filter((x) => x.status === 'sent')).toHaveLength(20); // nothing refused was stored

    expect(await f.postWebhook(`${base}/solapi/${HOOK}`, body.slice(0, 10))).toBe(200);
    expect(await f.postWebhook(`${base}/anything`, body.slice(10), { 'X-Webhook-Secret': HOOK })).toBe(200);
    expect(await f.postWebhook(`${base}/solapi/${HOOK}`, body)).toBe(200); // Solapi retried: nothing changes

    const rows = await exported(dir, campaign);
    expect(rows.filter((x) => x.status === 'delivered')).toHaveLength(19);
    expect(rows.find((x) => x.to === '01000003032')).toMatchObject({
      status: 'failed',
      reason: '3032: not a subscriber',
    });

    listener.child.kill('SIGTERM');
    expect((await listener.exited).code).toBe(0);
    expect(listener.err()).not.toContain(HOOK);
  });

  it('`ums listen` serves each provider with a webhook at /hooks/<provider name>; another name, or a provider without a webhook, is 404', async () => {
    const f = await fake({ reportDelayMs: 0 });
    const dir = campaignDir(f, numbers(3), SHORT);
    // the Solapi provider named "kr", beside an SMPP provider (no webhook) named "carrier"
    const config = fs
      .readFileSync(path.join(dir, 'ums.config.yaml'), 'utf8')
      .replace('  solapi:\n', '  kr:\n')
      .replace('  default: solapi', '  default: kr')
      .replace(
        'routes:',
        '  carrier: { type: smpp, host: 127.0.0.1, port: 2775, systemId: ums, password: pw }\nroutes:',
      );
    fs.writeFileSync(path.join(dir, 'ums.config.yaml'), config);
    const sent = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(sent.code, sent.stderr).toBe(0);
    const campaign = json(sent.stdout).campaign as string;

    const listener = start(['listen', '--port', '0'], dir);
    await until('the listening line', () => /\/hooks\/kr\//.test(listener.out()), 10_000);
    const port = /http:\/\/127\.0\.0\.1:(\d+)\/hooks\/kr\/<webhookSecret>/.exec(listener.out())![1];
    expect(listener.out()).not.toMatch(/carrier/);
    const base = `http://127.0.0.1:${port}`;
    const body = f.webhookBody();
    expect(body).toHaveLength(3);

    expect(await f.postWebhook(`${base}/hooks/carrier/${HOOK}`, body)).toBe(404);
    expect(await f.postWebhook(`${base}/hooks/nope/${HOOK}`, body)).toBe(404);
    expect(await f.postWebhook(`${base}/hooks/`, body, { 'X-Webhook-Secret': HOOK })).toBe(404);
    expect(await f.postWebhook(`${base}/hooks/kr/wrong-secret`, body)).toBe(401);
    expect((await exported(dir, campaign)).map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);

    expect(await f.postWebhook(`${base}/hooks/kr/${HOOK}`, body.slice(0, 1))).toBe(200);
    expect(await f.postWebhook(`${base}/hooks/kr`, body.slice(1, 2), { 'X-Webhook-Secret': HOOK })).toBe(200);
    // the path before /hooks/ still reaches the first provider with a webhook
    expect(await f.postWebhook(`${base}/solapi/${HOOK}`, body.slice(2))).toBe(200);
    expect((await exported(dir, campaign)).map((r) => r.status)).toEqual([
      'delivered',
      'delivered',
      'delivered',
    ]);

    listener.child.kill('SIGTERM');
    expect((await listener.exited).code).toBe(0);
    expect(listener.err() + listener.out()).not.toContain(HOOK);
  });

  it('`ums listen --provider` naming a provider without a webhook is exit 2, naming it', async () => {
    const f = await fake();
    const dir = campaignDir(f, numbers(1), SHORT);
    const config = fs
      .readFileSync(path.join(dir, 'ums.config.yaml'), 'utf8')
      .replace(
        'routes:',
        '  carrier: { type: smpp, host: 127.0.0.1, port: 2775, systemId: ums, password: pw }\nroutes:',
      );
    fs.writeFileSync(path.join(dir, 'ums.config.yaml'), config);
    const res = await ums(['listen', '--port', '0', '--provider', 'carrier'], dir);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^ums: --provider carrier: its type is smpp, which has no webhook/);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });
});
