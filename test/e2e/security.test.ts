import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunResult, runUms, UMS, workdir } from '../support/cli.js';
import { FakeSolapi } from '../support/fakeSolapi.js';

const KEY = 'NCSSECURITYKEY77';
const SECRET = 'sec-7d1e-never-print-this-secret';
const HOOK = 'hook-2b9c-never-print-this-either';
const ENV = { SOLAPI_API_KEY: KEY, SOLAPI_API_SECRET: SECRET, UMS_WEBHOOK_SECRET: HOOK };

const fakes: FakeSolapi[] = [];
afterAll(async () => Promise.all(fakes.map((f) => f.close())));

function writeDir(baseUrl: string, secret = '${SOLAPI_API_SECRET}'): string {
  const dir = workdir();
  const cfg = [
    'journal: ./state/journal.db',
    'from: "0212345678"',
    'providers:',
    '  solapi:',
    '    type: solapi',
    '    apiKey: "${SOLAPI_API_KEY}"',
    `    apiSecret: "${secret}"`,
    '    webhookSecret: "${UMS_WEBHOOK_SECRET}"',
    `    baseUrl: "${baseUrl}"`,
    '    tps: 1000',
    'routes: { default: solapi }',
    '',
  ];
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), cfg.join('\n'));
  const rows = Array.from({ length: 30 }, (_, i) => `고객${i},010-3100-${String(i).padStart(4, '0')}`);
  fs.writeFileSync(path.join(dir, 'r.csv'), `${['name,phone', ...rows, '불통,010-0303-2001'].join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 't.md'), '#{name}님, 안내드립니다.');
  return dir;
}

/** Every byte ums wrote or printed, searched for the secrets. */
function leaks(outputs: RunResult[], dir: string): string[] {
  const found: string[] = [];
  const texts: [string, Buffer][] = outputs.map((o, i) => [
    `run ${i} output`,
    Buffer.from(o.stdout + o.stderr),
  ]);
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else texts.push([path.relative(dir, p), fs.readFileSync(p)]);
    }
  };
  walk(dir);
  for (const [where, bytes] of texts) {
    for (const secret of [SECRET, KEY, HOOK]) {
      if (secret === KEY && where === 'ums.config.yaml') continue;
      if (bytes.includes(secret)) found.push(`${secret} in ${where}`);
    }
  }
  return found;
}

describe('security', () => {
  it('never writes or prints a secret: output, errors, journal, exports and provider state are all clean', async () => {
    const fake = await FakeSolapi.start({ apiKey: KEY, apiSecret: SECRET, reportDelayMs: 10 });
    fakes.push(fake);
    const dir = writeDir(fake.url);
    const runs: RunResult[] = [];
    const run = async (args: string[], env: Record<string, string> = ENV): Promise<RunResult> => {
      const r = await runUms(args, { cwd: dir, env });
      runs.push(r);
      return r;
    };
    // A wrong secret first: the refusal must not echo either secret.
    const refused = await run(['send', 'r.csv', '-t', 't.md', '--yes'], {
      ...ENV,
      SOLAPI_API_SECRET: `${SECRET}-wrong`,
    });
    expect(refused.code).toBe(1);
    const sent = await run(['send', 'r.csv', '-t', 't.md', '--yes', '--json']);
    expect(sent.code).toBe(0); // Solapi's reports come by --sync or webhook, after the run
    const id = JSON.parse(sent.stdout).campaign as string;
    await run(['report', '--sync', '--failed']);
    await run(['report', '--json']);
    await run(['export', id, '-o', 'out.csv']);
    await run(['export', id, '--format', 'json', '-o', 'out.json']);
    await run(['campaigns', '--json']);
    // A config error that names the provider must not print its value either.
    await run(['send', 'r.csv', '-t', 't.md', '--yes', '--campaign', 'second'], {
      SOLAPI_API_KEY: KEY,
      UMS_WEBHOOK_SECRET: HOOK,
    });
    expect(runs.at(-1)!.code).toBe(2);
    expect(runs.at(-1)!.stderr).toMatch(/SOLAPI_API_SECRET/);
    expect(leaks(runs, dir)).toEqual([]);
  });

  it('creates the journal, its WAL and exports 0600', async () => {
    const dir = workdir();
    fs.writeFileSync(path.join(dir, 'r.csv'), 'phone\n010-3200-0001\n');
    fs.writeFileSync(path.join(dir, 't.md'), '안내드립니다.');
    expect(
      (await runUms(['send', 'r.csv', '-t', 't.md', '--yes', '--db', 'j/journal.db'], { cwd: dir })).code,
    ).toBe(0);
    const id = JSON.parse(
      (await runUms(['campaigns', '--json', '--db', 'j/journal.db'], { cwd: dir })).stdout,
    )[0].id as string;
    expect((await runUms(['export', id, '-o', 'x.csv', '--db', 'j/journal.db'], { cwd: dir })).code).toBe(0);
    for (const f of ['j/journal.db', 'j/journal.db-wal', 'x.csv']) {
      if (!fs.existsSync(path.join(dir, f))) continue; // the WAL may be checkpointed away on close
      expect((fs.statSync(path.join(dir, f)).mode & 0o777).toString(8), f).toBe('600');
    }
    expect((fs.statSync(path.join(dir, 'j')).mode & 0o777).toString(8)).toBe('700');
  });

  it('ums listen binds 127.0.0.1, checks the secret, limits bodies, and survives slow and malformed requests', async () => {
    const fake = await FakeSolapi.start({ apiKey: KEY, apiSecret: SECRET, reportDelayMs: 10 });
    fakes.push(fake);
    const dir = writeDir(fake.url);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, [UMS, 'listen', '--port', String(port)], {
      cwd: dir,
      env: { ...process.env, ...ENV, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${port}/`).then(
          () => true,
          () => false,
        );
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`listen did not start: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const listening =
        fs.readFileSync(`/proc/net/tcp`, 'utf8') +
        (fs.existsSync('/proc/net/tcp6') ? fs.readFileSync('/proc/net/tcp6', 'utf8') : '');
      const hex = port.toString(16).toUpperCase().padStart(4, '0');
      const mine = listening.split('\n').filter((l) => l.includes(`:${hex} `) && / 0A /.test(l));
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.every((l) => l.trim().split(/\s+/)[1]!.startsWith('0100007F'))).toBe(true); // 127.0.0.1 only

      const post = (p: string, body: string, headers: Record<string, string> = {}) =>
        fetch(`http://127.0.0.1:${port}${p}`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', ...headers },
        }).then((r) => r.status);
      expect(await post(`/solapi/wrong-secret`, '[]')).toBe(401);
      expect(await post(`/solapi/${HOOK}`, '{not json')).toBe(400);
      expect(await post(`/solapi/${HOOK}`, JSON.stringify([{ hello: 'world' }]))).toBe(400);
      expect(await post(`/solapi/${HOOK}`, 'x'.repeat(5 * 1024 * 1024)).catch(() => 413)).toBe(413);

      // A slow client that never finishes its request must not stop the server.
      const slow = net.connect(port, '127.0.0.1');
      slow.write(`POST /solapi/${HOOK} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n[`);
      const report = JSON.stringify([
        {
          messageId: 'M4V2023UNKNOWN',
          statusCode: '4000',
          to: '01031000001',
          customFields: { umsKey: 'c-x:1:0' },
        },
      ]);
      expect(await post(`/solapi/${HOOK}`, report)).toBe(200);
      slow.destroy();
      expect(child.exitCode).toBeNull();
      expect(out).not.toContain(HOOK);
      expect(out).not.toContain(SECRET);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
