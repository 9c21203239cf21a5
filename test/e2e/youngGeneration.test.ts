import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';

/**
 * YoungGenerationCap (src/app/youngGeneration.ts) changes a V8 flag of the whole process, so each
 * case runs in a fresh Node process (against the built module, as `ums` runs it). The child keeps a
 * sliding window of objects alive, which is what makes V8 grow the young generation, and reports
 * the largest size the young generation reached, in MB.
 */
const MODULE = pathToFileURL(path.join(ROOT, 'dist', 'app', 'youngGeneration.js')).href;

function largestYoungGeneration(opts: { capMb: number | null; nodeArgs?: string[] }): {
  capped: number;
  after: number;
} {
  const script = `
    import v8 from 'node:v8';
    import { YoungGenerationCap } from ${JSON.stringify(MODULE)};
    const size = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    const cap = ${opts.capMb === null ? 'null' : `new YoungGenerationCap(${opts.capMb})`};
    let largest = 0;
    function churn(rows) {
      let window = [];
      for (let i = 0; i < rows; i++) {
        window.push({ i, text: 'row ' + i });
        if (window.length > 20000) window = [];
        if (i % 1000 === 0) { cap?.check(); largest = Math.max(largest, size()); }
      }
      return window.length;
    }
    churn(3_000_000);
    const capped = largest;
    largest = 0;
    churn(3_000_000);
    console.log(JSON.stringify({ capped, after: largest }));
  `;
  const run = spawnSync(process.execPath, [...(opts.nodeArgs ?? []), '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as { capped: number; after: number };
}

describe('YoungGenerationCap', () => {
  it('V8 grows the young generation of a thread that keeps rows alive (what the cap is for)', () => {
    expect(largestYoungGeneration({ capMb: null }).capped).toBeGreaterThan(8);
  });

  it('stops it at 2 x the cap, however long the thread goes on', () => {
    const { capped, after } = largestYoungGeneration({ capMb: 2 });
    expect(capped).toBeLessThanOrEqual(4);
    expect(after).toBeLessThanOrEqual(4);
  });

  it('leaves a process started with its own semi-space flags alone', () => {
    const { capped } = largestYoungGeneration({ capMb: 2, nodeArgs: ['--max-semi-space-size=16'] });
    expect(capped).toBeGreaterThan(4);
  });
});
