import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/journal/migrations.js';
import { ROOT, type RunResult, runUms, UMS, workdir } from '../support/cli.js';

/**
 * Files are what they claim (issue 12, section 3), through the built `ums`: what `export -o` does to
 * regular files, devices, FIFOs and folders; a journal that is not ours; output of any size streams.
 */

const isRoot = process.getuid?.() === 0;

function oneLine(r: RunResult, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.split('\n');
  expect(lines.length - 1, r.stderr).toBe(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at |node:internal|\.js:\d+/m);
}

/** A planned campaign of `rows` recipients in `dir` (journal j.db); its id. */
async function planned(dir: string, rows: number): Promise<string> {
  fs.copyFileSync(path.join(ROOT, 'fixtures', 'bad', 'ok.md'), path.join(dir, 'ok.md'));
  let csv = 'name,phone,shop,item,invoice\n';
  for (let i = 0; i < rows; i++)
    csv += `고객${i},010${String(30_000_000 + i)},한빛마트,무선 이어폰,6021-3344-${i}\n`;
  fs.writeFileSync(path.join(dir, 'r.csv'), csv);
  const r = await runUms(['send', 'r.csv', '-t', 'ok.md', '--dry-run', '--json', '--db', 'j.db'], {
    cwd: dir,
  });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { campaign: string }).campaign;
}

/** An opt-out list of `n` numbers in the journal j.db of `dir`. */
async function optedOut(dir: string, n: number): Promise<void> {
  let list = 'phone\n';
  for (let i = 0; i < n; i++) list += `010${String(40_000_000 + i)}\n`;
  fs.writeFileSync(path.join(dir, 'list.csv'), list);
  const r = await runUms(['optout', 'import', 'list.csv', '--db', 'j.db'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
}

const temps = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('export -o', () => {
  it('replaces a regular file atomically with mode 0600, even one that was 0644', async () => {
    const dir = workdir();
    const id = await planned(dir, 3);
    fs.writeFileSync(path.join(dir, 'out.csv'), 'old\n', { mode: 0o644 });
    fs.chmodSync(path.join(dir, 'out.csv'), 0o644);
    const r = await runUms(['export', id, '-o', 'out.csv', '--db', 'j.db'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const st = fs.statSync(path.join(dir, 'out.csv'));
    expect(st.mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, 'out.csv'), 'utf8')).toMatch(/^\uFEFFrow,to,channel/);
    expect(temps(dir)).toEqual([]);
  });

  it('a symlink to a file not there yet: the file is made where it points, the link stays a link', async () => {
    const dir = workdir();
    const id = await planned(dir, 3);
    fs.mkdirSync(path.join(dir, 'reports'));
    fs.symlinkSync('reports/out.csv', path.join(dir, 'latest.csv'));
    const r = await runUms(['export', id, '-o', 'latest.csv', '--db', 'j.db'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.lstatSync(path.join(dir, 'latest.csv')).isSymbolicLink()).toBe(true);
    expect(fs.statSync(path.join(dir, 'reports', 'out.csv')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, 'reports', 'out.csv'), 'utf8')).toMatch(/^\uFEFFrow,to,channel/);
  });

  it('writes into /dev/null and keeps it a character device (as root too)', async () => {
    const dir = workdir();
    const id = await planned(dir, 3);
    const r = await runUms(['export', id, '-o', '/dev/null', '--db', 'j.db'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const st = fs.statSync('/dev/null');
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.mode & 0o666).toBe(0o666);
  });

  it.runIf(isRoot)(
    'writes into a device node of its own folder (made by mknod), never replacing it',
    async () => {
      const dir = workdir();
      const id = await planned(dir, 3);
      execFileSync('mknod', ['-m', '0666', path.join(dir, 'null'), 'c', '1', '3']);
      const r = await runUms(['export', id, '-o', 'null', '--db', 'j.db'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      const st = fs.statSync(path.join(dir, 'null'));
      expect(st.isCharacterDevice()).toBe(true);
      expect(st.mode & 0o777).toBe(0o666);
    },
  );

  it('refuses a directory (exit 2, one line)', async () => {
    const dir = workdir();
    const id = await planned(dir, 3);
    fs.mkdirSync(path.join(dir, 'exports'));
    const r = await runUms(['export', id, '-o', 'exports', '--db', 'j.db'], { cwd: dir });
    oneLine(r, 2, /^ums: -o exports: is a directory/);
    expect(fs.readdirSync(path.join(dir, 'exports'))).toEqual([]);
  });

  it('writes into a FIFO that a reader drains, and the FIFO stays a FIFO', async () => {
    const dir = workdir();
    const id = await planned(dir, 500);
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo]);
    let got = '';
    reader.stdout.setEncoding('utf8').on('data', (d: string) => (got += d));
    const closed = new Promise((resolve) => reader.on('close', resolve));
    const r = await runUms(['export', id, '--format', 'json', '-o', 'pipe', '--db', 'j.db'], { cwd: dir });
    await closed;
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(got) as unknown[]).length).toBe(500);
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    expect(temps(dir)).toEqual([]);
  });

  it('a failing export (the file size limit hit mid-write) leaves no temp file and the old file as it was', async () => {
    const dir = workdir();
    const id = await planned(dir, 5000);
    fs.writeFileSync(path.join(dir, 'out.csv'), 'the previous export\n');
    // bash counts ulimit -f in KiB: 200 KiB, and the export is over 1 MB (Node reports EFBIG, no signal)
    const r = await new Promise<RunResult>((resolve) => {
      const child = spawn(
        'bash',
        ['-c', `ulimit -f 200; exec "${process.execPath}" "${UMS}" export ${id} -o out.csv --db j.db`],
        { cwd: dir, env: { ...process.env, NO_COLOR: '1' } },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    oneLine(r, 1, /^ums: -o out\.csv: cannot write: file too large/);
    expect(temps(dir)).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'out.csv'), 'utf8')).toBe('the previous export\n');
  });
});

describe('output of any size streams', () => {
  it('`optout list --json | head -c 100` ends quietly: no stack trace, exit 0', async () => {
    const dir = workdir();
    await optedOut(dir, 20_000);
    const out = execFileSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${UMS}" optout list --json --db j.db 2>err.txt | head -c 100; echo " exit=\${PIPESTATUS[0]}"`,
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(out).toMatch(/^\[\n {2}\{\n {4}"phone": "01040000000"/);
    expect(out).toMatch(/ exit=0\n$/);
    expect(fs.readFileSync(path.join(dir, 'err.txt'), 'utf8')).toBe('');
  });

  it('`optout list --json` of 20,000 numbers is the whole list, as one JSON document', async () => {
    const dir = workdir();
    await optedOut(dir, 20_000);
    const r = await runUms(['optout', 'list', '--json', '--db', 'j.db'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as { phone: string; source: string }[];
    expect(list).toHaveLength(20_000);
    expect(list[19_999]).toMatchObject({ phone: '01040019999', source: 'import' });
  });

  it('`optout import` of a FIFO stores the numbers it has read before the FIFO ends (streamed, not slurped)', async () => {
    const dir = workdir();
    const db = path.join(dir, 'j.db');
    expect((await runUms(['optout', 'list', '--db', 'j.db'], { cwd: dir })).code).toBe(0); // creates the journal
    const fifo = path.join(dir, 'feed');
    execFileSync('mkfifo', [fifo]);
    const importing = runUms(['optout', 'import', 'feed', '--db', 'j.db'], { cwd: dir, timeoutMs: 120_000 });
    const w = fs.createWriteStream(fifo);
    w.write('phone\n010-5000-0001\n010-5000-0002\n010-5000-0003\n');
    // the first numbers are committed while the FIFO is still open (waits for it; no time limit
    // asserted); the CSV parser may hold the last line until it sees what follows its newline
    const count = (): number => {
      const sqlite = new Database(db, { readonly: true });
      try {
        return (sqlite.prepare('SELECT COUNT(*) AS n FROM optouts').get() as { n: number }).n;
      } finally {
        sqlite.close();
      }
    };
    for (let i = 0; i < 1000 && count() < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(count()).toBeGreaterThanOrEqual(2);
    w.end('010-5000-0004\nnot-a-number\n');
    const r = await importing;
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('feed: added 4, already listed 0, invalid 1\n');
    expect(count()).toBe(4);
  }, 180_000);

  it('`optout import -` reads stdin', async () => {
    const dir = workdir();
    const r = await runUms(['optout', 'import', '-', '--db', 'j.db'], {
      cwd: dir,
      input: '010-5000-0001\n01050000002\n',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('-: added 2, already listed 0, invalid 0\n');
  });
});

describe('optout import of a recipients list by mistake', () => {
  const count = (dir: string): number => {
    const sqlite = new Database(path.join(dir, 'j.db'), { readonly: true });
    try {
      return (sqlite.prepare('SELECT COUNT(*) AS n FROM optouts').get() as { n: number }).n;
    } finally {
      sqlite.close();
    }
  };

  it('refuses a CSV with columns an opt-out list has no use for (exit 2, one line, nothing stored); --yes imports it', async () => {
    const dir = workdir();
    await planned(dir, 3); // r.csv: name,phone,shop,item,invoice
    fs.writeFileSync(path.join(dir, 'other.csv'), 'name,phone,item\n김하나,010-3100-0001,목도리\n');
    const cases: [string, RegExp][] = [
      [
        'other.csv',
        /^ums: other\.csv: looks like a recipients list, not an opt-out list \(columns "name", "item"\).*--yes/,
      ],
      // the campaign's own CSV is named as such (its SHA-256 is the campaign's)
      ['r.csv', /^ums: r\.csv: is the recipients CSV of campaign c-\w+, not an opt-out list: .*--yes/],
    ];
    for (const [file, message] of cases) {
      const r = await runUms(['optout', 'import', file, '--db', 'j.db'], { cwd: dir });
      oneLine(r, 2, message);
      expect(r.stdout).toBe('');
    }
    // a copy of it (other bytes, the same columns) by its columns
    fs.writeFileSync(path.join(dir, 'copy.csv'), `${fs.readFileSync(path.join(dir, 'r.csv'), 'utf8')}\n`);
    const copy = await runUms(['optout', 'import', 'copy.csv', '--db', 'j.db'], { cwd: dir });
    oneLine(
      copy,
      2,
      /^ums: copy\.csv: looks like a recipients list, not an opt-out list \(columns "name", "shop", "item", "invoice"\)/,
    );
    expect(count(dir)).toBe(0);
    const forced = await runUms(['optout', 'import', 'other.csv', '--yes', '--db', 'j.db'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toBe('other.csv: added 1, already listed 0, invalid 0\n');
    expect(count(dir)).toBe(1);
  });

  it("refuses a campaign's own CSV, even one with only opt-out-like columns (named by campaign); --yes imports it", async () => {
    const dir = workdir();
    fs.writeFileSync(path.join(dir, 't.md'), '---\nchannel: sms\n---\n매장 안내 문자입니다.\n');
    fs.writeFileSync(path.join(dir, 'r.csv'), 'phone,메모\n010-3100-0001,VIP\n010-3100-0002,\n');
    const plan = await runUms(
      ['send', 'r.csv', '-t', 't.md', '--campaign', 'dec', '--dry-run', '--db', 'j.db'],
      {
        cwd: dir,
      },
    );
    expect(plan.code, plan.stderr).toBe(0);
    const r = await runUms(['optout', 'import', 'r.csv', '--db', 'j.db'], { cwd: dir });
    oneLine(r, 2, /^ums: r\.csv: is the recipients CSV of campaign dec, not an opt-out list: .*--yes/);
    expect(count(dir)).toBe(0);
    const forced = await runUms(['optout', 'import', 'r.csv', '-y', '--db', 'j.db'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toBe('r.csv: added 2, already listed 0, invalid 0\n');
  });

  it('takes an opt-out list with its usual columns (date, reason, source; Korean too)', async () => {
    const dir = workdir();
    fs.writeFileSync(
      path.join(dir, 'en.csv'),
      'phone,created_at,reason,source,memo\n010-5000-0001,2026-12-01,STOP,080,\n',
    );
    fs.writeFileSync(
      path.join(dir, 'ko.csv'),
      '휴대폰번호,수신거부일시,사유,출처,비고\n010-5000-0002,2026-12-01 09:00,고객 요청,080,\n',
    );
    for (const file of ['en.csv', 'ko.csv']) {
      const r = await runUms(['optout', 'import', file, '--db', 'j.db'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${file}: added 1, already listed 0, invalid 0\n`);
    }
    expect(count(dir)).toBe(2);
  });
});

describe('the journal file', () => {
  it('refuses a journal written by a newer ums (exit 2, both schema versions named), changing nothing', async () => {
    const dir = workdir();
    expect((await runUms(['campaigns', '--db', 'j.db'], { cwd: dir })).code).toBe(0);
    const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
    const newer = latest + 7;
    const sqlite = new Database(path.join(dir, 'j.db'));
    sqlite
      .prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)')
      .run(newer, new Date().toISOString());
    sqlite.close();
    const r = await runUms(['campaigns', '--db', 'j.db'], { cwd: dir });
    oneLine(
      r,
      2,
      new RegExp(
        `^ums: \\S*j\\.db: the journal was written by a newer ums \\(schema version ${newer}; this ums knows versions up to ${latest}\\)`,
      ),
    );
    const after = new Database(path.join(dir, 'j.db'), { readonly: true });
    expect(after.prepare('SELECT MAX(version) AS v FROM schema_migrations').get()).toEqual({ v: newer });
    after.close();
  });

  it('--db on a file that is not SQLite (a text file, the CSV) is exit 2 naming it, its mode and bytes untouched', async () => {
    const dir = workdir();
    const notes = path.join(dir, 'notes.txt');
    fs.writeFileSync(notes, 'shopping list\n');
    fs.chmodSync(notes, 0o644);
    const r = await runUms(['campaigns', '--db', 'notes.txt'], { cwd: dir });
    oneLine(r, 2, /^ums: \S*notes\.txt: is not an ums journal/);
    expect(fs.statSync(notes).mode & 0o777).toBe(0o644);
    expect(fs.readFileSync(notes, 'utf8')).toBe('shopping list\n');
    expect(fs.readdirSync(dir).sort()).toEqual(['notes.txt']);

    fs.writeFileSync(path.join(dir, 'r.csv'), 'name,phone\na,010-1234-5678\n');
    fs.chmodSync(path.join(dir, 'r.csv'), 0o664);
    fs.copyFileSync(path.join(ROOT, 'fixtures', 'bad', 'ok.md'), path.join(dir, 'ok.md'));
    const send = await runUms(['send', 'r.csv', '-t', 'ok.md', '--dry-run', '--db', 'r.csv'], { cwd: dir });
    oneLine(send, 2, /^ums: \S*r\.csv: is not an ums journal/);
    expect(fs.statSync(path.join(dir, 'r.csv')).mode & 0o777).toBe(0o664);
    expect(fs.readFileSync(path.join(dir, 'r.csv'), 'utf8')).toBe('name,phone\na,010-1234-5678\n');
  });

  it('--db on the SQLite database of another program is exit 2 naming it: no ums table added, its mode and tables untouched', async () => {
    const dir = workdir();
    for (const [name, sql] of [
      [
        'app.db',
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep')",
      ],
      // a table ums also has: today's migration failed on it with a raw SQLite error (exit 1)
      ['shop.db', 'CREATE TABLE campaigns (sku TEXT); CREATE TABLE orders (id INTEGER)'],
    ] as const) {
      const file = path.join(dir, name);
      const other = new Database(file);
      other.exec(sql);
      other.close();
      fs.chmodSync(file, 0o644);
      const tables = (): unknown => {
        const d = new Database(file, { readonly: true });
        const t = d.prepare('SELECT name FROM sqlite_master ORDER BY name').all();
        d.close();
        return t;
      };
      const before = tables();
      for (const args of [['campaigns'], ['optout', 'add', '010-1234-5678']]) {
        const r = await runUms([...args, '--db', name], { cwd: dir });
        oneLine(
          r,
          2,
          new RegExp(
            `^ums: \\S*${name.replace('.', '\\.')}: is not an ums journal \\(an SQLite database of something else, with tables `,
          ),
        );
      }
      expect(tables()).toEqual(before);
      expect(fs.statSync(file).mode & 0o777).toBe(0o644);
    }
  });

  it('an existing, empty SQLite file becomes a journal (made 0600)', async () => {
    const dir = workdir();
    const file = path.join(dir, 'j.db');
    const empty = new Database(file);
    empty.pragma('user_version = 0');
    empty.close();
    fs.chmodSync(file, 0o644);
    const r = await runUms(['campaigns', '--db', 'j.db'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('makes .ums/ 0700 even when it already existed; leaves another existing folder (the cwd) as it was', async () => {
    const dir = workdir();
    fs.mkdirSync(path.join(dir, '.ums'), { mode: 0o755 });
    fs.chmodSync(path.join(dir, '.ums'), 0o755);
    fs.chmodSync(dir, 0o755);
    expect((await runUms(['campaigns'], { cwd: dir })).code).toBe(0);
    expect(fs.statSync(path.join(dir, '.ums')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, '.ums', 'journal.db')).mode & 0o777).toBe(0o600);
    expect((await runUms(['campaigns', '--db', 'here.db'], { cwd: dir })).code).toBe(0);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o755);
  });
});

describe('export -o and the terminal closing', () => {
  it('SIGHUP (the terminal or ssh session closed) mid-export: no temp file of full numbers survives, the old file stays', {
    timeout: 120_000,
  }, async () => {
    const dir = workdir();
    const rows = Array.from({ length: 150_000 }, (_, i) => `n${i},010${String(10_000_000 + i)}`);
    fs.writeFileSync(path.join(dir, 'r.csv'), `name,phone\n${rows.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 't.md'), '---\nchannel: sms\n---\nhi #{name}');
    const plan = await runUms(['send', 'r.csv', '-t', 't.md', '--dry-run', '--json', '--db', 'j.db'], {
      cwd: dir,
    });
    expect(plan.code, plan.stderr).toBe(0);
    const id = (JSON.parse(plan.stdout) as { campaign: string }).campaign;
    fs.writeFileSync(path.join(dir, 'out.csv'), 'the old export\n');
    // on a terminal (a pty), hung up as soon as the temp file exists
    const driver = `
import os, pty, sys, signal, time, json
args = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execv(args[0], args)
hung = False
deadline = time.time() + 60
while time.time() < deadline:
    if any(n.endswith('.tmp') for n in os.listdir('.')):
        os.kill(pid, signal.SIGHUP); hung = True; break
    if os.waitpid(pid, os.WNOHANG) != (0, 0): break
    time.sleep(0.005)
try:
    while os.read(fd, 65536): pass
except OSError:
    pass
print('hung' if hung else 'finished first')
`;
    const out = execFileSync(
      'python3',
      ['-c', driver, JSON.stringify([process.execPath, UMS, 'export', id, '-o', 'out.csv', '--db', 'j.db'])],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('hung');
    const left = fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'));
    expect(left, 'a temp file of full numbers was left behind').toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'out.csv'), 'utf8')).toBe('the old export\n');
  });
});
