import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runUms, workdir } from '../support/cli.js';
import { FakeSolapi } from '../support/fakeSolapi.js';

const KEY = 'NCSE2EAPIKEY0002';
const SECRET = 'e2e-retry-secret-do-not-print';
const ENV = { SOLAPI_API_KEY: KEY, SOLAPI_API_SECRET: SECRET };
const FROM = '0212345678';

const json = (s: string): Record<string, any> => JSON.parse(s) as Record<string, any>;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const fakes: FakeSolapi[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fake(): Promise<FakeSolapi> {
  const f = await FakeSolapi.start({ apiKey: KEY, apiSecret: SECRET, reportDelayMs: 10 });
  fakes.push(f);
  return f;
}

/** A folder routed to the fake Solapi, `n` recipients 010-3100-000i (plus extra rows). */
function campaignDir(f: FakeSolapi, n: number, extra: string[] = []): string {
  const dir = workdir();
  const lines = [
    'journal: ./journal.db',
    `from: "${FROM}"`,
    'providers:',
    '  solapi:',
    '    type: solapi',
    '    apiKey: "${SOLAPI_API_KEY}"',
    '    apiSecret: "${SOLAPI_API_SECRET}"',
    `    baseUrl: ${JSON.stringify(f.url)}`,
    '    tps: 2000',
    '    batchSize: 5',
    '    timeoutMs: 3000',
    'routes:',
    '  default: solapi',
    '',
  ];
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), lines.join('\n'));
  const rows = Array.from({ length: n }, (_, i) => `고객${i},010-3100-${String(i).padStart(4, '0')}`);
  fs.writeFileSync(path.join(dir, 'recipients.csv'), `${['name,phone', ...rows, ...extra].join('\n')}\n`);
  fs.writeFileSync(
    path.join(dir, 'notice.md'),
    '---\nchannel: auto\n---\n#{name}님, 주문하신 상품이 발송되었습니다.\n',
  );
  return dir;
}

const phone = (i: number): string => `0103100${String(i).padStart(4, '0')}`;
const ums = (args: string[], dir: string) => runUms(args, { cwd: dir, env: ENV });

async function synced(dir: string, id: string): Promise<Record<string, any>> {
  await sleep(40);
  const r = await ums(['report', id, '--sync', '--json'], dir);
  expect([0, 3]).toContain(r.code);
  return json(r.stdout);
}

describe('ums resume C --retry-failed (fake Solapi on 127.0.0.1)', () => {
  it('sends a new attempt to recipients not reached, by reason or all; never to opted-out or reached numbers', async () => {
    const f = await fake();
    const dir = campaignDir(f, 5, ['불통,010-0000-3032']); // 3032: fails every time
    f.failNext.set(phone(1), '3040'); // fails once (timeout), then is delivered
    f.failNext.set(phone(2), '3043'); // fails once (powered off); opts out before the retry
    const sent = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(sent.code, sent.stderr).toBe(0);
    const id = json(sent.stdout).campaign as string;
    const first = await synced(dir, id);
    expect(first.statuses).toMatchObject({ delivered: 3, failed: 3 });
    expect(first.state).toBe('done');

    expect((await ums(['optout', 'add', '010-3100-0002'], dir)).code).toBe(0);

    // --reason 3040: only row 3 (phone 1) gets a new attempt; the campaign is armed again and sent
    const byReason = await ums(['resume', id, '--retry-failed', '--reason', '3040', '--json'], dir);
    expect(byReason.code, byReason.stderr).toBe(3); // 3032 and the opted-out one are still not reached
    expect(json(byReason.stdout).retryFailed).toEqual({ planned: 1, reason: '3040' });
    expect(f.acceptedPerRecipient().get(phone(1))).toBe(2);
    const afterReason = await synced(dir, id);
    expect(afterReason.recipients).toMatchObject({ total: 6, reached: 4, notReached: 2 });

    // all the rest: the 3032 number only (phone 1 was reached, phone 2 opted out)
    const all = await ums(['resume', id, '--retry-failed'], dir);
    expect(all.code, all.stderr).toBe(3);
    expect(all.stderr).toMatch(/^retrying 1 recipient of .+ that were not reached/m);
    const last = await synced(dir, id);
    expect(last.recipients).toMatchObject({ total: 6, reached: 4, notReached: 2 });
    expect(last.state).toBe('done');

    const per = f.acceptedPerRecipient();
    expect(per.get(phone(0))).toBe(1); // delivered the first time: never again
    expect(per.get(phone(1))).toBe(2);
    expect(per.get(phone(2))).toBe(1); // opted out: never retried
    expect(per.get('01000003032')).toBe(2);

    // no recipient whose last failure is 3040 is left; the failed legs stay in the export
    const again = await ums(['resume', id, '--retry-failed', '--reason', '3040', '--json'], dir);
    expect(again.code).toBe(0); // nothing to do (DESIGN.md's exit 0)
    expect(json(again.stdout)).toMatchObject({
      outcome: 'already-finished',
      retryFailed: { planned: 0, reason: '3040' },
    });
    expect(f.accepted()).toHaveLength(8);
    const exported = await ums(['export', id, '--format', 'json'], dir);
    const rows = json(`{"r":${exported.stdout}}`).r as { to: string; status: string; reason: string }[];
    expect(rows.filter((r) => r.to === phone(1)).map((r) => r.status)).toEqual(['failed', 'delivered']);
  });

  it('refuses --retry-failed without a campaign, and --reason without --retry-failed (exit 2)', async () => {
    const f = await fake();
    const dir = campaignDir(f, 1);
    const bare = await ums(['resume', '--retry-failed'], dir);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^ums: --retry-failed: name the campaign/m);
    const alone = await ums(['resume', 'x', '--reason', '3040'], dir);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/^ums: --reason: only with --retry-failed/m);
    const bad = await ums(['resume', 'x', '--retry-failed', '--reason', '30 40'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^ums: --reason "30 40": expected a reason code/m);
  });
});

describe('account-level provider codes stop the run', () => {
  it('1062 (unregistered sender): exit 1, no row failed, the campaign stays armed; after the fix `ums resume` sends everyone once', async () => {
    const f = await fake();
    f.unregisteredSenders.add(FROM);
    const dir = campaignDir(f, 20);
    const sent = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    expect(sent.code).toBe(1);
    const errLines = sent.stderr.trim().split('\n');
    expect(errLines.filter((l) => l.startsWith('ums: '))).toEqual([
      expect.stringMatching(
        /^ums: solapi: the sender number \(from\) is not registered with Solapi \(1062\); nothing is lost: .*then run `ums resume`$/,
      ),
    ]);
    const out = json(sent.stdout);
    expect(out.statuses.failed ?? 0).toBe(0);
    expect(out.statuses.planned).toBe(20);
    expect(out.state).toBe('armed');
    expect(f.accepted()).toHaveLength(0);

    f.unregisteredSenders.clear(); // the operator registered the number
    const resumed = await ums(['resume', '--json'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(json(resumed.stdout).statuses.sent).toBe(20);
    expect(f.accepted()).toHaveLength(20);
    expect(f.duplicates()).toEqual([]);
  });
});
