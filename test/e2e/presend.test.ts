import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { carrierLog, writeCampaign } from '../support/campaign.js';
import { runUms, UMS, workdir } from '../support/cli.js';
import { runOnTerminal } from '../support/pty.js';

/**
 * Issue 15, before and while sending: the lanes an operator checks before pressing send (provider,
 * simulated, 발신번호, TPS, ETA, cost, what quiet hours defer), progress lines a cron log can be read
 * by, a failed counter that counts failed reports, `--json` on a terminal still asking, and rows
 * named as the spreadsheet shows them.
 */

const json = (s: string): Record<string, any> => JSON.parse(s) as Record<string, any>;
const sent = (dir: string): number =>
  fs.existsSync(path.join(dir, 'sim-sim.jsonl')) ? carrierLog(dir).length : 0;

function config(dir: string, sim: Record<string, unknown>, extra: string[] = []): void {
  const simLines = Object.entries({ type: 'sim', ...sim }).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  fs.writeFileSync(
    path.join(dir, 'ums.config.yaml'),
    ['journal: ./journal.db', 'from: "0212345678"', ...extra, 'providers:', '  sim:', ...simLines, ''].join(
      '\n',
    ),
  );
}

const AD = [
  '---',
  'ad: true',
  'sender: 한빛마트',
  '---',
  '(광고) 한빛마트',
  '#{name}님, 겨울 세일이 시작되었습니다.',
  '무료수신거부 080-123-4567',
].join('\n');

/** 4 rows: 가 consents to night ads, 나 and 라 do not, 다 has a broken number (sheet row 4). */
function adCampaign(dir: string): void {
  fs.writeFileSync(
    path.join(dir, 'r.csv'),
    'name,phone,night_consent\n가,010-2000-0001,Y\n나,010-2000-0002,\n다,010-12,\n라,010-2000-0004,\n',
  );
  fs.writeFileSync(path.join(dir, 'ad.md'), AD);
}

describe('before sending: one line per lane', () => {
  it('the dry run shows provider, simulated, 발신번호, TPS, ETA, cost and the ads quiet hours defer now', async () => {
    const dir = workdir();
    adCampaign(dir);
    config(dir, { tps: 2 });
    const env = { UMS_NOW: '2026-12-02T22:00:00+09:00' };
    const human = await runUms(['send', 'r.csv', '-t', 'ad.md', '--dry-run'], { cwd: dir, env });
    expect(human.code).toBe(3); // the broken number
    expect(human.stdout).toMatch(
      /^ {4}SMS → sim \(simulated\) · from 02-1234-5678 · 2 TPS · 3 messages · ETA 0:01 · est\. 39 KRW$/m,
    );
    expect(human.stdout).toMatch(
      /^ {6}2 ads deferred by quiet hours \(21:00-08:00\), until 2026-12-03 08:00 KST$/m,
    );

    const r = await runUms(['send', 'r.csv', '-t', 'ad.md', '--dry-run', '--json'], { cwd: dir, env });
    expect(r.code).toBe(3);
    expect(json(r.stdout).lanes).toEqual([
      {
        channel: 'sms',
        provider: 'sim',
        simulated: true,
        from: '0212345678',
        tps: 2,
        planned: 3,
        parts: 3,
        held: 0,
        etaSeconds: 2,
        estimatedCost: 39,
        quietHoursDeferred: 2,
        deferredUntil: '2026-12-03T08:00:00+09:00',
      },
    ]);

    // in the day nothing is deferred; --tps moves the ETA
    const day = await runUms(['send', 'r.csv', '-t', 'ad.md', '--dry-run', '--json', '--tps', '0.01'], {
      cwd: dir,
      env: { UMS_NOW: '2026-12-02T10:00:00+09:00' },
    });
    expect(json(day.stdout).lanes[0]).toMatchObject({
      tps: 0.01,
      etaSeconds: 300,
      quietHoursDeferred: 0,
      deferredUntil: null,
    });
  });

  it('a split route: one lane per provider planning assigned, each at its own TPS, ETA and cost', async () => {
    const dir = workdir();
    fs.writeFileSync(
      path.join(dir, 'ums.config.yaml'),
      [
        'journal: ./journal.db',
        'from: "0212345678"',
        'providers:',
        '  a: { type: sim, tps: 10 }',
        '  b: { type: sim, tps: 40 }',
        'routes:',
        '  default: { split: { a: 50, b: 50 } }',
        '',
      ].join('\n'),
    );
    const rows = Array.from({ length: 40 }, (_, i) => `고객${i},010-2000-${String(i).padStart(4, '0')}`);
    fs.writeFileSync(path.join(dir, 'r.csv'), `${['name,phone', ...rows].join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 't.md'), '---\nchannel: sms\n---\n#{name}님, 안내드립니다.\n');
    const res = await runUms(['send', 'r.csv', '-t', 't.md', '--dry-run', '--json'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    const lanes = json(res.stdout).lanes as Record<string, any>[];
    expect(lanes.map((l) => `${l.channel} ${l.provider} ${l.tps}`)).toEqual(['sms a 10', 'sms b 40']);
    expect(lanes.reduce((n, l) => n + l.planned, 0)).toBe(40);
    for (const l of lanes) {
      expect(l.planned, l.provider).toBeGreaterThan(0);
      expect(l.etaSeconds).toBe(Math.ceil(l.parts / l.tps));
      expect(l.estimatedCost).toBe(l.planned * 13);
    }
    const human = await runUms(['send', 'r.csv', '-t', 't.md', '--dry-run'], { cwd: dir });
    expect(human.stdout).toMatch(/^ {4}SMS → a \(simulated\) · from 02-1234-5678 · 10 TPS · \d+ messages/m);
    expect(human.stdout).toMatch(/^ {4}SMS → b \(simulated\) · from 02-1234-5678 · 40 TPS · \d+ messages/m);
  });

  it('the prompt on a terminal shows the lanes too', async () => {
    const dir = workdir();
    adCampaign(dir);
    config(dir, { tps: 2 });
    const no = await runOnTerminal(['send', 'r.csv', '-t', 'ad.md'], {
      cwd: dir,
      prompt: '[y/N]',
      keys: 'n\r',
      env: { UMS_NOW: '2026-12-03T01:30:00+09:00' },
    });
    expect(no.code).toBe(0);
    expect(no.screen).toMatch(/SMS → sim \(simulated\) · from 02-1234-5678 · 2 TPS · 3 messages · ETA 0:01/);
    expect(no.screen).toMatch(/2 ads deferred by quiet hours \(21:00-08:00\), until 2026-12-03 08:00 KST/);
    expect(sent(dir)).toBe(0);
  });
});

describe('progress lines in a log (stderr not a terminal)', () => {
  it('begin with the local time and the campaign id', async () => {
    const dir = workdir();
    writeCampaign(dir, 20);
    config(dir, { tps: 3, dlrDelayMs: 0, latencyMs: 1 }); // 20 rows at 3/s: over 6 s, two lines or more
    const r = await runUms(
      ['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--campaign', '12월-주문접수'],
      {
        cwd: dir,
        env: { UMS_NOW: '2026-12-02T09:00:00+09:00' },
      },
    );
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => / sent \d+\/20/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(/^2026-12-02 09:0\d:\d\d KST 12월-주문접수 sent \d+\/20 · /);
  });
});

describe('the failed counter', () => {
  it('counts messages whose delivery report failed, in the run and its summary', async () => {
    const dir = workdir();
    // 010-0303-2nnn: the simulator accepts them, then reports them failed (3032 not a subscriber)
    writeCampaign(
      dir,
      4,
      Array.from({ length: 3 }, (_, i) => `실패${i},010-0303-2${String(i).padStart(3, '0')}`),
    );
    config(dir, { tps: 0, dlrDelayMs: 5, latencyMs: 1 });
    const r = await runUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], { cwd: dir });
    expect(r.code).toBe(3);
    const out = json(r.stdout);
    expect(out.statuses.failed).toBe(3);
    expect(out.run.failed).toBe(3);

    const dir2 = workdir();
    writeCampaign(
      dir2,
      4,
      Array.from({ length: 3 }, (_, i) => `실패${i},010-0303-2${String(i).padStart(3, '0')}`),
    );
    config(dir2, { tps: 0, dlrDelayMs: 5, latencyMs: 1 });
    const human = await runUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes'], { cwd: dir2 });
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(/^ {2}this run: 7 accepted, 3 failed in \d+\.\d s/m);
  });
});

/**
 * `ums` with stdin on a pseudo-terminal and stdout a pipe (a person at a terminal piping the JSON
 * on): types `keys` once `prompt` shows on the terminal; returns stdout, what the terminal showed
 * (stderr) and the exit code.
 */
function jsonOnTerminal(
  args: string[],
  opts: { cwd: string; prompt: string; keys: string },
): Promise<{ code: number | null; stdout: string; screen: string }> {
  const driver = `
import os, pty, sys, select, time, json, subprocess
args = json.loads(sys.argv[1]); prompt = sys.argv[2].encode(); keys = json.loads(sys.argv[3]).encode()
master, slave = pty.openpty()
out = open(sys.argv[4], 'wb')
p = subprocess.Popen(args, stdin=slave, stdout=out, stderr=slave, close_fds=True)
os.close(slave)
seen = b''; typed = False; deadline = time.time() + 30
while time.time() < deadline:
    r, _, _ = select.select([master], [], [], 0.1)
    if master in r:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    if not typed and prompt in seen:
        time.sleep(0.2)
        os.write(master, keys); typed = True
    if p.poll() is not None and master not in r:
        break
code = p.wait()
sys.stdout.buffer.write(seen)
sys.exit(code)
`;
  const outFile = path.join(opts.cwd, 'stdout.json');
  return new Promise((resolve, reject) => {
    const child = spawn(
      'python3',
      [
        '-c',
        driver,
        JSON.stringify([process.execPath, UMS, ...args]),
        opts.prompt,
        JSON.stringify(opts.keys),
        outFile,
      ],
      { cwd: opts.cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, screen, stdout: fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8') : '' }),
    );
  });
}

describe('--json on a terminal without --yes', () => {
  it('still asks, on stderr; stdout is the one JSON document whatever the answer', async () => {
    const dir = workdir();
    writeCampaign(dir, 5);
    config(dir, { tps: 0, dlrDelayMs: 5, latencyMs: 1 });
    const args = ['send', 'recipients.csv', '-t', 'notice.md', '--json'];
    const no = await jsonOnTerminal(args, { cwd: dir, prompt: '[y/N]', keys: 'n\r' });
    expect(no.screen).toMatch(/send 5 messages now\? \[y\/N\]/);
    expect(no.screen).toMatch(/stays a draft/);
    expect(no.code).toBe(0);
    expect(json(no.stdout)).toMatchObject({ outcome: 'not-confirmed', state: 'draft', sent: 0 });
    expect(no.stdout).not.toMatch(/y\/N/);
    expect(sent(dir)).toBe(0);

    const yes = await jsonOnTerminal(args, { cwd: dir, prompt: '[y/N]', keys: 'y\r' });
    expect(yes.code).toBe(0);
    expect(yes.screen).toMatch(/\[y\/N\]/);
    expect(json(yes.stdout)).toMatchObject({ outcome: 'finished' });
    expect(sent(dir)).toBe(5);
  }, 60_000);
});

describe('rows are named as the spreadsheet shows them (header = row 1)', () => {
  it('in the plan summary, the report lists and CSV errors; JSON keeps the data row', async () => {
    const dir = workdir();
    fs.writeFileSync(
      path.join(dir, 'r.csv'),
      'name,phone\n가,010-2000-0001\n나,010-12\n다,010-2000-0001\n라,010-0303-2001\n',
    );
    fs.writeFileSync(path.join(dir, 't.md'), '#{name}님 안내드립니다.');
    config(dir, { tps: 0, dlrDelayMs: 5, latencyMs: 1 });
    const dry = await runUms(['send', 'r.csv', '-t', 't.md', '--dry-run'], { cwd: dir });
    expect(dry.code).toBe(3);
    expect(dry.stdout).toMatch(/invalid_phone +1 +e\.g\. row 3: phone number "010-12"/);
    expect(dry.stdout).toMatch(/duplicate +1 +e\.g\. row 4: duplicate of row 2$/m);
    expect(dry.stdout).toMatch(/^ {4}row 2 {2}010-\*\*\*\*-0001 /m); // the preview
    const plan = json(
      (await runUms(['send', 'r.csv', '-t', 't.md', '--dry-run', '--json'], { cwd: dir })).stdout,
    );
    expect(plan.reasons.find((r: any) => r.code === 'invalid_phone').firstRow).toBe(2); // the data row

    const send = await runUms(['send', 'r.csv', '-t', 't.md', '--yes'], { cwd: dir });
    expect(send.code).toBe(3);
    const failed = await runUms(['report', '--failed'], { cwd: dir });
    expect(failed.stdout).toMatch(/^ {4}row 3 +\S+ +- +rejected /m);
    expect(failed.stdout).toMatch(/^ {4}row 5 +010-\*\*\*\*-2001 +sms +failed /m);

    fs.writeFileSync(path.join(dir, 'ragged.csv'), 'name,phone\n가,010-2000-0001\n나,010-2000-0002,extra\n');
    const bad = await runUms(['send', 'ragged.csv', '-t', 't.md', '--dry-run'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^ums: ragged\.csv row 3, line 3/);
  });
});
