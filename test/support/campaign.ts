import fs from 'node:fs';
import path from 'node:path';
import { type AcceptedRecord, readCarrierLog } from '../../src/providers/sim/carrierLog.js';

/** A recipient CSV of `n` distinct mobile numbers (plus any extra rows), and a short SMS template. */
export function writeCampaign(
  dir: string,
  n: number,
  extraRows: string[] = [],
): { csv: string; template: string } {
  const lines = ['name,phone'];
  for (let i = 0; i < n; i++)
    lines.push(
      `고객${i},010-${String(2000 + Math.floor(i / 10000)).padStart(4, '0')}-${String(i % 10000).padStart(4, '0')}`,
    );
  lines.push(...extraRows);
  const csv = path.join(dir, 'recipients.csv');
  fs.writeFileSync(csv, `${lines.join('\n')}\n`);
  const template = path.join(dir, 'notice.md');
  fs.writeFileSync(template, '---\nchannel: auto\n---\n#{name}님, 주문하신 상품이 발송되었습니다.\n');
  return { csv, template };
}

/** The numbers `writeCampaign(dir, n)` writes, as providers see them (digits only). */
export function campaignPhones(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) =>
      `010${String(2000 + Math.floor(i / 10000)).padStart(4, '0')}${String(i % 10000).padStart(4, '0')}`,
  );
}

export function writeConfig(dir: string, sim: Record<string, unknown>): string {
  const file = path.join(dir, 'ums.config.yaml');
  const simLines = Object.entries({ type: 'sim', ...sim }).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  fs.writeFileSync(file, ['journal: ./journal.db', 'providers:', '  sim:', ...simLines, ''].join('\n'));
  return file;
}

/** What the simulated carrier took, read from its own log (not from the journal). */
export function carrierLog(dir: string): AcceptedRecord[] {
  return readCarrierLog(path.join(dir, 'sim-sim.jsonl'));
}

/** Numbers the carrier received more than once. */
export function duplicatesAtCarrier(records: AcceptedRecord[]): string[] {
  const seen = new Map<string, number>();
  for (const r of records) seen.set(r.to, (seen.get(r.to) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([to]) => to);
}
