import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runUms, workdir } from '../support/cli.js';
import { FakeSolapi } from '../support/fakeSolapi.js';

const KEY = 'NCSE2EAPIKEY0003';
const SECRET = 'e2e-testsend-secret-do-not-print';
const ENV = { SOLAPI_API_KEY: KEY, SOLAPI_API_SECRET: SECRET };

const json = (s: string): Record<string, any> => JSON.parse(s) as Record<string, any>;

const fakes: FakeSolapi[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

const REAL = ['01031000001', '01031000002', '01031000003'];
const SMS = '---\nchannel: auto\n---\n#{name}님, 주문하신 #{item} 상품이 발송되었습니다.\n';
const AD = [
  '---',
  'ad: true',
  'sender: 한빛마트',
  '---',
  '(광고) 한빛마트',
  '#{name}님, 겨울 세일이 시작되었습니다.',
  '무료수신거부 080-123-4567',
  '',
].join('\n');

async function setup(template = SMS): Promise<{ f: FakeSolapi; dir: string }> {
  const f = await FakeSolapi.start({ apiKey: KEY, apiSecret: SECRET, reportDelayMs: 10 });
  fakes.push(f);
  const dir = workdir();
  const config = [
    'journal: ./journal.db',
    'from: "0212345678"',
    'providers:',
    '  solapi:',
    '    type: solapi',
    '    apiKey: "${SOLAPI_API_KEY}"',
    '    apiSecret: "${SOLAPI_API_SECRET}"',
    `    baseUrl: ${JSON.stringify(f.url)}`,
    '    tps: 2000',
    '    timeoutMs: 3000',
    'routes:',
    '  default: solapi',
    '',
  ];
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), config.join('\n'));
  fs.writeFileSync(
    path.join(dir, 'r.csv'),
    'name,phone,item\n김하나,010-3100-0001,목도리\n이두리,010-3100-0002,장갑\n박세나,010-3100-0003,모자\n',
  );
  fs.writeFileSync(path.join(dir, 't.md'), template);
  return { f, dir };
}

const ums = (args: string[], dir: string, env: Record<string, string> = {}) =>
  runUms(args, { cwd: dir, env: { ...ENV, ...env } });

describe('ums send --test (fake Solapi on 127.0.0.1)', () => {
  it('sends the rendered rows to the test numbers only, journaled apart; the real send still reaches everyone', async () => {
    const { f, dir } = await setup();
    const res = await ums(
      [
        'send',
        'r.csv',
        '-t',
        't.md',
        '--test',
        '010-9999-0001, 01099990002',
        '--rows',
        '3,4',
        '--yes',
        '--json',
      ],
      dir,
    );
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const out = json(res.stdout);
    expect(out.test.id).toBe(`${out.test.of}.test-1`);
    expect(out.campaign).toBe(out.test.id);
    expect(out.test.messages.map((m: any) => `${m.sheetRow} ${m.to} ${m.status}`)).toEqual([
      '3 010-****-0001 sent',
      '3 010-****-0002 sent',
      '4 010-****-0001 sent',
      '4 010-****-0002 sent',
    ]);
    // what Solapi took: the rendered rows 3 and 4, to the test numbers, nothing to a customer
    expect(f.accepted().map((m) => `${m.to} ${m.text}`)).toEqual([
      '01099990001 이두리님, 주문하신 장갑 상품이 발송되었습니다.',
      '01099990002 이두리님, 주문하신 장갑 상품이 발송되었습니다.',
      '01099990001 박세나님, 주문하신 모자 상품이 발송되었습니다.',
      '01099990002 박세나님, 주문하신 모자 상품이 발송되었습니다.',
    ]);

    // for people: default row 2, what went to which masked number; a second test is test-2
    const human = await ums(['send', 'r.csv', '-t', 't.md', '--test', '010-9999-0001', '--yes'], dir);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`test send ${out.test.of}.test-2 (a test of campaign ${out.test.of};`);
    expect(human.stdout).toMatch(/row 2 -> 010-\*\*\*\*-0001: sms, sent: 김하나님, 주문하신 목도리/);
    expect(human.stdout).not.toContain('01099990001');

    const report = await ums(['report', `${out.test.of}.test-1`, '--json'], dir);
    expect(report.code, report.stderr).toBe(0);
    expect(json(report.stdout)).toMatchObject({ campaign: `${out.test.of}.test-1`, statuses: { sent: 4 } });

    // the campaign itself was never planned by the tests: the real send plans it and reaches all three
    const real = await ums(['send', 'r.csv', '-t', 't.md', '--yes', '--json'], dir);
    expect(real.code, real.stderr).toBe(0);
    const r = json(real.stdout);
    expect(r.campaign).toBe(out.test.of);
    expect(r.statuses.sent).toBe(3);
    const per = f.acceptedPerRecipient();
    expect(REAL.map((p) => per.get(p))).toEqual([1, 1, 1]);
    expect(f.accepted()).toHaveLength(8);
  });

  it("a test send's report names the sheet rows it was rendered from, not its own row numbers", async () => {
    const { dir } = await setup();
    // 01000001026: a number the fake refuses (1026, a duplicate recipient), so the report lists it as a problem row
    const res = await ums(
      ['send', 'r.csv', '-t', 't.md', '--test', '01000001026', '--rows', '4', '--yes'],
      dir,
    );
    expect(res.code, res.stderr).toBe(3);
    const list = json((await ums(['campaigns', '--json'], dir)).stdout) as unknown as { id: string }[];
    const id = list.map((c) => c.id).find((x) => x.endsWith('.test-1'))!;
    const report = await ums(['report', id, '--failed'], dir);
    expect(report.code).toBe(3);
    expect(report.stdout).toMatch(/row 4 {2,}010-\*\*\*\*-1026/);
    expect(report.stdout).not.toMatch(/row 2 {2,}010-\*\*\*\*-1026/);
  });

  it('checks the opt-out list for the test number, and quiet hours for an ad (deferred, said so)', async () => {
    const { f, dir } = await setup(AD);
    expect((await ums(['optout', 'add', '010-9999-0009'], dir)).code).toBe(0);
    const opted = await ums(
      ['send', 'r.csv', '-t', 't.md', '--test', '010-9999-0009', '--yes', '--json'],
      dir,
    );
    expect(json(opted.stdout).test.messages).toMatchObject([{ to: '010-****-0009', status: 'skipped' }]);
    expect(f.accepted()).toHaveLength(0);

    const night = { UMS_NOW: '2026-11-25T22:30:00+09:00' };
    const ad = await ums(['send', 'r.csv', '-t', 't.md', '--test', '010-9999-0001', '--yes'], dir, night);
    expect(ad.code, ad.stderr).toBe(0);
    expect(ad.stderr).toMatch(/quiet hours .* 1 deferred, resume after 08:00/);
    expect(ad.stdout).toMatch(/row 2 -> 010-\*\*\*\*-0001: sms, planned/);
    expect(ad.stdout).toContain('quiet hours apply to a test send as well');
    expect(f.accepted()).toHaveLength(0);
  });

  it('names the flag for a bad test number or a row out of range (exit 2), and leaves no campaign', async () => {
    const { f, dir } = await setup();
    const cases: [string[], RegExp][] = [
      [['--test', '02-123-4567'], /^ums: --test "02-\*\*\*-4567": not a mobile number/],
      [['--test', '010-9999-0001,abc'], /^ums: --test "abc": not a mobile number/],
      // a mistyped number is masked too: letters glued to it (or in it) make it no number, not public
      [['--test', '010-9876-5432x'], /^ums: --test "010-\*\*\*\*-5432x": not a mobile number/],
      [['--test', 'o10-9876-5432'], /^ums: --test "o10-9\*\*\*-5432": not a mobile number/],
      [['--test', '010_9876_5432'], /^ums: --test "010_\*\*\*\*_5432": not a mobile number/],
      // 010 takes 8 digits after it (the CSV's rule: src/campaign/phone.ts); 10 digits is a typo
      [['--test', '010-9876-543'], /^ums: --test "010-\*\*\*-6543": not a mobile number/],
      [['--test', '0109876543'], /^ums: --test "010-\*\*\*-6543": not a mobile number/],
      [['--test', '010-9999-0001', '--rows', '9'], /^ums: --rows 9: r\.csv has no row 9 \(its rows are 2-4/],
      [['--test', '010-9999-0001', '--rows', '1'], /^ums: --rows 1: row 1 is the header/],
      [['--test', '010-9999-0001', '--rows', '2,x'], /^ums: --rows "x": expected spreadsheet row numbers/],
      [['--rows', '2'], /^ums: --rows: only with --test/],
    ];
    for (const [flags, message] of cases) {
      const res = await ums(['send', 'r.csv', '-t', 't.md', ...flags, '--yes'], dir);
      expect(res.code, flags.join(' ')).toBe(2);
      expect(res.stderr.trim().split('\n'), flags.join(' ')).toHaveLength(1);
      expect(res.stderr, flags.join(' ')).toMatch(message);
      expect(res.stderr.replace(/\D/g, ''), flags.join(' ')).not.toContain('98765');
    }
    const list = await ums(['campaigns', '--json'], dir);
    expect(JSON.stringify(json(list.stdout))).not.toContain('test-');
    expect(f.stats.sendRequests).toBe(0);
  });

  it('a real campaign is never a test campaign: --campaign <x>.test-<N> is refused (exit 2), and the real send still reaches everyone', async () => {
    const { f, dir } = await setup();
    const test = await ums(
      [
        'send',
        'r.csv',
        '-t',
        't.md',
        '--campaign',
        'foo',
        '--test',
        '01099990001',
        '--rows',
        '2,3',
        '--yes',
        '--json',
      ],
      dir,
    );
    expect(test.code, test.stderr).toBe(0);
    expect(json(test.stdout).campaign).toBe('foo.test-1');
    for (const name of ['foo.test-1', 'foo.test-7', 'other.test-12']) {
      const real = await ums(['send', 'r.csv', '-t', 't.md', '--campaign', name, '--yes'], dir);
      expect(real.code, real.stderr + real.stdout).toBe(2);
      expect(real.stderr.trim().split('\n')).toHaveLength(1);
      expect(real.stderr).toMatch(
        new RegExp(`^ums: --campaign "${name.replace('.', '\\.')}": .*reserved for test sends`),
      );
    }
    expect(f.accepted().map((m) => m.to)).toEqual(['01099990001', '01099990001']);
    const list = JSON.stringify(json((await ums(['campaigns', '--json'], dir)).stdout));
    expect(list).not.toContain('other.test-12');
    // names that merely contain "test" stay names
    const real = await ums(
      ['send', 'r.csv', '-t', 't.md', '--campaign', 'foo.test-run', '--yes', '--json'],
      dir,
    );
    expect(real.code, real.stderr).toBe(0);
    expect(json(real.stdout).statuses.sent).toBe(3);
    const per = f.acceptedPerRecipient();
    expect(REAL.map((p) => per.get(p))).toEqual([1, 1, 1]);
  });

  it('every row rejected at planning: exit 3 for a send and a test send (DESIGN.md), nothing sent', async () => {
    const { f, dir } = await setup();
    fs.writeFileSync(path.join(dir, 'short.csv'), 'name,phone,item\n김하나,0101234,목도리\n');
    const real = await ums(['send', 'short.csv', '-t', 't.md', '--yes', '--json'], dir);
    expect(real.code, real.stderr + real.stdout).toBe(3);
    expect(json(real.stdout)).toMatchObject({ outcome: 'already-finished', statuses: { rejected: 1 } });
    const human = await ums(['send', 'short.csv', '-t', 't.md', '--yes'], dir);
    expect(human.code, human.stderr + human.stdout).toBe(3);

    // an SMS template too long for one SMS: the test send shows it rejected, and says so by its exit code
    fs.writeFileSync(
      path.join(dir, 'long.md'),
      `---\nchannel: sms\nfallback: none\n---\n#{name}님 ${'가'.repeat(60)}\n`,
    );
    const test = await ums(
      ['send', 'r.csv', '-t', 'long.md', '--test', '01099990001', '--yes', '--json'],
      dir,
    );
    expect(test.code, test.stderr + test.stdout).toBe(3);
    expect(json(test.stdout).test.messages).toMatchObject([{ to: '010-****-0001', status: 'rejected' }]);
    expect(f.stats.sendRequests).toBe(0);

    // resume with nothing (left) to do is done: 0
    const resume = await ums(['resume', json(real.stdout).campaign], dir);
    expect(resume.code, resume.stderr + resume.stdout).toBe(0);
  });

  it('a test dry run shows its plan and leaves no test campaign in the journal; the next test is still test-1', async () => {
    const { f, dir } = await setup();
    for (const extra of [['--json'], []]) {
      const dry = await ums(
        ['send', 'r.csv', '-t', 't.md', '--test', '010-9999-0001', '--rows', '3', '--dry-run', ...extra],
        dir,
      );
      expect(dry.code, dry.stderr + dry.stdout).toBe(0);
      if (extra.length) expect(json(dry.stdout)).toMatchObject({ dryRun: true, statuses: { planned: 1 } });
      else expect(dry.stdout).toMatch(/010-\*\*\*\*-0001/);
      const list = await ums(['campaigns', '--json'], dir);
      expect(list.code, list.stderr).toBe(0);
      expect(JSON.stringify(json(list.stdout))).not.toContain('.test-');
    }
    const sent = await ums(
      ['send', 'r.csv', '-t', 't.md', '--test', '010-9999-0001', '--yes', '--json'],
      dir,
    );
    expect(sent.code, sent.stderr + sent.stdout).toBe(0);
    expect(json(sent.stdout).campaign).toMatch(/\.test-1$/);
    expect(f.stats.sendRequests).toBe(1);
  });
});
