// Planning benchmark: a generated 1,000,000-row recipient CSV planned into a fresh journal.
// Targets (issue 13): >= 250,000 rows/s and <= 160 MB peak RSS on the 2-core CI machine;
// 10,000,000 rows (BENCH_PLAN_ROWS=10000000) <= 400 MB.
//
//   node bench/plan.js                 generate bench/out/ inputs if missing, plan in a child, print one JSON line
//   node bench/plan.js --child         the measured part alone (e.g. `node --cpu-prof bench/plan.js --child`)
//   BENCH_PLAN_ROWS=100000 node bench/plan.js    another size (its own CSV file)
//   UMS_PLAN_WRITER=inline node bench/plan.js    rows stored by the planning thread, not a worker
//   BENCH_PLAN_PG=postgres://ums@127.0.0.1/bench node bench/plan.js    into a journal on PostgreSQL
//                                      (campaign bench-plan is discarded there first, untimed)
//
// The planning runs in a child process so that the peak RSS reported is planning's own,
// not the generator's. Imports come from ../dist: run `npm run build` first (`npm run bench` does).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from '../dist/providers/sim/prng.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const outDir = path.join(here, 'out');
const ROWS = Number(process.env.BENCH_PLAN_ROWS ?? 1_000_000);
/** Bump when the generator changes, so a stale CSV is not reused. */
const GENERATOR_VERSION = 2;
const csvFile = path.join(outDir, `plan-recipients-${ROWS}-v${GENERATOR_VERSION}.csv`);
const templateFile = path.join(outDir, 'plan-order-shipped.md');
const journalFile = path.join(outDir, 'plan-journal.db');

async function parent() {
  fs.mkdirSync(outDir, { recursive: true });
  if (!fs.existsSync(csvFile)) {
    const t0 = performance.now();
    await generateCsv(csvFile, ROWS);
    process.stderr.write(
      `bench/plan: generated ${path.relative(root, csvFile)} (${ROWS.toLocaleString('en-US')} rows) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  }
  writeTemplate(templateFile);
  const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child'], {
    cwd: root,
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (run.status !== 0) {
    process.stderr.write(
      `bench/plan: the planning child failed (${run.signal ?? `exit ${run.status}`})\n${run.stdout}`,
    );
    process.exit(1);
  }
  const line = run.stdout.trim().split('\n').pop();
  process.stdout.write(`${line}\n`);
}

async function child() {
  const { planCampaign } = await import('../dist/app/planCampaign.js');
  const { lockCampaign } = await import('../dist/app/campaignLock.js');
  const { Journal } = await import('../dist/journal/journal.js');
  const { loadConfig } = await import('../dist/config/config.js');
  const { planWriterFor } = await import('../dist/app/planWriter.js');
  if (!fs.existsSync(csvFile))
    throw new Error(`${csvFile} is missing: run node bench/plan.js (without --child) once`);
  writeTemplate(templateFile);
  const pgUrl = process.env.BENCH_PLAN_PG;
  for (const f of [journalFile, `${journalFile}-wal`, `${journalFile}-shm`]) fs.rmSync(f, { force: true });
  // outDir holds no ums.config.yaml: the built-in defaults (sim provider, default prices).
  const config = loadConfig(undefined, {}, outDir);
  const journal = pgUrl ? Journal.open(pgUrl, { stateDir: outDir }) : Journal.open(journalFile);
  if (pgUrl && journal.findCampaign('bench-plan')) journal.discardCampaign('bench-plan');

  const load1 = os.loadavg()[0];
  // the largest the write-ahead log grew: disk space planning needs beside the journal
  let walBytes = 0;
  const walWatch = setInterval(() => {
    try {
      walBytes = Math.max(walBytes, fs.statSync(`${journalFile}-wal`).size);
    } catch {
      /* not there yet */
    }
  }, 50);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { campaign, created } = await planCampaign({
    csvFile,
    templateFile,
    campaignId: 'bench-plan',
    encoding: 'auto',
    config,
    journal,
    lock: (id) => lockCampaign(journal, id, 'bench'), // as `ums send` plans: under the campaign's lock
  });
  clearInterval(walWatch);
  const closing = performance.now();
  journal.close(); // counted: closing the last connection checkpoints what the WAL still holds
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0); // all threads of this process: planning and the journal writer
  if (!created || campaign.rows !== ROWS || campaign.state !== 'draft') {
    throw new Error(`unexpected outcome: created=${created} rows=${campaign.rows} state=${campaign.state}`);
  }
  const result = {
    bench: 'plan',
    rows: campaign.rows,
    seconds: round(seconds, 3),
    closeSeconds: round((performance.now() - closing) / 1000, 3),
    peakWalMB: round(walBytes / (1024 * 1024), 1),
    rowsPerSec: Math.round(campaign.rows / seconds),
    peakRssMB: round(peakRssBytes() / (1024 * 1024), 1),
    node: process.version,
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    // context for a noisy shared machine: CPU time used, and the 1-minute load average at the start
    cpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
    load1: round(load1, 2),
    // who stored the rows: a worker thread (large CSVs, 2+ cores) or the planning thread itself
    writer: pgUrl ? 'inline' : planWriterFor(journalFile, fs.statSync(csvFile).size),
    journal: journal.dialect,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** This process's own peak resident set: VmHWM, else getrusage's maxrss. */
function peakRssBytes() {
  try {
    const m = /^VmHWM:\s+(\d+)\s*kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

function round(n, digits) {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function writeTemplate(file) {
  // templates/order-shipped.md, copied so the bench does not change when the example does.
  const text = `---\nchannel: auto\n---\n[#{shop}] #{name}님, 주문하신 #{item} 상품이 발송되었습니다. 송장 #{invoice}\n`;
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
}

// ---- the generator: deterministic, so every run plans the same file ----

const SURNAMES = [
  '김',
  '이',
  '박',
  '최',
  '정',
  '강',
  '조',
  '윤',
  '장',
  '임',
  '한',
  '오',
  '서',
  '신',
  '권',
  '황',
  '안',
  '송',
  '류',
  '홍',
  '전',
  '고',
  '문',
  '양',
  '손',
  '배',
  '백',
  '허',
  '남궁',
  '선우',
];
const GIVEN = [
  '민',
  '서',
  '지',
  '현',
  '우',
  '준',
  '영',
  '수',
  '은',
  '하',
  '윤',
  '도',
  '예',
  '주',
  '진',
  '연',
  '성',
  '호',
  '유',
  '채',
  '다',
  '소',
  '태',
  '승',
  '재',
  '희',
  '아',
  '경',
  '미',
  '혜',
];
const SHOPS = [
  '한빛상회',
  '다온마켓',
  '꽃담',
  '바른가게',
  '초록농장',
  '서울커피',
  '모아몰',
  '하늘문구',
  '달빛베이커리',
  '제주감귤농원',
  'ABC Mart',
  '누리샵',
  '소소한집',
  '행복한 책방',
  '온누리약초',
];
const ITEMS = [
  '무선 이어폰',
  '유기농 현미 5kg',
  '텀블러',
  '겨울 패딩 점퍼',
  '아메리카노 원두 1kg',
  '볼펜 세트',
  '강아지 사료',
  '수제 딸기잼',
  '"캠핑 의자, 2개"',
  '휴대폰 케이스',
  '한라봉 3kg',
  '노트북 거치대',
  '요가 매트',
  '전기 주전자',
  '홍삼 스틱 30포',
  '운동화',
];

function pick(rand, list) {
  return list[Math.floor(rand() * list.length)];
}

function digits(rand, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rand() * 10);
  return s;
}

/** A Korean mobile number as people type it into spreadsheets. */
function formatPhone(rand, mid, last) {
  const r = rand();
  if (r < 0.5) return `010-${mid}-${last}`;
  if (r < 0.8) return `010${mid}${last}`;
  if (r < 0.9) return `+82 10-${mid}-${last}`;
  if (r < 0.97) return `+82 10 ${mid} ${last}`;
  return `010 ${mid} ${last}`;
}

const INVALID = [
  '010-123-456',
  '1.01235E+10',
  '010-1234-567a',
  '1588-1234',
  '02-12',
  '',
  '010-9999',
  '+82 10-12-34',
];

async function generateCsv(file, rows) {
  const rand = prng(20240601);
  const tmp = `${file}.tmp-${process.pid}`;
  const out = fs.createWriteStream(tmp);
  const recent = []; // earlier numbers, for the duplicates
  let chunk = 'name,phone,shop,item,invoice\n';
  for (let row = 1; row <= rows; row++) {
    const name = pick(rand, SURNAMES) + pick(rand, GIVEN) + (rand() < 0.9 ? pick(rand, GIVEN) : '');
    let phone;
    const r = rand();
    if (r < 0.005) {
      phone = pick(rand, INVALID);
    } else if (r < 0.0095 && recent.length > 0) {
      // ~0.45% repeat an earlier number on purpose; random collisions in the 80M numbers add ~0.6%
      const [mid, last] = recent[Math.floor(rand() * recent.length)];
      phone = formatPhone(rand, mid, last); // the same number, maybe written another way
    } else {
      const mid = String(2000 + Math.floor(rand() * 8000));
      const last = digits(rand, 4);
      phone = formatPhone(rand, mid, last);
      if (recent.length < 50_000) recent.push([mid, last]);
      else recent[Math.floor(rand() * recent.length)] = [mid, last];
    }
    if (phone.includes(' ') && rand() < 0.3) phone = `"${phone}"`;
    chunk += `${name},${phone},${pick(rand, SHOPS)},${pick(rand, ITEMS)},${digits(rand, 12)}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
  fs.renameSync(tmp, file);
}

// Last, so that every constant above is initialised.
if (process.argv.includes('--child')) {
  await child();
} else {
  await parent();
}
