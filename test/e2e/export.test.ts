import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { writeConfig } from '../support/campaign.js';
import { type RunResult, runUms, UMS, workdir } from '../support/cli.js';

const require = createRequire(import.meta.url);
const Excel = require('exceljs') as typeof ExcelJS;
const iconv = require('iconv-lite') as typeof import('iconv-lite');

/**
 * `ums export` (issue 15, Export; DESIGN.md): the new columns sheet_row, leg, reached, text and the
 * recipient CSV's own columns; --encoding cp949; -o *.xlsx a real workbook; --excel-text.
 */

const ALIMTALK = [
  '---',
  'channel: alimtalk',
  'alimtalk:',
  '  pfId: KA01PF200101000000000000000000',
  '  templateId: KA01TP200101000000000000000001',
  '  text: "#{이름}님, 주문 #{주문번호} 발송되었습니다."',
  'fallback: auto',
  '---',
  '#{이름}님, 주문 #{주문번호} 발송되었습니다.',
].join('\n');

/**
 * Four customers: two KakaoTalk users (AlimTalk delivered), two not (010-0310-4xxx on the simulator:
 * 3104, their fallback SMS delivered). Row 2's name spans two lines in a quoted field.
 */
async function sent(dir: string, csv?: string): Promise<string> {
  fs.writeFileSync(
    path.join(dir, 'r.csv'),
    csv ??
      [
        '이름,핸드폰,주문번호',
        '김철수,010-2100-0001,00123',
        '"이\n영희",010-2100-0002,00456',
        '박민수,010-0310-4001,00789',
        '최지우,010-0310-4002,01000',
        '',
      ].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'a.md'), ALIMTALK);
  writeConfig(dir, { tps: 0, dlrDelayMs: 10 });
  const r = await runUms(['send', 'r.csv', '-t', 'a.md', '--phone-column', '핸드폰', '--yes', '--json'], {
    cwd: dir,
  });
  expect(r.stderr).toBe('');
  return (JSON.parse(r.stdout) as { campaign: string }).campaign;
}

const OURS =
  'row,to,channel,status,reason,parts,bytes,provider,provider_id,attempts,cost,sent_at,done_at,sheet_row,leg,reached,text';

describe('export CSV', () => {
  it("has today's columns, then sheet_row, leg, reached, text, then the CSV's own columns; sheet_row is the row Excel shows", async () => {
    const dir = workdir();
    const id = await sent(dir);
    const r = await runUms(['export', id], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(`\uFEFF${OURS},이름,핸드폰,주문번호\n`)).toBe(true);
    const rows = parse(r.stdout.slice(1), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(8); // 4 recipients x 2 legs
    const by = (row: string, leg: string): Record<string, string> =>
      rows.find((x) => x.row === row && x.leg === leg)!;
    // the header is sheet row 1; the quoted two-line name is still one spreadsheet row
    expect(rows.map((x) => `${x.row}:${x.sheet_row}`)).toEqual([
      '1:2',
      '1:2',
      '2:3',
      '2:3',
      '3:4',
      '3:4',
      '4:5',
      '4:5',
    ]);
    expect(by('2', '0')).toMatchObject({
      이름: '이\n영희',
      핸드폰: '010-2100-0002',
      주문번호: '00456',
      to: '01021000002',
      text: '이\n영희님, 주문 00456 발송되었습니다.',
      reached: 'true',
    });
    // not a KakaoTalk user: the AlimTalk failed, the SMS fallback delivered: reached, on both legs
    expect(by('3', '0')).toMatchObject({ channel: 'alimtalk', status: 'failed', reached: 'true' });
    expect(by('3', '1')).toMatchObject({
      channel: 'sms',
      status: 'delivered',
      reached: 'true',
      주문번호: '00789',
    });
    // times carry the configured zone's offset (Asia/Seoul by default)
    expect(by('1', '0').sent_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+09:00$/);
  });

  it('--excel-text writes numbers with a leading 0 as ="..." so Excel keeps the 0 (full numbers, never masked)', async () => {
    const dir = workdir();
    const id = await sent(dir);
    const r = await runUms(['export', id, '--excel-text'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const rows = parse(r.stdout.slice(1), { columns: true }) as Record<string, string>[];
    expect(rows[0]).toMatchObject({ to: '="01021000001"', 주문번호: '="00123"', 이름: '김철수' });
  });

  it('--encoding cp949 round-trips: the same export as the UTF-8 one, in CP949 without a BOM', async () => {
    const dir = workdir();
    const id = await sent(dir);
    const utf8 = await runUms(['export', id, '-o', 'u.csv'], { cwd: dir });
    const cp949 = await runUms(['export', id, '--encoding', 'cp949', '-o', 'k.csv'], { cwd: dir });
    expect([utf8.code, cp949.code, cp949.stderr]).toEqual([0, 0, '']);
    const bytes = fs.readFileSync(path.join(dir, 'k.csv'));
    expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    expect(iconv.decode(bytes, 'cp949')).toBe(fs.readFileSync(path.join(dir, 'u.csv'), 'utf8').slice(1));
    expect(bytes.includes(iconv.encode('이름', 'cp949'))).toBe(true);
    expect(fs.statSync(path.join(dir, 'k.csv')).mode & 0o777).toBe(0o600);
  });

  it('--encoding cp949: characters CP949 cannot hold become "?", said in one warning line naming the first', async () => {
    const dir = workdir();
    const id = await sent(
      dir,
      '이름,핸드폰,주문번호\n김철수,010-2100-0001,00123\n박😀,010-2100-0002,00456\n',
    );
    const r = await runUms(['export', id, '--encoding', 'cp949', '-o', 'k.csv'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^ums: warning: --encoding cp949: \d+ values had characters CP949 cannot hold, written as "\?" \(first: sheet row 3, column [a-z_]+\); the UTF-8 CSV or -o FILE\.xlsx keeps them\n$/,
    );
    const text = iconv.decode(fs.readFileSync(path.join(dir, 'k.csv')), 'cp949');
    expect(text).toContain(',박?,010-2100-0002,00456');
    expect(text).toContain(',김철수,010-2100-0001,00123');
  });

  it('a CSV changed since planning: exported without its own columns, one warning line', async () => {
    const dir = workdir();
    const id = await sent(dir);
    fs.appendFileSync(path.join(dir, 'r.csv'), '정하나,010-2100-0009,00999\n');
    const r = await runUms(['export', id], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'ums: warning: r.csv: changed since the campaign was planned: exported without its own columns\n',
    );
    expect(r.stdout.startsWith(`\uFEFF${OURS}\n`)).toBe(true);
  });

  it('run from another folder, still finds the CSV the campaign was planned from', async () => {
    const dir = workdir();
    const id = await sent(dir);
    const elsewhere = workdir();
    const r = await runUms(['export', id, '--db', path.join(dir, 'journal.db')], { cwd: elsewhere });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout.startsWith(`\uFEFF${OURS},이름,핸드폰,주문번호\n`)).toBe(true);
  });

  it('a CSV column named like one of ours (to, text) is exported as csv_to, csv_text beside ours', async () => {
    const dir = workdir();
    fs.writeFileSync(path.join(dir, 'r.csv'), 'to,text\n010-2100-0001,안녕\n');
    fs.writeFileSync(path.join(dir, 't.md'), '---\nchannel: sms\n---\n#{text}하세요\n');
    const plan = await runUms(
      ['send', 'r.csv', '-t', 't.md', '--phone-column', 'to', '--dry-run', '--json'],
      {
        cwd: dir,
      },
    );
    const id = (JSON.parse(plan.stdout) as { campaign: string }).campaign;
    const r = await runUms(['export', id, '--format', 'json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({
      to: '01021000001',
      text: '안녕하세요',
      csv_to: '010-2100-0001',
      csv_text: '안녕',
    });
  });

  it('refuses an unknown --encoding and --encoding with json (exit 2, one line)', async () => {
    const dir = workdir();
    const id = await sent(dir);
    const bad = await runUms(['export', id, '--encoding', 'latin1'], { cwd: dir });
    expect([bad.code, bad.stderr]).toEqual([2, 'ums: --encoding "latin1": use utf8 or cp949\n']);
    const json = await runUms(['export', id, '--format', 'json', '--encoding', 'cp949'], { cwd: dir });
    expect(json.code).toBe(2);
    expect(json.stderr).toMatch(/^ums: --encoding cp949: only a CSV export has an encoding[^\n]*\n$/);
  });
});

describe('export -o result.xlsx', () => {
  it('writes a real workbook (0600): phone numbers as text cells with their 0, times as date cells, a summary sheet', async () => {
    const dir = workdir();
    const id = await sent(dir);
    const r = await runUms(['export', id, '-o', 'result.xlsx'], { cwd: dir });
    expect([r.code, r.stderr, r.stdout]).toEqual([0, '', '']);
    const file = path.join(dir, 'result.xlsx');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const book = new Excel.Workbook();
    await book.xlsx.readFile(file);
    const sheet = book.getWorksheet('messages')!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(header.join(',')).toBe(`${OURS},이름,핸드폰,주문번호`);
    const col = (name: string): number => header.indexOf(name) + 1;
    expect(sheet.rowCount).toBe(9);
    const first = sheet.getRow(2);
    const to = first.getCell(col('to'));
    expect(to.type).toBe(Excel.ValueType.String);
    expect(to.value).toBe('01021000001');
    expect(first.getCell(col('주문번호')).type).toBe(Excel.ValueType.String);
    expect(first.getCell(col('주문번호')).value).toBe('00123');
    expect(first.getCell(col('핸드폰')).value).toBe('010-2100-0001');
    const sentAt = first.getCell(col('sent_at'));
    expect(sentAt.type).toBe(Excel.ValueType.Date);
    expect(sentAt.value).toBeInstanceOf(Date);
    expect(first.getCell(col('row')).type).toBe(Excel.ValueType.Number);
    expect(first.getCell(col('sheet_row')).value).toBe(2);
    expect(first.getCell(col('reached')).value).toBe(true);

    // the date cell shows Seoul's wall clock: the CSV export's +09:00 time, read as if it were UTC
    const csv = await runUms(['export', id, '--format', 'json'], { cwd: dir });
    const sentIso = (JSON.parse(csv.stdout) as { sent_at: string }[])[0]!.sent_at;
    expect((sentAt.value as Date).toISOString().slice(0, 19)).toBe(sentIso.slice(0, 19));

    const summary = book.getWorksheet('summary')!;
    expect(summary).toBeDefined();
    const lines = new Map<string, unknown>();
    summary.eachRow((row) => lines.set(String(row.getCell(1).value), row.getCell(2).value));
    expect(lines.get('recipients')).toBe(4);
    expect(lines.get('reached')).toBe(4);
    expect(lines.get('delivered')).toBe(4);
    expect(lines.get('failed')).toBe(2);
  });

  it('a write failing mid-workbook (the file size limit) is one line, exit 1, no temp file, the old file kept', async () => {
    const dir = workdir();
    const lines = ['name,phone'];
    for (let i = 0; i < 5000; i++) lines.push(`고객${i},010${String(30_000_000 + i)}`);
    fs.writeFileSync(path.join(dir, 'r.csv'), `${lines.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 't.md'), '---\nchannel: auto\n---\n#{name}님 안녕하세요\n');
    const plan = await runUms(['send', 'r.csv', '-t', 't.md', '--dry-run', '--json', '--db', 'j.db'], {
      cwd: dir,
    });
    const id = (JSON.parse(plan.stdout) as { campaign: string }).campaign;
    fs.writeFileSync(path.join(dir, 'out.xlsx'), 'the previous export\n');
    // 200 KiB, and the workbook is over 300 KB (Node reports EFBIG, no signal)
    const r = await new Promise<RunResult>((resolve) => {
      const child = spawn(
        'bash',
        ['-c', `ulimit -f 200; exec "${process.execPath}" "${UMS}" export ${id} -o out.xlsx --db j.db`],
        { cwd: dir, env: { ...process.env, NO_COLOR: '1' } },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ums: -o out\.xlsx: cannot write: file too large[^\n]*\n$/);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'out.xlsx'), 'utf8')).toBe('the previous export\n');
    // without the limit the same export replaces it with a workbook (a zip), whole
    const ok = await runUms(['export', id, '-o', 'out.xlsx', '--db', 'j.db'], { cwd: dir });
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    const book = new Excel.Workbook();
    await book.xlsx.readFile(path.join(dir, 'out.xlsx'));
    expect(book.getWorksheet('messages')!.rowCount).toBe(5001);
  });

  it('--format xlsx needs -o (a workbook is not written to stdout)', async () => {
    const dir = workdir();
    const id = await sent(dir);
    const r = await runUms(['export', id, '--format', 'xlsx'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ums: --format xlsx: name the workbook with -o FILE\.xlsx[^\n]*\n$/);
    expect(r.stdout).toBe('');
  });
});
