import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runUms, workdir } from '../support/cli.js';
import { FakeSmsc, type FakeSmscOptions } from '../support/fakeSmsc.js';

// Needs the engine to store partIds, roll parts up, count wire parts and subscribe MO (issue 6).
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
const send = (dir: string) =>
  runUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], { cwd: dir, env: ENV });

describe('SMPP through the engine (partIds, countParts, MO)', () => {
  it('rolls multi-part receipts up: delivered when every part is, failed when any part failed', async () => {
    const smsc = await smscWith({
      receipts: { delayMs: 20 },
      undeliverable: ['01055550002'],
      failLastPartOnly: true,
    });
    const dir = workdir();
    campaign(dir, 9, LONG, smsc, { reportWaitMs: 5000 });
    const res = await send(dir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(3);
    const out = json(res.stdout);
    expect(out.statuses).toMatchObject({ delivered: 8, failed: 1 });
    expect(out.unmatchedReports).toBe(0);
    expect(smsc.messages.every((m) => m.parts > 1)).toBe(true);
  });

  it('counts wire parts against the lane: tps 100 with 2-part messages, no throttle and no halving', async () => {
    const smsc = await smscWith({ tps: 100 });
    const dir = workdir();
    const body =
      '#{name}님, 주문하신 상품이 출고되었습니다. 배송 조회는 고객센터로 문의 주세요. 이용해 주셔서 감사합니다. 다음에도 저희 쇼핑몰을 찾아 주세요. 좋은 하루 되세요!';
    campaign(dir, 100, body, smsc, { tps: 100, rateGuardMs: 150 });
    const res = await send(dir);
    expect(res.code).toBe(0);
    expect(json(res.stdout).run.throttles).toBe(0);
    expect(smsc.maxPartsInWindow(1000)).toBeLessThanOrEqual(100);
  });

  it('stores MO replies sent during a campaign and suppresses the opt-outs', async () => {
    const smsc = await smscWith({ tps: 50 });
    const dir = workdir();
    campaign(dir, 60, '#{name}님, 주문하신 상품이 발송되었습니다.', smsc, { tps: 50 });
    const run = send(dir);
    while (smsc.arrivals.length === 0) await sleep(5);
    expect(await smsc.sendMo('01055550005', '수신거부')).toBe(0);
    expect(await smsc.sendMo('01055550006', '잘 받았습니다', 0x08)).toBe(0);
    expect((await run).code).toBe(0);
    const inbox = json((await runUms(['inbox', '--json'], { cwd: dir, env: ENV })).stdout);
    expect(inbox.messages.map((m: any) => [m.from, m.optedOut])).toEqual([
      ['010-****-0006', false],
      ['010-****-0005', true],
    ]);
    const list = await runUms(['optout', 'list', '--json'], { cwd: dir, env: ENV });
    expect(list.stdout).toContain('01055550005');
  });
});
