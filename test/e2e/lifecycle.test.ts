import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { legacyDigest } from '../../src/app/campaignIdentity.js';
import { campaignPhones, carrierLog, writeCampaign, writeConfig } from '../support/campaign.js';
import { runUms, UMS, workdir } from '../support/cli.js';
import { runOnTerminal } from '../support/pty.js';

const json = (s: string): Record<string, any> => JSON.parse(s) as Record<string, any>;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sent = (dir: string): number =>
  fs.existsSync(path.join(dir, 'sim-sim.jsonl')) ? carrierLog(dir).length : 0;
const SEND = ['send', 'recipients.csv', '-t', 'notice.md'];

function campaigns(dir: string): { id: string; state: string }[] {
  const db = new Database(path.join(dir, 'journal.db'), { readonly: true });
  try {
    return db.prepare('SELECT id, state FROM campaigns ORDER BY created_at').all() as {
      id: string;
      state: string;
    }[];
  } finally {
    db.close();
  }
}

function start(args: string[], cwd: string) {
  const child = spawn(process.execPath, [UMS, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
  return { child, exited };
}

async function waitForState(dir: string, state: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(path.join(dir, 'journal.db'))) {
      try {
        if (campaigns(dir).some((c) => c.state === state)) return;
      } catch {
        /* the journal is being created */
      }
    }
    await sleep(20);
  }
  throw new Error(`no campaign reached ${state}`);
}

describe('the campaign lifecycle: only the operator arms a campaign', () => {
  it('a dry run leaves a draft that a bare `ums resume` never sends; `send` arms and sends it once', async () => {
    const dir = workdir();
    writeCampaign(dir, 20);
    writeConfig(dir, { tps: 0, latencyMs: 0, dlrDelayMs: 5 });
    const dry = await runUms([...SEND, '--dry-run', '--json'], { cwd: dir });
    expect(dry.code).toBe(0);
    expect(json(dry.stdout).state).toBe('draft');

    const cron = await runUms(['resume'], { cwd: dir }); // no TTY, no --yes: as cron runs it
    expect(cron.code).toBe(0);
    expect(cron.stdout).toMatch(/nothing to resume.*1 draft/);
    const named = await runUms(['resume', json(dry.stdout).campaign], { cwd: dir });
    expect(named.code).toBe(2);
    expect(named.stderr.trim().split('\n')).toHaveLength(1);
    expect(named.stderr).toMatch(/is a draft .*nothing was sent/);
    expect(sent(dir)).toBe(0);
    expect(campaigns(dir).map((c) => c.state)).toEqual(['draft']);

    const go = await runUms([...SEND, '--json'], { cwd: dir });
    expect(go.code).toBe(0);
    expect(json(go.stdout).state).toBe('done');
    expect(sent(dir)).toBe(20);
    const again = await runUms(['resume'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(sent(dir)).toBe(20);
  });

  it('"n" at the prompt and Ctrl-C at the prompt leave a draft that nothing sends', async () => {
    const dir = workdir();
    writeCampaign(dir, 5);
    writeConfig(dir, { tps: 0, latencyMs: 0 });
    const no = await runOnTerminal(SEND, { cwd: dir, prompt: '[y/N]', keys: 'n\r' });
    expect(no.screen).toMatch(/stays a draft/);
    expect(no.code).toBe(0);
    const ctrlC = await runOnTerminal(SEND, { cwd: dir, prompt: '[y/N]', keys: '\x03' });
    expect(ctrlC.screen).toMatch(/not sent \(Ctrl-C\)/);
    expect(ctrlC.code).toBe(1);
    expect((await runUms(['resume'], { cwd: dir })).code).toBe(0);
    expect(sent(dir)).toBe(0);
    expect(campaigns(dir).map((c) => c.state)).toEqual(['draft']);

    const yes = await runOnTerminal(SEND, { cwd: dir, prompt: '[y/N]', keys: 'y\r' });
    expect(yes.code).toBe(0);
    expect(sent(dir)).toBe(5);
  });

  it('a bare `ums resume` continues every armed unfinished campaign, oldest first, and exits 0 when none is left', async () => {
    const dir = workdir();
    writeConfig(dir, { tps: 0, latencyMs: 0, dlrDelayMs: 5 });
    writeCampaign(dir, 30);
    const first = await runUms([...SEND, '--limit', '10', '--json'], { cwd: dir });
    expect(first.code).toBe(0);
    fs.writeFileSync(
      path.join(dir, 'other.csv'),
      `name,phone\n${Array.from({ length: 12 }, (_, i) => `손님${i},010-3000-${String(i).padStart(4, '0')}`).join('\n')}\n`,
    );
    const second = await runUms(['send', 'other.csv', '-t', 'notice.md', '--limit', '2', '--json'], {
      cwd: dir,
    });
    expect(second.code).toBe(0);
    fs.writeFileSync(path.join(dir, 'draft.csv'), 'name,phone\n고객,010-4000-0001\n');
    expect((await runUms(['send', 'draft.csv', '-t', 'notice.md', '--dry-run'], { cwd: dir })).code).toBe(0);
    expect(sent(dir)).toBe(12);

    const resumed = await runUms(['resume', '--json'], { cwd: dir });
    expect(resumed.code).toBe(0);
    const doc = json(resumed.stdout);
    expect(doc.outcome).toBe('several');
    expect(doc.campaigns.map((c: { campaign: string }) => c.campaign)).toEqual([
      json(first.stdout).campaign,
      json(second.stdout).campaign,
    ]);
    expect(sent(dir)).toBe(42);
    expect(carrierLog(dir).some((r) => r.to === '01040000001')).toBe(false); // the draft
    expect(campaigns(dir).map((c) => c.state)).toEqual(['done', 'done', 'draft']);
    const none = await runUms(['resume', '--json'], { cwd: dir });
    expect(none.code).toBe(0);
    expect(json(none.stdout).outcome).toBe('nothing-to-do');
  });

  it('`ums cancel` stops a campaign: its unsent rows are cancelled and nothing sends them', async () => {
    const dir = workdir();
    writeCampaign(dir, 25);
    writeConfig(dir, { tps: 0, latencyMs: 0, dlrDelayMs: 5 });
    const first = await runUms([...SEND, '--limit', '5', '--json'], { cwd: dir });
    const id = json(first.stdout).campaign as string;
    const cancel = await runUms(['cancel', id, '--json'], { cwd: dir });
    expect(cancel.code).toBe(0);
    expect(json(cancel.stdout)).toMatchObject({ state: 'cancelled', cancelled: 20 });
    expect((await runUms(['resume'], { cwd: dir })).code).toBe(0);
    const again = await runUms([...SEND, '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(json(again.stdout).outcome).toBe('cancelled');
    expect(json(again.stdout).statuses).toMatchObject({ cancelled: 20 });
    expect(sent(dir)).toBe(5);
    const unknownId = await runUms(['cancel', 'no-such'], { cwd: dir });
    expect(unknownId.code).toBe(2);
  });
});

describe('what changed since planning is checked at the claim', () => {
  it('a number opted out after the dry run is skipped opted_out, never sent', async () => {
    const dir = workdir();
    writeCampaign(dir, 10);
    writeConfig(dir, { tps: 0, latencyMs: 0, dlrDelayMs: 5 });
    expect((await runUms([...SEND, '--dry-run'], { cwd: dir })).code).toBe(0);
    const [, second, third] = campaignPhones(10);
    expect((await runUms(['optout', 'add', second!], { cwd: dir })).code).toBe(0);
    fs.writeFileSync(path.join(dir, '080.txt'), `${third}\n`);
    expect((await runUms(['optout', 'import', '080.txt'], { cwd: dir })).code).toBe(0);
    const go = await runUms([...SEND, '--yes', '--json'], { cwd: dir });
    expect(go.code).toBe(0);
    expect(json(go.stdout).statuses).toMatchObject({ skipped: 2 });
    const log = carrierLog(dir).map((r) => r.to);
    expect(log).toHaveLength(8);
    expect(log).not.toContain(second);
    expect(log).not.toContain(third);
    const rows = json(
      (await runUms(['export', json(go.stdout).campaign, '--format', 'json'], { cwd: dir })).stdout,
    ) as unknown as { to: string; status: string; reason: string }[];
    expect(rows.find((r) => r.to === second)).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/^opted_out/),
    });
  });

  it('--encoding is part of the campaign: the same bytes read as another encoding are another plan', async () => {
    const dir = workdir();
    writeConfig(dir, { tps: 0, latencyMs: 0 });
    // 첨캐 in CP949 is C3 B7 C4 B3, which is also valid UTF-8 (÷ĳ)
    fs.writeFileSync(
      path.join(dir, 'recipients.csv'),
      Buffer.concat([
        Buffer.from('name,phone\n'),
        Buffer.from([0xc3, 0xb7, 0xc4, 0xb3]),
        Buffer.from(',010-2000-0001\n'),
      ]),
    );
    fs.writeFileSync(path.join(dir, 'notice.md'), '---\nchannel: lms\n---\n#{name}님 안녕하세요\n');
    const utf8 = await runUms([...SEND, '--encoding', 'utf8', '--dry-run', '--json'], { cwd: dir });
    const cp949 = await runUms([...SEND, '--encoding', 'cp949', '--dry-run', '--json'], { cwd: dir });
    expect(utf8.code).toBe(0);
    expect(cp949.code).toBe(0);
    expect(json(cp949.stdout).campaign).not.toBe(json(utf8.stdout).campaign);
    expect(json(cp949.stdout).newlyPlanned).toBe(true);
    expect(json(cp949.stdout).preview[0].text).toContain('첨캐님');
    const again = await runUms([...SEND, '--encoding', 'cp949', '--dry-run', '--json'], { cwd: dir });
    expect(json(again.stdout)).toMatchObject({ campaign: json(cp949.stdout).campaign, newlyPlanned: false });
    // a name already used with the other encoding is refused, naming what differs
    expect(
      (await runUms([...SEND, '--encoding', 'utf8', '--campaign', 'dec-1', '--dry-run'], { cwd: dir })).code,
    ).toBe(0);
    const clash = await runUms([...SEND, '--encoding', 'cp949', '--campaign', 'dec-1', '--dry-run'], {
      cwd: dir,
    });
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/already exists with other inputs \(changed: --encoding\)/);
  });

  it("the template's images are part of the campaign: another picture under the same name is refused", async () => {
    const dir = workdir();
    writeCampaign(dir, 3);
    writeConfig(dir, { tps: 0, latencyMs: 0 });
    // a minimal JPEG header: SOI, then an SOF0 of 800x600
    const jpeg = (w: number, h: number, fill: number): Buffer =>
      Buffer.concat([
        Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, h >> 8, h & 255, w >> 8, w & 255, 0x03]),
        Buffer.alloc(64, fill),
      ]);
    fs.writeFileSync(path.join(dir, 'promo.jpg'), jpeg(800, 600, 1));
    fs.writeFileSync(
      path.join(dir, 'mms.md'),
      '---\nsubject: 겨울 신상품\nimages: [promo.jpg]\n---\n#{name}님, 겨울 신상품을 소개합니다.\n',
    );
    const args = ['send', 'recipients.csv', '-t', 'mms.md', '--dry-run', '--json'];
    const first = await runUms(args, { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    fs.writeFileSync(path.join(dir, 'promo.jpg'), jpeg(800, 600, 2));
    const second = await runUms(args, { cwd: dir });
    expect(second.code).toBe(0);
    expect(json(second.stdout).campaign).not.toBe(json(first.stdout).campaign);
    expect((await runUms([...args, '--campaign', 'winter'], { cwd: dir })).code).toBe(0);
    fs.writeFileSync(path.join(dir, 'promo.jpg'), jpeg(800, 600, 3));
    const clash = await runUms([...args, '--campaign', 'winter'], { cwd: dir });
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/already exists with other inputs \(changed: the template's images\)/);
  });

  it('a campaign planned by an older ums (its digest, no identity) is found again, never planned twice', async () => {
    const dir = workdir();
    writeCampaign(dir, 5);
    writeConfig(dir, { tps: 0, latencyMs: 0 });
    const go = await runUms([...SEND, '--yes', '--json'], { cwd: dir });
    expect(go.code).toBe(0);
    // rewrite it as the previous version stored it
    const db = new Database(path.join(dir, 'journal.db'));
    const row = db.prepare('SELECT settings FROM campaigns').get() as { settings: string };
    const settings = JSON.parse(row.settings) as Record<string, any>;
    const old = legacyDigest(settings.identity);
    delete settings.identity;
    db.pragma('foreign_keys = OFF');
    db.prepare('UPDATE campaigns SET id = ?, digest = ?, settings = ?').run(
      `c-${old.slice(0, 12)}`,
      old,
      JSON.stringify(settings),
    );
    db.prepare('UPDATE messages SET campaign_id = ?').run(`c-${old.slice(0, 12)}`);
    db.close();
    const again = await runUms([...SEND, '--yes', '--json'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(json(again.stdout)).toMatchObject({
      campaign: `c-${old.slice(0, 12)}`,
      outcome: 'already-finished',
    });
    expect(sent(dir)).toBe(5);
  });
});

describe('a journal changed by another program', () => {
  it('a campaign whose stored settings are not what ums writes: one line naming it, exit 2, nothing sent', async () => {
    const dir = workdir();
    writeCampaign(dir, 3);
    writeConfig(dir, { tps: 0, latencyMs: 0 });
    expect((await runUms([...SEND, '--dry-run'], { cwd: dir })).code).toBe(0);
    const { id } = campaigns(dir)[0]!;
    for (const settings of ['{"ad": tru', '{"ad": "yes", "encoding": "auto"}']) {
      const db = new Database(path.join(dir, 'journal.db'));
      db.prepare('UPDATE campaigns SET settings = ?').run(settings);
      db.close();
      for (const args of [['report'], ['resume', id], SEND.concat('--yes')]) {
        const r = await runUms(args, { cwd: dir });
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr).toMatch(
          new RegExp(
            `^ums: \\S*journal\\.db: campaign ${id}: its stored settings are (not JSON|damaged \\(ad: [^\\n]*\\)): the journal was changed by something other than ums; [^\\n]*\\n$`,
          ),
        );
      }
    }
    expect(sent(dir)).toBe(0);
  });
});

describe('planning holds the campaign', () => {
  function bigCampaign(dir: string): void {
    writeCampaign(dir, 400_000);
    writeConfig(dir, { tps: 0, latencyMs: 0 });
  }

  it('a second planner of the same campaign exits 75 and the first plans it whole', async () => {
    const dir = workdir();
    bigCampaign(dir);
    const first = start([...SEND, '--dry-run'], dir);
    await waitForState(dir, 'planning');
    const second = await runUms([...SEND, '--dry-run'], { cwd: dir });
    expect(second.code).toBe(75);
    expect(second.stderr).toMatch(/^ums: campaign c-[0-9a-f]{12} is being planned or sent by pid \d+/);
    const done = await first.exited;
    expect(done.code).toBe(0);
    expect(campaigns(dir).map((c) => c.state)).toEqual(['draft']);
  });

  it('Ctrl-C while planning discards the partial plan: one line, exit 1, no campaign left', async () => {
    const dir = workdir();
    bigCampaign(dir);
    const run = start([...SEND, '--yes'], dir);
    await waitForState(dir, 'planning');
    run.child.kill('SIGINT');
    const done = await run.exited;
    expect(done.code).toBe(1);
    expect(done.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^ums: stopped while planning: the partial plan was discarded; nothing was sent$/,
      ),
    ]);
    expect(campaigns(dir)).toEqual([]);
    expect(sent(dir)).toBe(0);
  });
});

describe('a journal that cannot be written while planning', () => {
  it('a full disk mid-plan: one line, exit 1, and no campaign that looks planned', async (ctx) => {
    const { withSmallDisk } = await import('../support/reliability.js');
    await withSmallDisk(
      ctx,
      async (mount) => {
        const dir = workdir();
        writeCampaign(dir, 200_000); // ~60 MB of journal: more than the disk holds
        fs.writeFileSync(
          path.join(dir, 'ums.config.yaml'),
          `journal: ${path.join(mount, 'journal.db')}\nproviders:\n  sim: { type: sim, tps: 0, latencyMs: 0 }\n`,
        );
        const run = await runUms([...SEND, '--yes'], { cwd: dir, timeoutMs: 120_000 });
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr.trim().split('\n'), run.stderr).toEqual([
          expect.stringMatching(
            /^ums: the journal could not be written while planning \(SQLITE_FULL: .*nothing was planned or sent/,
          ),
        ]);
        expect(sent(dir)).toBe(0);
        const listed = await runUms(['campaigns', '--json'], { cwd: dir });
        expect(listed.code).toBe(0);
        for (const c of json(listed.stdout) as unknown as { state: string }[])
          expect(c.state).toBe('interrupted');
        const resume = await runUms(['resume'], { cwd: dir });
        expect(resume.code).toBe(0);
        expect(sent(dir)).toBe(0);
      },
      8,
    );
  });
});
