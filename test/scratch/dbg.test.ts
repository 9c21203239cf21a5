import fs from 'node:fs';
import path from 'node:path';
import { it } from 'vitest';
import { FakeSolapi } from '../support/fakeSolapi.js';
import { runUms, workdir } from '../support/cli.js';

it('debug', async () => {
  const f = await FakeSolapi.start({ apiKey: 'K0000000001', apiSecret: 'S', reportDelayMs: 0 });
  const dir = workdir();
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), `journal: ./journal.db\nfrom: "0212345678"\nproviders:\n  solapi:\n    type: solapi\n    apiKey: K0000000001\n    apiSecret: S\n    baseUrl: ${f.url}\n    tps: 2000\n    batchSize: 100\nroutes:\n  default: solapi\n`);
  const rows = Array.from({ length: 1200 }, (_, i) => `n${i},010-3000-${String(i).padStart(4, '0')},x`);
  fs.writeFileSync(path.join(dir, 'recipients.csv'), ['name,phone,msg', ...rows].join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'notice.md'), '---\nchannel: auto\n---\n#{name}님 #{msg}\n');
  const t0 = Date.now();
  const times: number[] = [];
  const orig = (f as any).sendMany.bind(f);
  (f as any).sendMany = (...a: unknown[]) => { times.push(Date.now() - t0); return orig(...a); };
  const res = await runUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], { cwd: dir });
  console.log('code', res.code, 'ms', Date.now() - t0, res.stderr, JSON.parse(res.stdout).run);
  console.log('requests', times.length, times.slice(0, 10), times.slice(-5));
  await f.close();
}, 60000);
