// Sending benchmark, through the built-in simulator, journal included:
//  1. throughput: 100,000 messages with no TPS limit (messages/s until the last is accepted);
//  2. throttle accuracy: a 500 TPS lane for 20 s, measured from the simulated carrier's own log
//     (achieved/target and the largest count of parts in any 1-second window).
// Prints one JSON line. Imports from ../dist: `npm run bench` builds first.
//   BENCH_SEND_MESSAGES=20000 BENCH_THROTTLE_SECONDS=5 node bench/send.js   a quick run
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { Journal } = await import('../dist/journal/journal.js');
const { planCampaign } = await import('../dist/app/planCampaign.js');
const { lockCampaign } = await import('../dist/app/campaignLock.js');
const { loadConfig } = await import('../dist/config/config.js');
const { buildLanes } = await import('../dist/app/lanes.js');
const { DeliveryEngine } = await import('../dist/delivery/engine.js');
const { readCarrierLog } = await import('../dist/providers/sim/carrierLog.js');

const MESSAGES = Number(process.env.BENCH_SEND_MESSAGES ?? 100_000);
const THROTTLE_TPS = 500;
const THROTTLE_SECONDS = Number(process.env.BENCH_THROTTLE_SECONDS ?? 20);

async function run(name, rows, sim) {
  const dir = path.join(here, 'out', `send-${name}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const lines = ['name,phone'];
  for (let i = 0; i < rows; i++) lines.push(`고객${i},010${String(20000000 + i).padStart(8, '0')}`);
  fs.writeFileSync(path.join(dir, 'r.csv'), `${lines.join('\n')}\n`);
  fs.writeFileSync(
    path.join(dir, 't.md'),
    '---\nchannel: auto\n---\n#{name}님, 주문하신 상품이 발송되었습니다.\n',
  );
  const simYaml = Object.entries({ type: 'sim', ...sim })
    .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
    .join('\n');
  fs.writeFileSync(
    path.join(dir, 'ums.config.yaml'),
    `journal: ./journal.db\nproviders:\n  sim:\n${simYaml}\n`,
  );
  const config = loadConfig(undefined, process.env, dir);
  const journal = Journal.open(path.join(dir, 'journal.db'));
  const { campaign } = await planCampaign({
    csvFile: path.join(dir, 'r.csv'),
    templateFile: path.join(dir, 't.md'),
    encoding: 'auto',
    config,
    journal,
    lock: (id) => lockCampaign(journal, id, 'bench'),
  });
  const d = journal.delivery();
  const setup = await buildLanes(config, journal.stateDir, d.plannedChannels(campaign.id), {});
  let allAcceptedAt = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const engine = new DeliveryEngine(d, {
    campaignId: campaign.id,
    from: null,
    lanes: setup.lanes,
    resendUnknown: false,
    giveUpAfterMs: 60_000,
    reportWaitMs: 0,
    signal: new AbortController().signal,
    onProgress: (p) => {
      if (p.accepted >= rows && !allAcceptedAt) allAcceptedAt = performance.now();
    },
  });
  const outcome = await engine.run();
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  await Promise.all(setup.providers.map((p) => p.close()));
  journal.close();
  const log = readCarrierLog(path.join(dir, 'sim-sim.jsonl'));
  return {
    outcome,
    seconds: ((allAcceptedAt || t1) - t0) / 1000,
    cpuMs: (cpu.user + cpu.system) / 1000,
    log,
  };
}

const fast = await run('fast', MESSAGES, { tps: 0, latencyMs: 0, dlrDelayMs: 3_600_000, maxBatch: 1000 });
if (fast.log.length !== MESSAGES || new Set(fast.log.map((r) => r.to)).size !== MESSAGES)
  throw new Error('throughput run lost or duplicated messages');

const paced = await run('paced', THROTTLE_TPS * THROTTLE_SECONDS, {
  tps: THROTTLE_TPS,
  carrierTps: THROTTLE_TPS,
  latencyMs: 2,
  dlrDelayMs: 3_600_000,
});
const at = paced.log.map((r) => r.at).sort((a, b) => a - b);
let maxWindow = 0;
for (let i = 0, j = 0; i < at.length; i++) {
  while (at[j] < at[i] - 999) j++;
  maxWindow = Math.max(maxWindow, i - j + 1);
}
// Achieved rate over the span the carrier saw: n parts in (last - first) plus one send interval.
const span = (at[at.length - 1] - at[0]) / 1000 + 1 / THROTTLE_TPS;
const achieved = at.length / span;

process.stdout.write(
  `${JSON.stringify({
    bench: 'send',
    messages: MESSAGES,
    messagesPerSec: Math.round(MESSAGES / fast.seconds),
    cpuMsPer1000: Math.round((fast.cpuMs / MESSAGES) * 1000 * 10) / 10,
    throttle: {
      targetTps: THROTTLE_TPS,
      seconds: THROTTLE_SECONDS,
      achievedTps: Math.round(achieved * 10) / 10,
      achievedOverTarget: Math.round((achieved / THROTTLE_TPS) * 10000) / 10000,
      max1sWindow: maxWindow,
      carrierThrottles: paced.outcome.progress.throttles,
    },
    node: process.version,
    cpus: os.cpus().length,
  })}\n`,
);
