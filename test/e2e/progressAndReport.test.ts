import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeCampaign, writeConfig } from '../support/campaign.js';
import { runUms, workdir } from '../support/cli.js';
import { FakeSmsc, type FakeSmscOptions } from '../support/fakeSmsc.js';

/**
 * What the progress line and the report say where a number alone would mislead: an ETA before any
 * rate is measured, a delivery rate when no delivery reports were asked for, a negative report lag.
 */

const json = (s: string): Record<string, any> => JSON.parse(s) as Record<string, any>;
const ENV = { SMPP_PASSWORD: 'secret' };

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of stops.splice(0).reverse()) await f();
});

async function smscWith(opts: FakeSmscOptions): Promise<FakeSmsc> {
  const smsc = await FakeSmsc.start(opts);
  stops.push(() => smsc.stop());
  return smsc;
}

/** A campaign of `n` rows and a config whose one provider, `carrier`, is SMPP at the fake's port. */
function smppCampaign(dir: string, n: number, smsc: FakeSmsc, provider: Record<string, unknown> = {}): void {
  writeCampaign(dir, n);
  const cfg = {
    type: 'smpp',
    host: '127.0.0.1',
    port: smsc.port,
    systemId: 'ums',
    password: '${SMPP_PASSWORD}',
    tps: 0,
    window: 10,
    requestTimeoutMs: 2000,
    unavailableAfterMs: 3000,
    reportWaitMs: 3000,
    ...provider,
  };
  fs.writeFileSync(
    path.join(dir, 'ums.config.yaml'),
    [
      'journal: ./journal.db',
      'from: "0212345678"',
      'providers:',
      '  carrier:',
      ...Object.entries(cfg).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
      '',
    ].join('\n'),
  );
}

describe('the progress line', () => {
  it('shows no rate or ETA before a second of sending has measured them, then the ETA as m:ss', async () => {
    const dir = workdir();
    writeCampaign(dir, 20);
    writeConfig(dir, { tps: 3, dlrDelayMs: 0, latencyMs: 1 }); // 20 rows at 3/s: over 6 s, two progress lines
    const r = await runUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes'], { cwd: dir });
    expect(r.code).toBe(0);
    // a log line begins with the time and the campaign id (test/e2e/presend.test.ts): what follows is checked here
    const lines = r.stderr
      .split('\n')
      .map((l) => l.replace(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \S+ \S+ (?=sent )/, ''))
      .filter((l) => l.startsWith('sent '));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    // the first line comes with the first answer, a few ms in: no rate can be measured yet
    expect(lines[0]).toMatch(/^sent \d+\/20 · failed 0$/);
    const withEta = lines.filter((l) => l.includes('ETA'));
    expect(withEta.length).toBeGreaterThanOrEqual(1);
    for (const l of withEta) expect(l).toMatch(/^sent \d+\/20 · \d+\/s · ETA \d+:\d{2} · failed 0$/);
    expect(r.stderr).not.toMatch(/ETA \d+ s/);
  });
});

describe('the report', () => {
  it('says that no delivery reports were requested instead of "delivered 0.0%"', async () => {
    const smsc = await smscWith({ receipts: false });
    const dir = workdir();
    smppCampaign(dir, 3, smsc, { registeredDelivery: false, reportWaitMs: 0 });
    const sent = await runUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes'], { cwd: dir, env: ENV });
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(
      /^ {2}delivered {3}not known: no delivery reports were requested \(carrier\)$/m,
    );
    expect(sent.stdout).not.toMatch(/0\.0%/);

    const human = await runUms(['report'], { cwd: dir, env: ENV });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/no delivery reports were requested \(carrier\)/);
    expect(human.stdout).not.toMatch(/0\.0%/);

    const r = json((await runUms(['report', '--json'], { cwd: dir, env: ENV })).stdout);
    expect(r.statuses.sent).toBe(3);
    expect(r.deliveryRate).toBeNull(); // the key is kept
    expect(r.reportsNotRequested).toEqual(['carrier']);
  });

  it('with delivery reports requested, the rate is shown as before', async () => {
    const dir = workdir();
    writeCampaign(dir, 3);
    writeConfig(dir, { tps: 0, dlrDelayMs: 50, latencyMs: 1 });
    expect((await runUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes'], { cwd: dir })).code).toBe(0);
    const human = await runUms(['report', '--sync'], { cwd: dir });
    expect(human.stdout).toMatch(/^ {2}delivered {3}100\.0% of messages the providers took$/m);
    expect(human.stdout).toMatch(/^ {2}report lag {2}p50 \d+ ms · p95 \d+ ms \(3 reports\)$/m);
    const r = json((await runUms(['report', '--json'], { cwd: dir })).stdout);
    expect(r.deliveryRate).toBe(1);
    expect(r.reportsNotRequested).toEqual([]);
  });

  it('a negative report lag says the provider clock is behind, in a readable unit', async () => {
    // the fake SMSC's receipts say "done date: 2024-01-15 12:30": long before this machine's send
    const smsc = await smscWith({ receipts: { delayMs: 5 } });
    const dir = workdir();
    smppCampaign(dir, 3, smsc);
    const sent = await runUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], {
      cwd: dir,
      env: ENV,
    });
    expect(sent.code).toBe(0);
    expect(json(sent.stdout).statuses.delivered).toBe(3);
    const human = await runUms(['report'], { cwd: dir, env: ENV });
    expect(human.stdout).toMatch(
      /^ {2}report lag {2}p50 -[\d,]+ days · p95 -[\d,]+ days \(3 reports\); below zero: the provider's clock is behind this machine's, or it rounds report times down$/m,
    );
  });
});
