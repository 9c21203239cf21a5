import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { carrierLog, duplicatesAtCarrier, writeConfig } from '../support/campaign.js';
import { runUms, workdir } from '../support/cli.js';

const json = (s: string): Record<string, any> => JSON.parse(s) as Record<string, any>;

function writeCsv(dir: string, header: string, rows: string[]): void {
  fs.writeFileSync(path.join(dir, 'r.csv'), `${[header, ...rows].join('\n')}\n`);
}

/** Seoul wall-clock hh:mm:ss on the day the test pretends it is, as a UTC epoch ms. */
const seoul = (day: string, time: string): number => Date.parse(`${day}T${time}+09:00`);

describe('AlimTalk with fallback on the simulator', () => {
  it('gives each "not a KakaoTalk user" exactly one fallback SMS, and nobody else one', async () => {
    const dir = workdir();
    const normal = Array.from({ length: 40 }, (_, i) => `고객${i},010-2100-${String(i).padStart(4, '0')}`);
    const notKakao = Array.from(
      { length: 5 },
      (_, i) => `비카톡${i},010-0310-4${String(i).padStart(3, '0')}`,
    );
    writeCsv(dir, 'name,phone', [...normal, ...notKakao]);
    fs.writeFileSync(
      path.join(dir, 'a.md'),
      [
        '---',
        'channel: alimtalk',
        'alimtalk:',
        '  pfId: KA01PF200101000000000000000000',
        '  templateId: KA01TP200101000000000000000001',
        '  text: "#{name}님, 주문하신 상품이 발송되었습니다."',
        '  buttons:',
        '    - { type: WL, name: 주문 조회, linkMo: "https://shop.example.com/orders" }',
        'fallback: auto',
        '---',
        '#{name}님, 주문하신 상품이 발송되었습니다.',
      ].join('\n'),
    );
    writeConfig(dir, { tps: 0, dlrDelayMs: 30 });
    const res = await runUms(['send', 'r.csv', '-t', 'a.md', '--yes', '--json'], { cwd: dir });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0); // the five AlimTalks failed, their fallbacks were delivered: all 45 reached

    const log = carrierLog(dir);
    const alimtalk = log.filter((r) => r.ch === 'alimtalk');
    const fallbacks = log.filter((r) => r.ch !== 'alimtalk');
    expect(alimtalk).toHaveLength(45);
    expect(duplicatesAtCarrier(alimtalk)).toEqual([]);
    expect(fallbacks.map((r) => r.to).sort()).toEqual(
      notKakao.map((r) => r.split(',')[1]!.replace(/-/g, '')).sort(),
    );
    expect(fallbacks.every((r) => r.ch === 'sms' && r.key.endsWith(':1'))).toBe(true);

    const exported = JSON.parse(
      (await runUms(['export', json(res.stdout).campaign, '--format', 'json'], { cwd: dir })).stdout,
    ) as any[];
    const legs = exported.filter((r) => r.to.startsWith('0100310'));
    expect(legs.map((r) => `${r.channel}:${r.status}`).sort()).toEqual(
      [...Array(5).fill('alimtalk:failed'), ...Array(5).fill('sms:delivered')].sort(),
    );
    expect(legs.filter((r) => r.channel === 'alimtalk').every((r) => r.reason.startsWith('3104:'))).toBe(
      true,
    );
    // Everyone else: the AlimTalk delivered, the fallback leg skipped as not needed.
    const others = exported.filter((r) => r.to.startsWith('0102100'));
    expect(others.filter((r) => r.channel === 'alimtalk' && r.status === 'delivered')).toHaveLength(40);
    expect(
      others
        .filter((r) => r.channel === 'sms')
        .every((r) => r.status === 'skipped' && r.reason.startsWith('fallback_unneeded')),
    ).toBe(true);
  });

  it('refuses (exit 2) a body that differs from the approved template, before anything is sent', async () => {
    const dir = workdir();
    writeCsv(dir, 'name,phone', ['a,010-2100-0001']);
    fs.writeFileSync(path.join(dir, 'approved.txt'), '#{name}님, 주문이 접수되었습니다.\n');
    fs.writeFileSync(
      path.join(dir, 'a.md'),
      '---\nalimtalk: { pfId: P1, templateId: T1, textFile: approved.txt }\n---\n#{name}님, 주문이 접수됐어요.\n',
    );
    const res = await runUms(['send', 'r.csv', '-t', 'a.md', '--yes'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(
      /^ums: a\.md: the body differs from the approved AlimTalk template at its line 1/,
    );
    expect(fs.existsSync(path.join(dir, '.ums', 'sim-sim.jsonl'))).toBe(false);
  });
});

describe('ads: the law and quiet hours', () => {
  const adTemplate = [
    '---',
    'ad: true',
    'sender: 한빛마트',
    '---',
    '(광고) 한빛마트',
    '#{name}님, 겨울 세일이 시작되었습니다.',
    '무료수신거부 080-123-4567',
  ].join('\n');

  it('refuses an ad without "(광고)" (exit 2, one line naming the file and line)', async () => {
    const dir = workdir();
    writeCsv(dir, 'name,phone', ['a,010-2100-0001']);
    fs.writeFileSync(path.join(dir, 'ad.md'), adTemplate.replace('(광고) 한빛마트', '[광고] 한빛마트'));
    const res = await runUms(['send', 'r.csv', '-t', 'ad.md', '--dry-run'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^ums: ad\.md line 5: an ad must begin with "\(광고\)" exactly/);
  });

  it('started at 20:59:57 sends until 21:00, defers the rest, and sends them from 08:00', async () => {
    const dir = workdir();
    const rows = Array.from(
      { length: 600 },
      (_, i) => `고객${i},010-2200-${String(i).padStart(4, '0')},${i % 10 === 0 ? 'Y' : ''}`,
    );
    writeCsv(dir, 'name,phone,night_consent', rows);
    fs.writeFileSync(path.join(dir, 'ad.md'), adTemplate);
    writeConfig(dir, { tps: 100, dlrDelayMs: 10 });
    const day = '2026-11-25';
    const evening = await runUms(['send', 'r.csv', '-t', 'ad.md', '--yes', '--json'], {
      cwd: dir,
      env: { UMS_NOW: new Date(seoul(day, '20:59:57')).toISOString() },
    });
    expect(evening.code).toBe(0);
    expect(evening.stderr).toMatch(/deferred, resume after 08:00/);
    expect(json(evening.stdout).outcome).toBe('deferred');

    const windowOpens = seoul(day, '21:00:00');
    const afterEvening = carrierLog(dir);
    const beforeNine = afterEvening.filter((r) => r.at < windowOpens);
    const inWindow = afterEvening.filter((r) => r.at >= windowOpens);
    // ~3 s at 100/s, less what starting and planning took (seconds on a loaded machine): the clock runs from the start
    expect(beforeNine.length).toBeGreaterThan(30);
    expect(beforeNine.length).toBeLessThan(400);
    // Inside the window only rows with night consent went out: every 10th row.
    const consenting = new Set(
      rows.filter((r) => r.endsWith(',Y')).map((r) => r.split(',')[1]!.replace(/-/g, '')),
    );
    // The law: nothing without night consent reaches the carrier from 21:00 on ...
    expect(inWindow.filter((r) => !consenting.has(r.to)).map((r) => r.to)).toEqual([]);
    // ... and the rows with it go on after the gate closed (it closes 500 ms early, LEAD_MS in
    // src/delivery/quietGate.ts, so that a claimed ad still arrives before 21:00)
    const afterGate = afterEvening.filter((r) => r.at >= windowOpens - 500);
    expect(afterGate.filter((r) => consenting.has(r.to)).length).toBeGreaterThan(0);

    const early = await runUms(['resume', '--json'], {
      cwd: dir,
      env: { UMS_NOW: new Date(seoul('2026-11-26', '07:59:30')).toISOString() },
    });
    expect(early.code).toBe(0);
    expect(json(early.stdout).outcome).toBe('deferred');
    expect(carrierLog(dir)).toHaveLength(afterEvening.length);

    const morning = await runUms(['resume', '--json'], {
      cwd: dir,
      env: { UMS_NOW: new Date(seoul('2026-11-26', '08:00:00')).toISOString() },
    });
    expect(morning.code).toBe(0);
    expect(json(morning.stdout).outcome).toBe('finished');
    const all = carrierLog(dir);
    expect(all).toHaveLength(600);
    expect(duplicatesAtCarrier(all)).toEqual([]);
    const nightStart = windowOpens;
    const nightEnd = seoul('2026-11-26', '08:00:00');
    expect(all.filter((r) => r.at >= nightStart && r.at < nightEnd).every((r) => consenting.has(r.to))).toBe(
      true,
    );
  }, 60_000);
});

describe('opt-outs', () => {
  it('skips listed numbers at planning and adds numbers the provider reports opted out (1061)', async () => {
    const dir = workdir();
    writeCsv(dir, 'name,phone', ['a,010-2300-0001', 'b,010-2300-0002', 'c,010-0106-1001']);
    fs.writeFileSync(path.join(dir, 't.md'), '#{name}님 안내드립니다.');
    writeConfig(dir, { tps: 0, dlrDelayMs: 5 });
    expect((await runUms(['optout', 'add', '+82 10-2300-0002'], { cwd: dir })).code).toBe(0);
    const res = await runUms(['send', 'r.csv', '-t', 't.md', '--yes', '--json'], { cwd: dir });
    expect(res.code).toBe(3);
    const out = json(res.stdout);
    expect(out.statuses).toMatchObject({ delivered: 1, skipped: 1, failed: 1 });
    expect(carrierLog(dir).map((r) => r.to)).toEqual(['01023000001']);
    const list = JSON.parse((await runUms(['optout', 'list', '--json'], { cwd: dir })).stdout) as {
      phone: string;
      source: string;
    }[];
    expect(list.map((e) => [e.phone, e.source]).sort()).toEqual([
      ['01001061001', 'provider'],
      ['01023000002', 'manual'],
    ]);
    const human = await runUms(['optout', 'list'], { cwd: dir });
    expect(human.stdout).not.toContain('01023000002');
    expect(human.stdout).toContain('010-****-0002');
  });
});

describe('MMS images', () => {
  /** The smallest JPEG header that says what size it is: SOI, SOF0, EOI. */
  const jpeg = (w: number, h: number): Buffer =>
    Buffer.from([
      0xff,
      0xd8,
      0xff,
      0xe0,
      0x00,
      0x04,
      0x00,
      0x00,
      0xff,
      0xc0,
      0x00,
      0x0b,
      0x08,
      h >> 8,
      h & 255,
      w >> 8,
      w & 255,
      0x01,
      0x01,
      0x11,
      0x00,
      0xff,
      0xd9,
    ]);
  const template =
    '---\nsubject: 겨울 신상품\nimages: [promo.jpg]\n---\n#{name}님, 겨울 신상품을 소개합니다.';

  it('sends an MMS when the template has an image, checked from its real header', async () => {
    const dir = workdir();
    writeCsv(dir, 'name,phone', ['a,010-2400-0001', 'b,010-2400-0002']);
    fs.writeFileSync(path.join(dir, 'promo.jpg'), jpeg(800, 600));
    fs.writeFileSync(path.join(dir, 'm.md'), template);
    writeConfig(dir, { tps: 0, dlrDelayMs: 5 });
    const res = await runUms(['send', 'r.csv', '-t', 'm.md', '--yes', '--json'], { cwd: dir });
    expect(res.code).toBe(0);
    expect(json(res.stdout).channels).toEqual({ mms: { delivered: 2 } });
    expect(carrierLog(dir).map((r) => r.ch)).toEqual(['mms', 'mms']);
  });

  it('refuses a PNG named .jpg, an image too large in pixels, and a path outside the template folder (exit 2)', async () => {
    const dir = workdir();
    writeCsv(dir, 'name,phone', ['a,010-2400-0001']);
    const cases: [Buffer | null, string, RegExp][] = [
      [
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]),
        'promo.jpg',
        /image "promo.jpg" is not a JPEG/,
      ],
      [jpeg(2000, 1000), 'promo.jpg', /image "promo.jpg" is 2000x1000; sim takes at most 1500x1440/],
      [null, '../../etc/passwd.jpg', /points outside the template's folder/],
    ];
    for (const [bytes, name, error] of cases) {
      if (bytes) fs.writeFileSync(path.join(dir, name), bytes);
      fs.writeFileSync(path.join(dir, 'm.md'), template.replace('promo.jpg', name));
      const res = await runUms(['send', 'r.csv', '-t', 'm.md', '--dry-run'], { cwd: dir });
      expect(res.code).toBe(2);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr).toMatch(error);
    }
  });
});
