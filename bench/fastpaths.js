// The hand-written fast paths of planning against what they stand in for, on 200,000 generated rows:
//   - SimpleCsvParser (src/input/recipients.ts) against csv-parse, records per second;
//   - normalisePhone's fast path against its careful path and against libphonenumber-js, calls per second;
//   - the memory libphonenumber-js's metadata takes once loaded;
//   - SeenNumbers (src/campaign/plan.ts) against a Map of strings, for a million numbers.
// Their agreement is tested in test/unit/fastPaths.test.ts; this says what they are worth.
//
//   node bench/fastpaths.js      (after npm run build: imports come from ../dist)
//
// It runs itself again with --expose-gc, so that each memory figure is taken after a full collection.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import v8 from 'node:v8';
import { parse } from 'csv-parse/sync';
import { normaliseAny, normalisePhone } from '../dist/campaign/phone.js';
import { SeenNumbers } from '../dist/campaign/plan.js';
import { SimpleCsvParser } from '../dist/input/recipients.js';
import { prng } from '../dist/providers/sim/prng.js';

if (typeof global.gc !== 'function') {
  const run = spawnSync(process.execPath, ['--expose-gc', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}

// first, before anything else takes memory
global.gc();
const heapBefore = v8.getHeapStatistics().used_heap_size;
const rssBefore = process.memoryUsage().rss;
const libphonenumber = createRequire(import.meta.url)('libphonenumber-js/max');
libphonenumber.parsePhoneNumberFromString('+14155550132');
global.gc();
const metadataMB = (v8.getHeapStatistics().used_heap_size - heapBefore) / (1024 * 1024);
const metadataRssMB = (process.memoryUsage().rss - rssBefore) / (1024 * 1024);
const ROWS = 200_000;
const rand = prng(20240601);
const digits = (n) => String(Math.floor(rand() * 10 ** n)).padStart(n, '0');
const phones = [];
let csv = 'name,phone,shop,item,invoice\n';
for (let i = 0; i < ROWS; i++) {
  const mid = String(2000 + Math.floor(rand() * 8000));
  const last = digits(4);
  const r = rand();
  const phone =
    r < 0.5
      ? `010-${mid}-${last}`
      : r < 0.8
        ? `010${mid}${last}`
        : r < 0.9
          ? `+82 10-${mid}-${last}`
          : `010 ${mid} ${last}`;
  phones.push(phone);
  csv += `홍길동${i % 100},${phone.includes(' ') ? `"${phone}"` : phone},한빛상회,"캠핑 의자, 2개",${digits(12)}\n`;
}

const load1 = os.loadavg()[0];

/** Per second: `run` over `n` items, the best of 3 (after a warm-up). */
function perSecond(n, run) {
  run();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
  }
  return Math.round((n * 1000) / best);
}

const simpleCsv = perSecond(ROWS, () => {
  let rows = 0;
  const parser = new SimpleCsvParser(() => rows++);
  parser.write(csv, true);
  if (rows !== ROWS + 1) throw new Error(`SimpleCsvParser read ${rows} records`);
});
const csvParse = perSecond(ROWS, () => {
  const records = parse(csv, { bom: true, record_delimiter: ['\r\n', '\n', '\r'], skip_empty_lines: true });
  if (records.length !== ROWS + 1) throw new Error(`csv-parse read ${records.length} records`);
});

const fastPhone = perSecond(ROWS, () => {
  for (const p of phones) if (!normalisePhone(p).ok) throw new Error(p);
});
const carefulPhone = perSecond(ROWS, () => {
  for (const p of phones) if (!normaliseAny(p).ok) throw new Error(p);
});
const libPhone = perSecond(ROWS / 10, () => {
  // (a few are outside libphonenumber's allocated ranges: parsed all the same)
  for (let i = 0; i < ROWS / 10; i++)
    if (!libphonenumber.parsePhoneNumberFromString(phones[i], 'KR')) throw new Error(phones[i]);
});

/** Heap + array buffers taken by `build` (a million numbers), kept alive until measured. */
function footprintMB(build) {
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  global.gc();
  const before = used();
  const kept = build();
  global.gc();
  const after = used();
  if (!kept) throw new Error('nothing built');
  return (after - before) / (1024 * 1024);
}
const MILLION = 1_000_000;
/** the i-th of a million distinct numbers, as a new string (as planning makes one per row) */
const nth = (i) => `010${20000000 + i * 7}`;
const seenMB = footprintMB(() => {
  const seen = new SeenNumbers(MILLION);
  for (let i = 0; i < MILLION; i++) seen.firstRow(nth(i), i + 1);
  return seen;
});
const mapMB = footprintMB(() => {
  const seen = new Map();
  for (let i = 0; i < MILLION; i++) {
    const to = nth(i);
    if (!seen.has(to)) seen.set(to, i + 1);
  }
  return seen;
});

const round = (n) => Math.round(n * 10) / 10;
process.stdout.write(
  `${JSON.stringify({
    bench: 'fastpaths',
    rows: ROWS,
    csvRecordsPerSec: { simple: simpleCsv, csvParse, ratio: round(simpleCsv / csvParse) },
    phonesPerSec: {
      fast: fastPhone,
      careful: carefulPhone,
      libphonenumber: libPhone,
      ratio: round(fastPhone / libPhone),
    },
    libphonenumberMB: { heap: round(metadataMB), rss: round(metadataRssMB) },
    duplicateSetMB: { seenNumbers: round(seenMB), mapOfStrings: round(mapMB) },
    node: process.version,
    load1: round(load1),
  })}\n`,
);
