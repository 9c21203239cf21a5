import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type RunResult, runUms, workdir } from '../support/cli.js';

// DESIGN.md's export contract, written out here on purpose (not imported from src).
const COLUMNS = [
  'row',
  'to',
  'channel',
  'status',
  'reason',
  'parts',
  'bytes',
  'provider',
  'provider_id',
  'attempts',
  'cost',
  'sent_at',
  'done_at',
  'sheet_row',
  'leg',
  'reached',
  'text',
  // then the recipient CSV's own columns (fixtures/recipients.csv)
  'name',
  'phone',
  'shop',
  'item',
  'invoice',
];
const SMS_PRICE = 13; // DOMAIN.md's default KRW per SMS part, with no config

/** A temp project with fixtures/ and templates/ laid out like the repository. */
function project(): string {
  const dir = workdir();
  fs.mkdirSync(path.join(dir, 'fixtures'));
  fs.mkdirSync(path.join(dir, 'templates'));
  for (const f of ['orders.csv', 'orders-bom.csv', 'orders-cp949.csv'])
    fs.copyFileSync(path.join(ROOT, 'fixtures', f), path.join(dir, 'fixtures', f));
  fs.copyFileSync(
    path.join(ROOT, 'templates', 'order-shipped.md'),
    path.join(dir, 'templates', 'order-shipped.md'),
  );
  return dir;
}

function ok(r: RunResult, code = 0): RunResult {
  expect(r.stderr, `stderr of a run that should succeed`).toBe('');
  expect(r.code, r.stderr).toBe(code);
  return r;
}

/** A dry run's plan; DESIGN.md: exit 3 when some rows are rejected, else 0. */
async function dryRun(dir: string, csv: string, extra: string[] = []): Promise<Record<string, any>> {
  const r = planned(
    await runUms(
      [
        'send',
        csv,
        '-t',
        'templates/order-shipped.md',
        '--dry-run',
        '--db',
        path.join(dir, 'j.db'),
        '--json',
        ...extra,
      ],
      { cwd: dir },
    ),
  );
  return JSON.parse(r.stdout) as Record<string, any>;
}

/** A dry run that printed its plan: exit 3 when the plan rejects rows, 0 when it rejects none. */
function planned(r: RunResult): RunResult {
  expect(r.stderr, `stderr of a run that should succeed`).toBe('');
  expect([0, 3], r.stderr).toContain(r.code);
  if (r.stdout.trimStart().startsWith('{')) {
    const rejected = (JSON.parse(r.stdout) as { statuses: Record<string, number> }).statuses.rejected ?? 0;
    expect(r.code, 'exit 3 exactly when rows are rejected').toBe(rejected > 0 ? 3 : 0);
  }
  return r;
}

async function exportCsv(dir: string, id: string): Promise<string> {
  return ok(await runUms(['export', id, '--format', 'csv', '--db', path.join(dir, 'j.db')], { cwd: dir }))
    .stdout;
}

function csvRows(text: string): Record<string, string>[] {
  return parse(text.replace(/^\uFEFF/, ''), { columns: true }) as Record<string, string>[];
}

/** The rendered texts, by hand from fixtures/orders.csv and templates/order-shipped.md. */
const row1Text = '[한빛마트] 홍길동님, 주문하신 무선 이어폰 상품이 발송되었습니다. 송장 6021-3344-1001';
const row6Text = '[Hanbit Mart] Emily Park님, 주문하신 Tumbler 상품이 발송되었습니다. 송장 6021-3344-1006';
const ucs2Parts = (s: string): number => (s.length <= 70 ? 1 : Math.ceil(s.length / 67));

/** One project, planned once: the fixtures in all three encodings, shared by the tests below. */
interface Shared {
  dir: string;
  textFirst: RunResult;
  textAgain: RunResult;
  rerun: Record<string, any>;
  bom: Record<string, any>;
  cp949: Record<string, any>;
  csv: string[];
  json: string;
  campaigns: Record<string, any>[];
}

let shared: Shared;

beforeAll(async () => {
  const dir = project();
  const db = ['--db', 'j.db'];
  const tpl = ['-t', 'templates/order-shipped.md', '--dry-run'];
  // first alone: it creates the journal and the orders.csv campaign; then the rest side by side
  const textFirst = await runUms(['send', 'fixtures/orders.csv', ...tpl, ...db], { cwd: dir });
  const [rerun, bom, cp949, textAgain] = await Promise.all([
    dryRun(dir, 'fixtures/orders.csv'),
    dryRun(dir, 'fixtures/orders-bom.csv'),
    dryRun(dir, 'fixtures/orders-cp949.csv', ['--campaign', 'kr-excel']),
    runUms(['send', 'fixtures/orders.csv', ...tpl, ...db], { cwd: dir }),
  ]);
  const [list, json, ...csv] = await Promise.all([
    runUms(['campaigns', '--json', ...db], { cwd: dir }),
    runUms(['export', rerun.campaign, '--format', 'json', ...db], { cwd: dir }),
    ...[rerun, bom, cp949].map((p) => exportCsv(dir, p.campaign)),
  ]);
  shared = {
    dir,
    // fixtures/orders.csv has one broken number on purpose: a dry run with a rejected row exits 3
    textFirst: ok(textFirst, 3),
    textAgain: ok(textAgain, 3),
    rerun,
    bom,
    cp949,
    csv: csv as string[],
    json: ok(json as RunResult).stdout,
    campaigns: JSON.parse(ok(list as RunResult).stdout) as Record<string, any>[],
  };
}, 120_000);

describe.concurrent('ums send --dry-run: planning a campaign', () => {
  it('plans fixtures/orders.csv and reports the counts as JSON', () => {
    const plan = shared.rerun; // fixtures/orders.csv (UTF-8)
    // the fixture: rows 1-3 and 6 valid, row 4 "010-1234" too short, row 5 "010 1234 5678" = row 1
    expect(plan.dryRun).toBe(true);
    expect(shared.bom.newlyPlanned).toBe(true); // the first run of those bytes
    expect(plan.campaign).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
    expect(plan.state).toBe('draft');
    expect(plan.rows).toBe(6);
    expect(plan.encoding).toBe('utf8');
    expect(plan.statuses).toEqual({ planned: 4, rejected: 1, skipped: 1 });
    expect(plan.channels.sms.count).toBe(4);
    expect(plan.channels.sms.parts).toBe(3 + ucs2Parts(row6Text));
    expect(plan.estimatedCost).toBe(SMS_PRICE * plan.channels.sms.parts);
    expect(plan.preview[0]).toEqual({
      row: 1,
      to: '010-****-5678',
      channel: 'sms',
      bytes: iconv.encode(row1Text, 'cp949').length,
      subject: null,
      text: row1Text,
    });
    // people see masked numbers only
    expect(JSON.stringify(plan)).not.toContain('01012345678');
    const reasons = Object.fromEntries(plan.reasons.map((r: any) => [r.code, r]));
    expect(reasons.invalid_phone).toMatchObject({ count: 1, firstRow: 4 });
    expect(reasons.duplicate).toMatchObject({
      count: 1,
      firstRow: 5,
      example: 'duplicate: duplicate of row 2',
    });
  });

  it('prints a readable summary without --json', () => {
    const r = shared.textFirst;
    expect(r.stdout).toMatch(/dry run: planned as a draft, nothing sent/);
    expect(r.stdout).toContain(row1Text);
    expect(r.stdout).toMatch(/UTF-8/);
    expect(r.stdout).not.toContain('01012345678');
    expect(r.stdout).not.toMatch(/\x1b\[/); // no colour when not a TTY
  });

  it('exports one row per recipient with DESIGN.md columns, a BOM and full numbers', () => {
    const text = shared.csv[0]!;
    expect(text.startsWith('\uFEFF')).toBe(true);
    expect(text.slice(1).split(/\r?\n/)[0]).toBe(COLUMNS.join(','));
    const rows = csvRows(text);
    expect(rows.map((r) => r.row)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(rows[0]).toMatchObject({
      to: '01012345678',
      channel: 'sms',
      status: 'planned',
      reason: '',
      parts: '1',
      attempts: '0',
      sent_at: '',
    });
    expect(Number(rows[0]!.bytes)).toBe(iconv.encode(row1Text, 'cp949').length);
    expect(rows[1]).toMatchObject({ to: '01098765432', status: 'planned' });
    expect(rows[2]).toMatchObject({ to: '01055550101', status: 'planned' }); // +82 10-5555-0101
    expect(rows[3]).toMatchObject({ to: '', status: 'rejected' });
    expect(rows[3]!.reason).toMatch(/^invalid_phone: .*010-1234/);
    expect(rows[4]).toMatchObject({
      to: '01012345678',
      status: 'skipped',
      reason: 'duplicate: duplicate of row 2',
    });
    expect(rows[5]).toMatchObject({
      to: '+14155550132',
      channel: 'sms',
      status: 'planned',
      parts: String(ucs2Parts(row6Text)),
    });
  });

  it('UTF-8, UTF-8 with BOM and CP949 copies of the CSV give identical plans and exports', () => {
    const plans = [shared.rerun, shared.bom, shared.cp949];
    expect(plans.map((p) => p.encoding)).toEqual(['utf8', 'utf8', 'cp949']);
    expect(new Set(plans.map((p) => p.campaign)).size).toBe(3);
    const strip = (p: Record<string, any>) => ({
      ...p,
      campaign: undefined,
      csv: undefined,
      encoding: undefined,
      newlyPlanned: undefined,
    });
    expect(strip(shared.bom)).toEqual(strip(shared.rerun));
    expect(strip(shared.cp949)).toEqual(strip(shared.rerun));
    expect(shared.cp949.preview[0].text).toBe(row1Text);
    expect(shared.cp949.preview.map((p: any) => p.text)).toEqual(
      shared.rerun.preview.map((p: any) => p.text),
    );
    expect(shared.csv[1]).toBe(shared.csv[0]);
    expect(shared.csv[2]).toBe(shared.csv[0]);
    expect(shared.csv[0]).not.toContain('\uFFFD');
  });

  it('keeps Hangul intact in the export whatever the CSV encoding (never mojibake)', async () => {
    const dir = workdir();
    fs.writeFileSync(path.join(dir, 't.md'), '---\nchannel: auto\n---\n#{이름}님, #{상품} 발송\n');
    // row 2: empty 이름 -> reason names the Hangul column; row 3: 똠 (CP949-only) -> reason quotes it
    const csv =
      '이름,휴대폰,상품\n홍길동,010-1111-2222,담요\n,010-3333-4444,담요\n김똠,010-5555-6666,머그컵\n';
    fs.writeFileSync(path.join(dir, 'u.csv'), csv);
    fs.writeFileSync(path.join(dir, 'b.csv'), `\uFEFF${csv}`);
    fs.writeFileSync(path.join(dir, 'k.csv'), iconv.encode(csv, 'cp949'));
    const plan = async (f: string) => {
      const r = planned(
        await runUms(['send', f, '-t', 't.md', '--dry-run', '--json', '--db', 'j.db'], { cwd: dir }),
      );
      return JSON.parse(r.stdout).campaign as string;
    };
    const first = await plan('u.csv'); // creates the journal before the parallel runs use it
    const ids = [first, ...(await Promise.all([plan('b.csv'), plan('k.csv')]))];
    const [u, b, k, kJson] = await Promise.all([
      ...ids.map((id) => runUms(['export', id, '--db', 'j.db'], { cwd: dir })),
      runUms(['export', ids[2]!, '--format', 'json', '--db', 'j.db'], { cwd: dir }),
    ]);
    expect(ok(b!).stdout).toBe(ok(u!).stdout);
    expect(ok(k!).stdout).toBe(u!.stdout);
    const rows = JSON.parse(ok(kJson!).stdout) as Record<string, unknown>[];
    expect(rows[0]).toMatchObject({ status: 'planned', to: '01011112222' });
    expect(rows[1]!.status).toBe('rejected');
    expect(rows[1]!.reason).toMatch(/^missing_value: column "이름" is empty/);
    expect(rows[2]!.status).toBe('rejected');
    expect(rows[2]!.reason).toMatch(/^non_euckr: .*"똠" \(U\+B620\) at 2/);
    const fromCsv = csvRows(k!.stdout);
    expect(fromCsv[1]!.reason).toBe(rows[1]!.reason);
    expect(fromCsv[2]!.reason).toBe(rows[2]!.reason);
  });

  it('JSON export is an array of objects with exactly the export columns', () => {
    const rows = JSON.parse(shared.json) as Record<string, unknown>[];
    expect(Array.isArray(rows)).toBe(true);
    expect(rows).toHaveLength(6);
    for (const row of rows) expect(Object.keys(row)).toEqual(COLUMNS);
    expect(rows[0]).toMatchObject({
      row: 1,
      to: '01012345678',
      channel: 'sms',
      status: 'planned',
      reason: null,
      attempts: 0,
      sent_at: null,
      done_at: null,
    });
    expect(rows[3]).toMatchObject({ row: 4, to: null, status: 'rejected' });
    expect(rows[5]).toMatchObject({ row: 6, to: '+14155550132' });
  });

  it('export -o writes a 0600 file with the same content, and the journal is 0600', async () => {
    const { dir, rerun } = shared;
    const out = path.join(dir, 'out.csv');
    fs.writeFileSync(out, 'old', { mode: 0o644 });
    fs.chmodSync(out, 0o644);
    const outJson = path.join(dir, 'out.json');
    const [a, b] = await Promise.all([
      runUms(['export', rerun.campaign, '-o', 'out.csv', '--db', 'j.db'], { cwd: dir }),
      runUms(['export', rerun.campaign, '--format', 'json', '-o', outJson, '--db', 'j.db'], { cwd: dir }),
    ]);
    expect(ok(a!).stdout).toBe('');
    expect(ok(b!).stdout).toBe('');
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(out, 'utf8')).toBe(shared.csv[0]);
    expect(fs.statSync(outJson).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(outJson, 'utf8')).toBe(shared.json);
    expect(fs.statSync(path.join(dir, 'j.db')).mode & 0o777).toBe(0o600);
    // no temporary file left beside the output
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('re-running the same dry run says it is already planned and adds no rows', () => {
    const { rerun, textAgain } = shared;
    expect(rerun.newlyPlanned).toBe(false);
    expect(rerun.statuses).toEqual({ planned: 4, rejected: 1, skipped: 1 });
    expect(textAgain.stdout).toMatch(/already planned/);
    expect(csvRows(shared.csv[0]!)).toHaveLength(6);
    expect(JSON.parse(shared.json)).toHaveLength(6);
    // orders.csv was run three times, yet it is one campaign
    expect(shared.campaigns.filter((c) => c.csv === 'fixtures/orders.csv')).toHaveLength(1);
  });

  it('ums campaigns --json lists the campaigns with state and counts', () => {
    const list = shared.campaigns;
    // the orders.csv campaign came first; the other two were planned side by side
    expect(list[0]!.id).toBe(shared.rerun.campaign);
    const byId = Object.fromEntries(list.map((c) => [c.id, c]));
    expect(Object.keys(byId).sort()).toEqual([shared.rerun.campaign, shared.bom.campaign, 'kr-excel'].sort());
    expect(byId[shared.rerun.campaign]!.csv).toBe('fixtures/orders.csv');
    expect(byId[shared.bom.campaign]!.csv).toBe('fixtures/orders-bom.csv');
    expect(byId['kr-excel']!.csv).toBe('fixtures/orders-cp949.csv');
    expect(list).toHaveLength(3);
    for (const c of list) {
      expect(c).toMatchObject({
        state: 'draft',
        rows: 6,
        template: 'templates/order-shipped.md',
        statuses: { planned: 4, rejected: 1, skipped: 1 },
      });
    }
  });

  it('a changed CSV under an existing --campaign id is refused (exit 2), not merged', async () => {
    const { dir } = shared;
    const r = await runUms(
      [
        'send',
        'fixtures/orders.csv',
        '-t',
        'templates/order-shipped.md',
        '--dry-run',
        '--campaign',
        'kr-excel',
        '--db',
        'j.db',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ums: .*kr-excel/);
    expect(r.stdout).toBe('');
  });

  it('ums init in an empty folder, then a dry run, works', async () => {
    const dir = workdir();
    const init = ok(await runUms(['init'], { cwd: dir }));
    expect(init.stdout).toMatch(/wrote/);
    for (const f of ['ums.config.yaml', 'template.md', 'recipients.csv'])
      expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
    fs.writeFileSync(path.join(dir, 'template.md.mine'), 'mine #{name}');
    const [r, again] = await Promise.all([
      runUms(['send', 'recipients.csv', '-t', 'template.md', '--dry-run', '--json'], { cwd: dir }),
      runUms(['init'], { cwd: dir }),
    ]);
    const plan = JSON.parse(planned(r!).stdout);
    expect(r!.code, 'the example recipients.csv has one broken number on purpose').toBe(3);
    expect(plan.state).toBe('draft');
    expect(plan.statuses.planned).toBeGreaterThan(0);
    // the example config's journal, created private
    expect(fs.statSync(path.join(dir, '.ums', 'journal.db')).mode & 0o777).toBe(0o600);
    // a second init keeps what is there
    expect(ok(again!).stdout).toMatch(/kept/);
    expect(ok(again!).stdout).not.toMatch(/wrote/);
  });
});
