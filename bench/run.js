// Runs the benchmarks: every bench/*.js but this file, one after another, each in its own
// process; each prints its figures as one JSON line, passed through to stdout.
//
//   node bench/run.js            all of them (npm run bench builds first)
//   node bench/run.js plan send  only bench/plan.js and bench/send.js
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const dir = path.dirname(self);
const available = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.js') && path.join(dir, f) !== self && f !== 'run.js')
  .map((f) => f.slice(0, -'.js'.length))
  .sort();

const wanted = process.argv.slice(2).map((a) => path.basename(a).replace(/\.js$/, ''));
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  process.stderr.write(
    `bench/run: no benchmark ${unknown.join(', ')} (have: ${available.join(', ') || 'none'})\n`,
  );
  process.exit(2);
}

let failed = 0;
for (const name of wanted.length > 0 ? wanted : available) {
  const run = spawnSync(process.execPath, [path.join(dir, `${name}.js`)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (run.status !== 0) {
    failed++;
    process.stderr.write(`bench/run: ${name} failed (${run.signal ?? `exit ${run.status}`})\n`);
  }
}
process.exit(failed > 0 ? 1 : 0);
