import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { createSmppProvider, type SmppProvider } from '../../src/providers/smpp/provider.js';
import { runUms, workdir } from '../support/cli.js';
import { FakeSmsc, type FakeSmscOptions } from '../support/fakeSmsc.js';

const json = (s: string): Record<string, any> => JSON.parse(s) as Record<string, any>;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ENV = { SMPP_PASSWORD: 'secret' };

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of stops.splice(0).reverse()) await f();
});

async function smscWith(opts: FakeSmscOptions): Promise<FakeSmsc> {
  const smsc = await FakeSmsc.start(opts);
  stops.push(() => smsc.stop());
  return smsc;
}

const LONG =
  '#{name}님, 주문하신 상품이 오늘 출고되어 내일 도착할 예정입니다. 부재 시 경비실에 맡겨 드립니다. 배송 조회와 교환, 반품 신청은 고객센터(1588-0000)로 연락 주세요. 항상 저희 쇼핑몰을 이용해 주셔서 감사합니다!';

/** Recipients `phone(i)`, a template, and a config whose provider is SMPP at the fake's port. */
function campaign(
  dir: string,
  n: number,
  body: string,
  smsc: FakeSmsc,
  provider: Record<string, unknown> = {},
): string[] {
  const phones = Array.from({ length: n }, (_, i) => `0105555${String(i).padStart(4, '0')}`);
  fs.writeFileSync(
    path.join(dir, 'recipients.csv'),
    `${['name,phone', ...phones.map((p, i) => `고객${i},${p}`)].join('\n')}\n`,
  );
  fs.writeFileSync(path.join(dir, 'notice.md'), `---\nchannel: auto\n---\n${body}\n`);
  const cfg = {
    type: 'smpp',
    host: '127.0.0.1',
    port: smsc.port,
    systemId: 'ums',
    password: '${SMPP_PASSWORD}',
    tps: 0,
    window: 10,
    requestTimeoutMs: 2000,
    unavailableAfterMs: 3000,
    reportWaitMs: 0,
    ...provider,
  };
  const lines = Object.entries(cfg).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  fs.writeFileSync(
    path.join(dir, 'ums.config.yaml'),
    [
      'journal: ./journal.db',
      'from: "0212345678"',
      'providers:',
      '  carrier:',
      ...lines,
      'routes: { default: carrier }',
      '',
    ].join('\n'),
  );
  return phones;
}

const send = (dir: string, extra: string[] = []) =>
  runUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json', ...extra], { cwd: dir, env: ENV });

describe('ums send through SMPP to a local SMSC', () => {
  it('delivers Korean long messages whole, in every coding and concatenation mode', async () => {
    const modes = [
      { dataCoding: 'ksc5601', longMessages: 'udh', udhRefBits: 8, dc: 0x0e },
      { dataCoding: 'ucs2', longMessages: 'udh', udhRefBits: 16, dc: 0x08 },
      { dataCoding: 'ksc5601', longMessages: 'sar', dc: 0x0e },
      { dataCoding: 'ucs2', longMessages: 'payload', dc: 0x08 },
    ];
    for (const { dc, ...mode } of modes) {
      const smsc = await smscWith({});
      const dir = workdir();
      const phones = campaign(dir, 12, LONG, smsc, mode);
      const res = await send(dir);
      expect(res.stderr, JSON.stringify(mode)).toBe('');
      expect(res.code).toBe(0);
      expect(json(res.stdout).statuses.sent).toBe(12);
      const got = smsc.received();
      phones.forEach((to, i) => {
        const msgs = got.get(to) ?? [];
        expect(msgs, `${to} ${JSON.stringify(mode)}`).toHaveLength(1);
        expect(msgs[0]!.text).toBe(LONG.replace('#{name}', `고객${i}`));
        expect(msgs[0]!.dataCoding).toBe(dc);
        if (mode.longMessages !== 'payload') expect(msgs[0]!.parts).toBeGreaterThan(1);
      });
      expect(smsc.violations).toEqual([]);
      expect(smsc.binds.every((b) => b.interfaceVersion === 0x34)).toBe(true);
    }
  });

  it('at tps 100 never puts more than 100 parts into any second at the SMSC', async () => {
    const smsc = await smscWith({ tps: 100 });
    const dir = workdir();
    const body =
      '#{name}님, 주문하신 상품이 출고되었습니다. 배송 조회는 고객센터로 문의 주세요. 이용해 주셔서 감사합니다. 다음에도 저희 쇼핑몰을 찾아 주세요. 좋은 하루 되세요!'; // 2 parts
    // The SMSC counts by its own clock: this test's SMSC shares two cores with parallel test files,
    // and its event loop can stall ~100 ms, bunching arrivals; the guard is the headroom for that.
    const phones = campaign(dir, 140, body, smsc, { tps: 100, window: 10, rateGuardMs: 150 });
    const t0 = Date.now();
    const res = await send(dir);
    expect(res.code).toBe(0);
    expect(json(res.stdout).statuses.sent).toBe(140);
    const parts = smsc.arrivals.reduce((n, a) => n + a.parts, 0);
    expect(parts).toBeGreaterThanOrEqual(280);
    expect(smsc.maxPartsInWindow(1000)).toBeLessThanOrEqual(100);
    expect(smsc.arrivals.filter((a) => a.status === 0x58)).toEqual([]);
    // and it does use the rate: 280 parts at 100/s take a little under 3 s, not much more
    expect(Date.now() - t0).toBeLessThan(9000);
    const span = smsc.arrivals.at(-1)!.at - smsc.arrivals[0]!.at;
    expect(span).toBeGreaterThan(1800);
    expect(new Set(smsc.messages.map((m) => m.to)).size).toBe(phones.length);
  });

  it('slows down on ESME_RTHROTTLED and sends every throttled message again, once', async () => {
    const smsc = await smscWith({ tps: 40 });
    const dir = workdir();
    const phones = campaign(dir, 120, '#{name}님, 주문하신 상품이 발송되었습니다.', smsc, {
      tps: 120,
      window: 10,
    });
    const res = await send(dir);
    expect(res.code).toBe(0);
    const out = json(res.stdout);
    expect(out.statuses.sent).toBe(120);
    expect(out.run.throttles).toBeGreaterThan(0);
    expect(smsc.arrivals.filter((a) => a.status === 0x58).length).toBeGreaterThan(0);
    const got = smsc.received();
    for (const to of phones) expect(got.get(to), to).toHaveLength(1);
  });

  it('after a dropped connection, every recipient got the message at most once; the rest went after the rebind or are unknown', async () => {
    const smsc = await smscWith({ respondDelayMs: 5, dropAfterSubmits: 60 });
    const dir = workdir();
    const phones = campaign(dir, 150, '#{name}님, 주문하신 상품이 발송되었습니다.', smsc, { window: 10 });
    const res = await send(dir);
    const out = json(res.stdout);
    expect(res.code).toBe(3); // done, with unknown rows
    expect(smsc.binds.filter((b) => b.ok).length).toBeGreaterThanOrEqual(2);
    const got = smsc.received();
    for (const to of phones) expect((got.get(to) ?? []).length, to).toBeLessThanOrEqual(1);

    const exported = await runUms(['export', out.campaign, '--format', 'json'], { cwd: dir, env: ENV });
    const rows = JSON.parse(exported.stdout) as {
      to: string;
      status: string;
      reason: string;
      attempts: number;
    }[];
    const unknown = rows.filter((r) => r.status === 'unknown');
    const sent = rows.filter((r) => r.status === 'sent');
    expect(unknown.length + sent.length).toBe(150);
    expect(unknown.length).toBeGreaterThanOrEqual(1); // the one the SMSC took when it dropped
    expect(unknown.length).toBeLessThanOrEqual(10); // at most the window
    for (const r of sent) expect(got.get(r.to), r.to).toHaveLength(1);
    expect(unknown.every((r) => /unknown: .*dropped/.test(r.reason))).toBe(true);

    // resume never sends an unknown row blindly
    const before = smsc.messages.length;
    const again = await runUms(['resume', out.campaign, '--json'], { cwd: dir, env: ENV });
    expect([0, 3]).toContain(again.code);
    expect(smsc.messages.length).toBe(before);
    const hinted = await runUms(['resume', out.campaign], { cwd: dir, env: ENV });
    expect(hinted.stdout).toContain(
      `${unknown.length} ${unknown.length === 1 ? 'message is' : 'messages are'} unknown: \`ums resume ${out.campaign} --resend-unknown\``,
    );

    // the user's explicit choice: the unknown rows (and only they) go again, even though the run had finished
    const resent = await runUms(['resume', '--resend-unknown', '--json'], { cwd: dir, env: ENV });
    expect(resent.code, resent.stderr).toBe(0);
    expect(json(resent.stdout).statuses).toEqual({ sent: 150 });
    expect(smsc.messages.length).toBe(before + unknown.length);
    const after = smsc.received();
    for (const r of sent) expect(after.get(r.to), r.to).toHaveLength(1);
    for (const r of unknown) expect((after.get(r.to) ?? []).length, r.to).toBeGreaterThanOrEqual(1);
  });

  it('turns rows delivered or failed from receipts of every style, and keeps a receipt nobody sent', async () => {
    const undeliverable = ['01055550003', '01055550010', '01055550017'];
    const smsc = await smscWith({ receipts: { delayMs: 20 }, undeliverable });
    const dir = workdir();
    campaign(dir, 24, '#{name}님, 주문하신 상품이 발송되었습니다.', smsc, { reportWaitMs: 5000 });
    const run = send(dir);
    while (smsc.arrivals.length === 0) await sleep(5);
    expect(
      await smsc.sendReceipt(
        'id:987654321 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD err:000 text:',
      ),
    ).toBe(0);
    const res = await run;
    expect(res.stderr).toBe('');
    expect(res.code).toBe(3); // failed rows
    const out = json(res.stdout);
    expect(out.statuses).toMatchObject({ delivered: 21, failed: 3 });
    expect(out.unmatchedReports).toBeGreaterThanOrEqual(1);
    const exported = await runUms(['export', out.campaign, '--format', 'json'], { cwd: dir, env: ENV });
    const failed = (JSON.parse(exported.stdout) as { to: string; status: string; reason: string }[]).filter(
      (r) => r.status === 'failed',
    );
    expect(failed.map((r) => r.to).sort()).toEqual(undeliverable);
    expect(failed.every((r) => r.reason.startsWith('UNDELIV: undeliverable'))).toBe(true);
    // every receipt was answered, and only after ums had it
    expect(smsc.receiptAnswers.filter((a) => a.status !== 0)).toEqual([]);
  });

  it('picks up receipts that came after the run with report --sync', async () => {
    const smsc = await smscWith({
      receipts: { delayMs: 1500, styles: ['text-dec'] },
      undeliverable: ['01055550001'],
    });
    const dir = workdir();
    campaign(dir, 6, '#{name}님, 주문하신 상품이 발송되었습니다.', smsc);
    const res = await send(dir);
    expect(res.code).toBe(0);
    expect(json(res.stdout).statuses.sent).toBe(6); // the run ended before any receipt
    while (smsc.receiptsSent < 6) await sleep(20); // the SMSC holds them until ums binds again
    const report = await runUms(['report', '--sync', '--json'], { cwd: dir, env: ENV });
    expect(report.stderr).toBe('');
    const r = json(report.stdout);
    expect(r.synced).toBe(6);
    expect(r.statuses).toMatchObject({ delivered: 5, failed: 1 });
  });

  it('stops on refused credentials (exit 1) without printing the password, and sends nothing', async () => {
    const smsc = await smscWith({ password: 'other' });
    const dir = workdir();
    campaign(dir, 5, '#{name}님, 안녕하세요.', smsc);
    const res = await send(dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/ESME_RINVPASWD/);
    expect(res.stderr + res.stdout).not.toContain('secret');
    expect(smsc.arrivals).toEqual([]);
  });
});

describe('ums inbox', () => {
  it('lists replies newest first with numbers masked, and marks opt-outs', async () => {
    const dir = workdir();
    const journal = Journal.open(path.join(dir, 'journal.db'));
    const smsc = await smscWith({});
    const p = createSmppProvider(
      'carrier',
      { type: 'smpp', host: '127.0.0.1', port: smsc.port, systemId: 'ums', password: 'secret' },
      { stateDir: os.tmpdir() },
    ) as SmppProvider;
    p.subscribeInbound(async (messages) => {
      journal.inbox().store(p.name, messages);
    });
    await p.submit([
      {
        key: 'k',
        to: '01011112222',
        from: '0212345678',
        channel: 'sms',
        subject: null,
        text: '안내',
        parts: 1,
      },
    ]);
    expect(await smsc.sendMo('01098765432', '수신거부')).toBe(0);
    await sleep(5);
    expect(await smsc.sendMo('01011112222', '감사합니다 잘 받았어요', 0x08)).toBe(0);
    await p.close();
    journal.close();

    const res = await runUms(['inbox', '--json', '--db', 'journal.db'], { cwd: dir });
    expect(res.code).toBe(0);
    const out = json(res.stdout);
    expect(out.total).toBe(2);
    expect(out.messages.map((m: any) => [m.from, m.text, m.optedOut])).toEqual([
      ['010-****-2222', '감사합니다 잘 받았어요', false],
      ['010-****-5432', '수신거부', true],
    ]);
    const text = await runUms(['inbox', '--db', 'journal.db'], { cwd: dir });
    expect(text.stdout).toMatch(/010-\*\*\*\*-5432 +수신거부 \[opted out\]/);
    expect(text.stdout).not.toContain('01098765432');
  });
});
