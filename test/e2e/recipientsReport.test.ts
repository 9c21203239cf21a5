import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { carrierLog, writeConfig } from '../support/campaign.js';
import { runUms, workdir } from '../support/cli.js';

const json = (s: string): Record<string, any> => JSON.parse(s) as Record<string, any>;

function writeCsv(dir: string, rows: string[]): void {
  fs.writeFileSync(path.join(dir, 'r.csv'), `${['name,phone', ...rows].join('\n')}\n`);
}

const SMS = '---\nchannel: sms\n---\n#{name}님, 주문하신 상품이 발송되었습니다.\n';

describe('reports count recipients first', () => {
  it('AlimTalk with LMS fallback, 2 reached by AlimTalk and 2 by LMS: reached 4 of 4, exit 0', async () => {
    const dir = workdir();
    // 010-0310-4nnn: the simulator's "not a KakaoTalk user" (3104): their LMS fallback goes and is delivered
    writeCsv(dir, ['가,010-2100-0001', '나,010-2100-0002', '다,010-0310-4001', '라,010-0310-4002']);
    fs.writeFileSync(
      path.join(dir, 'a.md'),
      [
        '---',
        'channel: alimtalk',
        'alimtalk:',
        '  pfId: KA01PF200101000000000000000000',
        '  templateId: KA01TP200101000000000000000001',
        'fallback: lms',
        'subject: 주문 안내',
        '---',
        '#{name}님, 주문하신 상품이 발송되었습니다.',
      ].join('\n'),
    );
    writeConfig(dir, { tps: 0, dlrDelayMs: 20 });
    const send = await runUms(['send', 'r.csv', '-t', 'a.md', '--yes'], { cwd: dir });
    expect(send.stderr).not.toMatch(/^ums:/m);
    expect(send.stdout).toContain('reached 4 of 4 (AlimTalk 2, fallback LMS 2)');
    expect(send.stdout).not.toContain('did not go out');
    expect(send.stdout).not.toContain('fallback_unneeded');
    expect(send.code).toBe(0);

    const report = await runUms(['report', '--failed'], { cwd: dir });
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('reached 4 of 4 (AlimTalk 2, fallback LMS 2)');
    expect(report.stdout).not.toContain('did not go out');
    expect(report.stdout).not.toContain('fallback_unneeded');
    // legs below: 4 of the 6 messages the provider took were delivered
    expect(report.stdout).toContain('delivered   66.7% of messages the providers took');

    const r = json((await runUms(['report', '--json'], { cwd: dir })).stdout);
    expect(r.recipients).toMatchObject({
      total: 4,
      reached: 4,
      reachedRate: 1,
      byChannel: { alimtalk: 2, lms: 2 },
      byFallback: { lms: 2 },
      notReached: 0,
    });
    expect(r.statuses).toEqual({ delivered: 4, failed: 2, skipped: 2 }); // legs keep their meaning
    expect(r.deliveryRate).toBe(4 / 6);
    expect(r.reasons.map((x: any) => x.code)).toEqual(['3104']);
  });

  it('1 failure in 1,000: 99.9% (not 100.0%), the exact fraction in JSON, exit 3', async () => {
    const dir = workdir();
    const rows = Array.from({ length: 999 }, (_, i) => `고객${i},010-2300-${String(i).padStart(4, '0')}`);
    rows.push('실패,010-0304-0001'); // the simulator's carrier timeout (3040)
    writeCsv(dir, rows);
    fs.writeFileSync(path.join(dir, 's.md'), SMS);
    writeConfig(dir, { tps: 0, dlrDelayMs: 10 });
    const send = await runUms(['send', 'r.csv', '-t', 's.md', '--yes'], { cwd: dir });
    expect(send.code).toBe(3);
    expect(send.stdout).toContain('reached 999 of 1,000 (SMS 999) · 99.9%');
    expect(send.stdout).toContain('delivered   99.9% of messages');
    expect(send.stdout).not.toContain('100.0%');
    const r = json((await runUms(['report', '--json'], { cwd: dir })).stdout);
    expect(r.deliveryRate).toBe(0.999);
    expect(r.recipients.reachedRate).toBe(0.999);
    expect(r.recipients.notReached).toBe(1);
  });

  it('a list cut short says how many more', async () => {
    const dir = workdir();
    const rows = Array.from({ length: 23 }, (_, i) => `실패${i},010-0304-0${String(i).padStart(3, '0')}`);
    rows.push('가,010-2100-0001');
    writeCsv(dir, rows);
    fs.writeFileSync(path.join(dir, 's.md'), SMS);
    writeConfig(dir, { tps: 0, dlrDelayMs: 10 });
    const send = await runUms(['send', 'r.csv', '-t', 's.md', '--yes'], { cwd: dir });
    expect(send.code).toBe(3);
    expect(send.stdout).toContain('rows that did not go out');
    expect(send.stdout).toMatch(/… 3 more/);
    expect(send.stdout).toContain('reached 1 of 24 (SMS 1) · 4.2%');
    expect(send.stdout).toContain('failed 23');
  });
});

describe('times in the configured zone', () => {
  it('shows the report and exports in KST, and reads UMS_NOW without an offset in KST', async () => {
    const dir = workdir();
    writeCsv(dir, ['가,010-2100-0001']);
    fs.writeFileSync(path.join(dir, 's.md'), SMS);
    writeConfig(dir, { tps: 0, dlrDelayMs: 10 });
    const env = { UMS_NOW: '2026-12-02T12:00:00', TZ: 'UTC' };
    const send = await runUms(['send', 'r.csv', '-t', 's.md', '--yes'], { cwd: dir, env });
    expect(send.code).toBe(0);
    // the simulated carrier runs on the injected clock: noon in Seoul, not noon in UTC (21:00 KST)
    const at = carrierLog(dir)[0]!.at;
    const noon = Date.parse('2026-12-02T12:00:00+09:00');
    expect(at).toBeGreaterThanOrEqual(noon);
    expect(at).toBeLessThan(noon + 10 * 60_000);

    const r = json((await runUms(['report', '--json'], { cwd: dir, env })).stdout);
    const first: string = r.lanes[0].firstSentAt;
    expect(first).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?\+09:00$/);
    const text = (await runUms(['report'], { cwd: dir, env })).stdout;
    expect(text).toContain(`sent ${first.slice(0, 10)} ${first.slice(11, 16)} KST`);
    const exported = json(
      (await runUms(['export', r.campaign, '--format', 'json'], { cwd: dir, env })).stdout,
    );
    expect((exported as any)[0].sent_at).toMatch(/\+09:00$/);
    expect(Date.parse((exported as any)[0].sent_at)).toBe(Date.parse(first));
    const list = json((await runUms(['campaigns', '--json'], { cwd: dir, env })).stdout) as any;
    expect(list[0].createdAt).toMatch(/\+09:00$/);
  });

  it('reads UMS_NOW without an offset in the configured timezone', async () => {
    const dir = workdir();
    writeCsv(dir, ['가,010-2100-0001']);
    fs.writeFileSync(path.join(dir, 's.md'), SMS);
    fs.writeFileSync(
      path.join(dir, 'ums.config.yaml'),
      [
        'journal: ./journal.db',
        'timezone: Europe/Berlin',
        'providers:',
        '  sim: { type: sim, tps: 0, dlrDelayMs: 10 }',
        '',
      ].join('\n'),
    );
    const env = { UMS_NOW: '2026-12-02T12:00:00', TZ: 'UTC' };
    const send = await runUms(['send', 'r.csv', '-t', 's.md', '--yes'], { cwd: dir, env });
    expect(send.code).toBe(0);
    const at = carrierLog(dir)[0]!.at;
    const noon = Date.parse('2026-12-02T12:00:00+01:00');
    expect(at).toBeGreaterThanOrEqual(noon);
    expect(at).toBeLessThan(noon + 10 * 60_000);
    const r = json((await runUms(['report', '--json'], { cwd: dir, env })).stdout);
    expect(r.lanes[0].firstSentAt).toMatch(/\+01:00$/);
  });
});
