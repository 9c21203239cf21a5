import type { ChalkInstance } from 'chalk';
import type { CampaignSummary } from '../app/summary.js';

export const krw = (n: number): string => `${Math.round(n).toLocaleString('en-US')} KRW`;
const num = (n: number): string => n.toLocaleString('en-US');

/** One-screen plan summary: what will go out, what won't and why, and what it looks like. */
export function formatPlanSummary(s: CampaignSummary, c: ChalkInstance, heading: string): string {
  const lines: string[] = [];
  const planned = s.statuses['planned'] ?? 0;
  const rejected = s.statuses['rejected'] ?? 0;
  const skipped = s.statuses['skipped'] ?? 0;
  lines.push(`${c.bold('campaign')} ${s.campaign}  ${c.dim(heading)}`);
  lines.push(`  recipients  ${s.csv}${s.encoding ? ` (${s.encoding === 'cp949' ? 'CP949' : s.encoding === 'utf8' ? 'UTF-8' : 'ASCII'})` : ''}, ${num(s.rows)} rows`);
  lines.push(`  template    ${s.template}`);
  lines.push('');
  const chans = Object.entries(s.channels)
    .map(([ch, t]) => `${ch} ${num(t.count)}${t.parts !== t.count ? ` (${num(t.parts)} parts)` : ''}`)
    .join(' · ');
  lines.push(`  ${c.green('planned ')}   ${num(planned).padStart(8)}   ${chans}${chans ? '   ' : ''}est. ${krw(s.estimatedCost)}`);
  lines.push(`  ${rejected ? c.red('rejected') : 'rejected'}   ${num(rejected).padStart(8)}`);
  lines.push(`  ${skipped ? c.yellow('skipped ') : 'skipped '}   ${num(skipped).padStart(8)}`);
  for (const [status, n] of Object.entries(s.statuses)) {
    if (!['planned', 'rejected', 'skipped'].includes(status)) lines.push(`  ${status.padEnd(8)}   ${num(n).padStart(8)}`);
  }
  if (s.subjectUpgrades > 0) {
    lines.push(c.yellow(`  note: ${num(s.subjectUpgrades)} short texts go as LMS only because the template gives them a subject`));
  }
  if (s.reasons.length) {
    lines.push('', '  top reasons');
    for (const r of s.reasons) lines.push(`    ${r.code.padEnd(14)} ${num(r.count).padStart(7)}   e.g. row ${r.firstRow}: ${oneLine(stripCode(r.example), 90)}`);
  }
  if (s.preview.length) {
    lines.push('', '  preview');
    for (const p of s.preview) {
      lines.push(`    row ${p.row}  ${p.to}  ${p.channel.toUpperCase()} ${num(p.bytes)} ${p.channel === 'alimtalk' || p.channel === 'rcs' ? 'chars' : 'bytes'}`);
      if (p.subject) lines.push(c.dim(`      [${p.subject}]`));
      const body = p.text.split('\n');
      for (const l of body.slice(0, 4)) lines.push(c.dim(`      ${l}`));
      if (body.length > 4) lines.push(c.dim(`      … ${body.length - 4} more lines`));
    }
  }
  return lines.join('\n');
}

function stripCode(reason: string): string {
  const i = reason.indexOf(': ');
  return i >= 0 ? reason.slice(i + 2) : reason;
}

export function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s*\n\s*/g, ' ⏎ ');
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}
