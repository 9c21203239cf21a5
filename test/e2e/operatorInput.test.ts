import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, type RunResult, runUms, workdir } from '../support/cli.js';

// Issue 15, the operator's input: Korean phone headers or phone-number content, campaign names in
// any script, `ums campaigns` with date and files, template text errors, dry-run exit codes, the demo.

const SMS = '---\nchannel: sms\n---\n#{이름}님, 주문이 접수되었습니다.\n';

function project(csv: string, template = SMS): string {
  const dir = workdir();
  fs.writeFileSync(path.join(dir, 'r.csv'), csv);
  fs.writeFileSync(path.join(dir, 't.md'), template);
  return dir;
}

const dryRun = (dir: string, extra: string[] = []): Promise<RunResult> =>
  runUms(['send', 'r.csv', '-t', 't.md', '--dry-run', '--db', 'j.db', ...extra], { cwd: dir });

function oneLine(r: RunResult, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('the phone column', () => {
  it.each([
    '연락처',
    '핸드폰',
    '핸드폰번호',
    '휴대폰번호',
    '휴대전화',
    '휴대전화번호',
    '수신번호',
    '수신자번호',
    '휴대폰 번호',
  ])('is found by the header %s, and the plan says so', async (name) => {
    const dir = project(`이름,${name},메모\n홍길동,010-1234-5678,x\n`);
    const r = await dryRun(dir, ['--json']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.statuses).toEqual({ planned: 1 });
    expect(plan.phoneColumn).toEqual({ name, how: 'header' });
  });

  it('is found by its values when no header names it, said in the human plan and the JSON', async () => {
    const dir = project(
      '이름,tel,주문번호\n홍길동,010-1234-5678,20261201001\n김철수,01098765432,20261201002\n',
    );
    const human = await dryRun(dir);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(
      /phone +column "tel" \(found by its values: no header names a phone column\)/,
    );
    const json = JSON.parse((await dryRun(dir, ['--json'])).stdout);
    expect(json.phoneColumn).toEqual({ name: 'tel', how: 'content' });
    expect(json.statuses).toEqual({ planned: 2 });
  });

  it('--phone-column is named as the reason', async () => {
    const dir = project('이름,phone,cell\n홍길동,010-1111-2222,010-1234-5678\n');
    const r = await dryRun(dir, ['--phone-column', 'cell', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).phoneColumn).toEqual({ name: 'cell', how: 'flag' });
  });

  it('two columns of phone numbers and no header naming one: exit 2 naming both, asking for --phone-column', async () => {
    const dir = project('이름,a,b\n홍길동,010-1234-5678,02-555-0100\n');
    const r = await dryRun(dir);
    oneLine(r, 2, /^ums: r\.csv line 1: .*"a", "b".*--phone-column/);
    const list = await runUms(['campaigns', '--json', '--db', 'j.db'], { cwd: dir });
    expect(JSON.parse(list.stdout), 'no campaign left behind').toEqual([]);
  });
});

describe('campaign names', () => {
  it('takes 12월-주문접수-1차, and finds it again typed in decomposed Hangul (NFD)', async () => {
    const dir = project('이름,휴대폰\n홍길동,010-1234-5678\n');
    const name = '12월-주문접수-1차';
    const r = await dryRun(dir, ['--campaign', name]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`campaign ${name}`);
    const nfd = name.normalize('NFD');
    expect(nfd).not.toBe(name);
    const report = await runUms(['report', nfd, '--db', 'j.db'], { cwd: dir });
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain(`campaign ${name}`);
    // planned again under the NFD spelling: the same campaign, not a second one
    expect((await dryRun(dir, ['--campaign', nfd])).stdout).toMatch(/already planned/);
    const list = JSON.parse((await runUms(['campaigns', '--json', '--db', 'j.db'], { cwd: dir })).stdout);
    expect(list.map((c: { id: string }) => c.id)).toEqual([name]);
  });

  it.each([
    ['a/b', /"\/" \(U\+002F\)/],
    ['a\u200bb', /U\+200B/],
    ['a\u202eb', /U\+202E/],
    ['x'.repeat(65), /65 characters/],
  ])('refuses %j with one line naming what is wrong (exit 2)', async (name, why) => {
    const dir = project('이름,휴대폰\n홍길동,010-1234-5678\n');
    const r = await dryRun(dir, ['--campaign', name]);
    oneLine(r, 2, /^ums: --campaign "/);
    expect(r.stderr).toMatch(why);
    expect(r.stderr).not.toMatch(/[\u200b\u202e]/);
  });
});

describe('ums campaigns', () => {
  it('lists date (Asia/Seoul), CSV and template file names, state and counts', async () => {
    const dir = project('이름,휴대폰\n홍길동,010-1234-5678\n김철수,010-123\n');
    fs.mkdirSync(path.join(dir, 'lists'));
    fs.renameSync(path.join(dir, 'r.csv'), path.join(dir, 'lists', '12월 주문.csv'));
    const plan = await runUms(
      ['send', 'lists/12월 주문.csv', '-t', 't.md', '--dry-run', '--db', 'j.db', '--campaign', '주문-1차'],
      { cwd: dir },
    );
    expect(plan.code, plan.stderr).toBe(3);
    const [human, json] = await Promise.all([
      runUms(['campaigns', '--db', 'j.db'], { cwd: dir }),
      runUms(['campaigns', '--json', '--db', 'j.db'], { cwd: dir }),
    ]);
    expect(human.code, human.stderr).toBe(0);
    const createdAt = JSON.parse(json.stdout)[0].createdAt as string;
    // Asia/Seoul is UTC+9 all year
    const kst = new Date(Date.parse(createdAt) + 9 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
    const [head, row] = human.stdout.trimEnd().split('\n');
    expect(head).toMatch(/^campaign +created +csv +template +state +rows +statuses$/);
    expect(row).toMatch(
      new RegExp(`^주문-1차 +${kst} +12월 주문\\.csv +t\\.md +draft +2 +planned 1 · rejected 1$`),
    );
  });
});

describe("the template's own text", () => {
  it('an emoji in an SMS template is one template error naming its file and line (exit 2), no campaign', async () => {
    const dir = project(
      '이름,휴대폰\n홍길동,010-1234-5678\n김철수,010-2222-3333\n',
      '---\nchannel: sms\n---\n#{이름}님,\n주문이 접수되었습니다 😀\n',
    );
    const r = await dryRun(dir);
    oneLine(r, 2, /^ums: t\.md line 5: "😀" \(U\+1F600\) in the body cannot go by SMS/);
    const list = await runUms(['campaigns', '--json', '--db', 'j.db'], { cwd: dir });
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  it('a subject outside EUC-KR in an LMS template: the subject line', async () => {
    const dir = project(
      '이름,휴대폰\n홍길동,010-1234-5678\n',
      '---\nchannel: lms\nsubject: "안내 ✅"\n---\n#{이름}님 안녕하세요\n',
    );
    oneLine(await dryRun(dir), 2, /^ums: t\.md line 3: "✅" \(U\+2705\) in the subject/);
  });

  it('an emoji a variable brings stays a rejection of that row; the dry run exits 3', async () => {
    const dir = project('이름,휴대폰\n홍길동😀,010-1234-5678\n김철수,010-2222-3333\n');
    const r = await dryRun(dir, ['--json']);
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout).statuses).toEqual({ planned: 1, rejected: 1 });
  });

  it('a dry run with nothing rejected exits 0', async () => {
    const dir = project('이름,휴대폰\n홍길동,010-1234-5678\n');
    expect((await dryRun(dir)).code).toBe(0);
  });
});

describe('npm run demo', () => {
  it("exits 0 and shows the fixture's broken number as a row that did not go out", async () => {
    // the demo script as package.json has it, without its build step (the binary is built), in a
    // fresh folder whose bin/ is this checkout's
    const script = (
      JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.demo as string
    ).replace(/^npm run build && /, '');
    const dir = workdir();
    fs.symlinkSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'));
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn('sh', ['-c', script], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/rows that did not go out\n\s+row \d+ .*invalid_phone/);
    expect(r.out).toMatch(/exit 3 above is expected/);
  }, 60_000);
});
