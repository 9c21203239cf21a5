import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type RunResult, runUms, workdir } from '../support/cli.js';

/**
 * Every bad input must stop `ums send` before anything is planned: exit 2, exactly one line on
 * stderr that starts with "ums: " and names the file (and where in it), no stack trace, and no
 * campaign left in the journal. All cases share one journal, checked empty at the end.
 */

const HEADER = 'name,phone,shop,item,invoice';
const ROW = (i: number) => `고객${i},010${String(20000000 + i)},한빛마트,담요,6021-${i}`;

let dir: string;
const db = () => path.join(dir, 'j.db');

beforeAll(async () => {
  dir = workdir({ 'orders.csv': 'fixtures/orders.csv', 'ok.md': 'templates/order-shipped.md' });
  // Create the journal before the cases run in parallel against it (a brand-new journal opened
  // by several processes at once is not what these tests are about), and check it starts empty.
  const r = await runUms(['campaigns', '--json', '--db', path.join(dir, 'j.db')], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual([]);
});

function write(name: string, content: string | Buffer): string {
  fs.writeFileSync(path.join(dir, name), content);
  return name;
}

/** Seeded random bytes with NULs sprinkled in: not text in any encoding. */
function garbage(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = i % 97 === 50 ? 0 : x & 0xff;
  }
  return b;
}

function expectOneLineError(r: RunResult, mentions: (string | RegExp)[]): string {
  const lines = r.stderr.split('\n');
  expect(r.code, r.stderr).toBe(2);
  expect(r.signal).toBeNull();
  expect(lines.at(-1), 'stderr ends with a newline').toBe('');
  expect(lines.length - 1, `exactly one line on stderr:\n${r.stderr}`).toBe(1);
  const line = lines[0]!;
  expect(line.startsWith('ums: '), line).toBe(true);
  expect(line).not.toMatch(/^\s+at |node:internal|\.ts:\d+|\.js:\d+|Error:/);
  expect(line).not.toMatch(/ENOENT: ENOENT/);
  for (const m of mentions) {
    if (typeof m === 'string') expect(line, line).toContain(m);
    else expect(line, line).toMatch(m);
  }
  expect(r.stdout).toBe('');
  return line;
}

const send = (csv: string, template: string, extra: string[] = []) =>
  runUms(['send', csv, '-t', template, '--dry-run', '--db', db(), ...extra], { cwd: dir });

describe.concurrent('ums send: bad CSV', () => {
  it('an empty CSV', async () => {
    expectOneLineError(await send(write('empty.csv', ''), 'ok.md'), ['empty.csv', /empty/]);
  });

  it('a CSV with only blank lines', async () => {
    expectOneLineError(await send(write('blank.csv', '\n\n\n'), 'ok.md'), ['blank.csv', /header/]);
  });

  it('a header and no rows', async () => {
    expectOneLineError(await send(write('header.csv', `${HEADER}\n`), 'ok.md'), [
      'header.csv line 2',
      /no rows/,
    ]);
  });

  it('no phone column', async () => {
    // no header names a phone column, and no column's values are phone numbers (issue 15: by content)
    const f = write('nophone.csv', 'name,tel,shop,item,invoice\n홍길동,내선 1234,a,b,c\n');
    expectOneLineError(await send(f, 'ok.md'), ['nophone.csv line 1', /phone/, 'tel']);
  });

  it('--phone-column naming no column', async () => {
    expectOneLineError(await send('orders.csv', 'ok.md', ['--phone-column', 'cell']), [
      'orders.csv line 1',
      '"cell"',
    ]);
  });

  it('an unclosed quote', async () => {
    const f = write('quote.csv', `${HEADER}\n${ROW(1)}\n"홍길동,01011112222,a,b,c\n${ROW(3)}\n`);
    expectOneLineError(await send(f, 'ok.md'), ['quote.csv', /row 3\b/, /line \d+/, /quote/]);
  });

  it('a ragged row names its row and line', async () => {
    const f = write('ragged.csv', `${HEADER}\n${ROW(1)}\n${ROW(2)}\n${ROW(3)},extra\n${ROW(4)}\n`);
    expectOneLineError(await send(f, 'ok.md'), ['ragged.csv row 4, line 4', /expected 5, got 6/]);
  });

  it('a ragged row after a multi-line quoted field names the physical line', async () => {
    const f = write('ragged2.csv', `${HEADER}\n고객,01011112222,"한빛\n마트",담요,1\n${ROW(2)},extra\n`);
    expectOneLineError(await send(f, 'ok.md'), ['ragged2.csv row 3, line 4']);
  });

  it('a 1 MB field', async () => {
    const f = write('huge.csv', `${HEADER}\n${ROW(1)}\n고객,010${'9'.repeat(1 << 20)},a,b,c\n`);
    expectOneLineError(await send(f, 'ok.md'), ['huge.csv row 3, line 3', /longer than/]);
  });

  it('binary garbage with NUL bytes', async () => {
    const f = write('garbage.csv', garbage(64 * 1024, 12345));
    expectOneLineError(await send(f, 'ok.md'), [
      'garbage.csv',
      /byte \d+/,
      /not a text CSV|neither UTF-8 nor CP949|UTF-16/,
    ]);
  });

  it('a CSV that does not exist', async () => {
    expectOneLineError(await send('missing.csv', 'ok.md'), ['missing.csv', /no such/]);
  });

  it('a directory instead of a CSV', async () => {
    fs.mkdirSync(path.join(dir, 'folder.csv'));
    expectOneLineError(await send('folder.csv', 'ok.md'), ['folder.csv', /directory/]);
  });

  it('invalid UTF-8 mid-file with --encoding utf8 names the line', async () => {
    const good = `${[HEADER, ROW(1), ROW(2), ROW(3), ROW(4)].join('\n')}\n`;
    const bad = Buffer.concat([
      Buffer.from(good),
      Buffer.from('고객'),
      Buffer.from([0xb1, 0xe8]) /* CP949 김: 0xB1 is a stray continuation byte */,
      Buffer.from(`,01099998888,a,b,c\n${ROW(6)}\n`),
    ]);
    const f = write('badutf8.csv', bad);
    const line = expectOneLineError(await send(f, 'ok.md', ['--encoding', 'utf8']), ['badutf8.csv', /UTF-8/]);
    expect(line).toMatch(/line 6\b/);
    // the byte offset, when given, points at the bad byte
    const offset = /byte (\d+)/.exec(line);
    if (offset) expect(Number(offset[1])).toBe(Buffer.byteLength(`${good}고객`));
  });

  it('a CP949 file read with --encoding utf8 is refused, not turned into mojibake', async () => {
    const f = write('cp949-forced.csv', fs.readFileSync(path.join(ROOT, 'fixtures', 'orders-cp949.csv')));
    expectOneLineError(await send(f, 'ok.md', ['--encoding', 'utf8']), [
      'cp949-forced.csv',
      /line 2\b/,
      /UTF-8/,
    ]);
  });

  it('an unknown --encoding', async () => {
    expectOneLineError(await send('orders.csv', 'ok.md', ['--encoding', 'latin1']), ['--encoding', 'latin1']);
  });
});

describe.concurrent('ums send: bad template', () => {
  it('a template that does not exist', async () => {
    expectOneLineError(await send('orders.csv', 'nope.md'), ['nope.md', /no such/]);
  });

  it('a template without a body', async () => {
    const t = write('nobody.md', '---\nchannel: auto\n---\n\n');
    expectOneLineError(await send('orders.csv', t), [/^ums: nobody\.md line \d+: /, /body/]);
  });

  it('an unknown channel', async () => {
    const t = write('channel.md', '---\nad: false\nchannel: kakao\n---\n#{name}님\n');
    expectOneLineError(await send('orders.csv', t), ['channel.md line 3', '"kakao"']);
  });

  it('malformed front matter', async () => {
    const t = write('yaml.md', '---\nchannel: auto\nad: false\nsubject: [#{shop}\n---\n#{name}님\n');
    expectOneLineError(await send('orders.csv', t), [/^ums: yaml\.md line [45]: /, /front matter/]);
  });

  it("a variable name with '.'", async () => {
    const t = write('dot.md', '---\nchannel: auto\n---\n안녕하세요\n#{customer.name}님\n');
    expectOneLineError(await send('orders.csv', t), ['dot.md line 5', 'customer.name']);
  });

  it('a variable missing from the CSV header names the variable and the template line', async () => {
    const t = write('coupon.md', '---\nchannel: auto\n---\n#{name}님,\n\n쿠폰 #{coupon}을 확인하세요\n');
    expectOneLineError(await send('orders.csv', t), ['coupon.md line 6', '#{coupon}', 'orders.csv']);
  });
});

describe('ums send: a CSV error deep in a large file', () => {
  it('an error at row 50,000 of 60,000 leaves no half-written campaign', async () => {
    const big = workdir({ 't.md': 'templates/order-shipped.md' });
    const rows: string[] = [HEADER];
    for (let i = 1; i <= 60_000; i++) rows.push(i === 50_000 ? `${ROW(i)},extra` : ROW(i));
    fs.writeFileSync(path.join(big, 'big.csv'), `${rows.join('\n')}\n`);
    const r = await runUms(['send', 'big.csv', '-t', 't.md', '--dry-run', '--db', 'j.db'], { cwd: big });
    expectOneLineError(r, ['big.csv row 50001, line 50001']);
    const list = await runUms(['campaigns', '--json', '--db', 'j.db'], { cwd: big });
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);
    // and no orphaned message rows: the 45,000+ rows planned before the error are gone too
    const sqlite = new Database(path.join(big, 'j.db'), { readonly: true });
    try {
      expect(sqlite.prepare('SELECT COUNT(*) AS n FROM messages').get()).toEqual({ n: 0 });
    } finally {
      sqlite.close();
    }
  });
});

// runs after the concurrent suites above have finished
describe('the shared journal', () => {
  it('holds no campaign after all the failures, and a good input still plans', async () => {
    expect(fs.existsSync(db())).toBe(true);
    const r = await runUms(['campaigns', '--json', '--db', db()], { cwd: dir });
    expect(JSON.parse(r.stdout)).toEqual([]);
    // sanity: the same inputs with the fault removed do plan (so the cases above failed for their fault)
    const okCsv = write('good.csv', `${HEADER}\n${ROW(1)}\n${ROW(2)}\n`);
    const plan = await runUms(
      ['send', okCsv, '-t', 'ok.md', '--dry-run', '--json', '--db', path.join(dir, 'other.db')],
      { cwd: dir },
    );
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout).statuses).toEqual({ planned: 2 });
  });
});
