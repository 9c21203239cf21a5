import type { ChalkInstance } from 'chalk';
import type { CampaignSummary } from '../app/summary.js';
import { maskPhoneNumbers } from '../campaign/phone.js';
import type { Progress } from '../delivery/engine.js';
import { type MessageKey, t } from '../i18n/index.js';
import { escapeForTerminal } from '../text/controls.js';
import { humanTime } from '../time/zone.js';

/**
 * Text from a CSV, a template or a provider, as a terminal may show it: phone numbers masked
 * (ZWSP or bidi marks inside one included) and every control, bidi and format character written
 * as <U+XXXX>. Every such string in human output goes through here (or `shown` for message text).
 */
export function forTerminal(s: string): string {
  return escapeForTerminal(maskPhoneNumbers(s));
}

/** Message text (a preview): escaped, line breaks kept; numbers in it are the sender's content, not masked. */
const shown = (s: string): string => escapeForTerminal(s, true);

/** DESIGN.md: a run through the built-in simulator says so. */
export const SIMULATED = 'simulated: nothing left this machine (the built-in sim provider)';

export const krw = (n: number): string => `${Math.round(n).toLocaleString('en-US')} KRW`;
const num = (n: number): string => n.toLocaleString('en-US');

/**
 * A fraction as a percentage with one decimal, computed from the exact fraction: never "100.0%"
 * while something is missing, nor "0.0%" when something is there.
 */
export function percent(fraction: number): string {
  let t = (fraction * 100).toFixed(1);
  if (t === '100.0' && fraction < 1) t = '99.9';
  if (t === '0.0' && fraction > 0) t = '0.1';
  return `${t}%`;
}

const CHANNEL_NAMES: Record<string, string> = {
  sms: 'SMS',
  lms: 'LMS',
  mms: 'MMS',
  alimtalk: 'AlimTalk',
  rcs: 'RCS',
};
const channelName = (ch: string): string => CHANNEL_NAMES[ch] ?? ch;

/** How a recipient's outcome reads, for those not reached (yet). */
const OUTCOME_WORDS: Record<string, string> = {
  sent: 'awaiting report',
  sending: 'sending',
  planned: 'not sent yet',
  held: 'not sent yet',
  unknown: 'unknown',
  failed: 'failed',
  rejected: 'rejected',
  skipped: 'skipped',
  cancelled: 'cancelled',
};

/** "reached 4 of 4 (AlimTalk 2, fallback LMS 2)", then who was not, by outcome. */
function recipientLines(r: import('../app/report.js').CampaignReport, c: ChalkInstance): string[] {
  const p = r.recipients;
  const via = Object.entries(p.byChannel).flatMap(([ch, n]) => {
    const fb = p.byFallback[ch] ?? 0;
    return [
      ...(n - fb > 0 ? [`${channelName(ch)} ${num(n - fb)}`] : []),
      ...(fb > 0 ? [`fallback ${channelName(ch)} ${num(fb)}`] : []),
    ];
  });
  // "reached" only where delivery reports were requested: without any, what went is "sent"
  const unknowable = r.reportsNotRequested.length > 0 && r.deliveryRate === null;
  const head = unknowable
    ? `sent ${num(p.outcomes.sent ?? 0)} of ${num(p.total)} (whether reached is not known: no delivery reports requested)`
    : `reached ${num(p.reached)} of ${num(p.total)}${via.length ? ` (${via.join(', ')})` : ''}`;
  const rest = new Map<string, number>();
  for (const [k, n] of Object.entries(p.outcomes)) {
    if (k === 'delivered' || (unknowable && k === 'sent')) continue;
    const word = k === 'sent' && r.reportsNotRequested.length ? 'sent, no report' : (OUTCOME_WORDS[k] ?? k);
    rest.set(word, (rest.get(word) ?? 0) + n);
  }
  const paint = (w: string, s: string): string =>
    ['failed', 'unknown', 'rejected'].includes(w) ? c.red(s) : w === 'skipped' ? c.yellow(s) : s;
  const tail = [...rest].map(([w, n]) => paint(w, `${w} ${num(n)}`)).join(' · ');
  const line = `  recipients  ${p.reached === p.total && p.total > 0 ? c.green(head) : head}${p.reachedRate !== null && p.reached < p.total && !r.reportsNotRequested.length ? ` · ${percent(p.reachedRate)}` : ''}`;
  return tail ? [line, `              ${tail}`] : [line];
}

/** One-screen plan summary: what will go out, what won't and why, and what it looks like. */
export function formatPlanSummary(s: CampaignSummary, c: ChalkInstance, heading: string): string {
  const lines: string[] = [];
  const planned = s.statuses.planned ?? 0;
  const rejected = s.statuses.rejected ?? 0;
  const skipped = s.statuses.skipped ?? 0;
  lines.push(`${c.bold('campaign')} ${s.campaign}  ${c.dim(heading)}`);
  lines.push(
    `  recipients  ${forTerminal(s.csv)}${s.encoding ? ` (${s.encoding === 'cp949' ? 'CP949' : s.encoding === 'utf8' ? 'UTF-8' : 'ASCII'})` : ''}, ${num(s.rows)} rows`,
  );
  if (s.phoneColumn) lines.push(`  phone       ${phoneColumnLine(s.phoneColumn)}`);
  lines.push(`  template    ${forTerminal(s.template)}`);
  if (s.simulated) lines.push(c.yellow(`  ${SIMULATED}`));
  lines.push('');
  const chans = Object.entries(s.channels)
    .map(([ch, t]) => `${ch} ${num(t.count)}${t.parts !== t.count ? ` (${num(t.parts)} parts)` : ''}`)
    .join(' · ');
  lines.push(
    `  ${c.green('planned ')}   ${num(planned).padStart(8)}   ${chans}${chans ? '   ' : ''}est. ${krw(s.estimatedCost)}`,
  );
  lines.push(`  ${rejected ? c.red('rejected') : 'rejected'}   ${num(rejected).padStart(8)}`);
  lines.push(`  ${skipped ? c.yellow('skipped ') : 'skipped '}   ${num(skipped).padStart(8)}`);
  if (s.fallback.held)
    lines.push(
      `  fallback   ${num(s.fallback.held).padStart(8)}   held: sent only if the AlimTalk/RCS message fails (up to ${krw(s.fallback.maxCost)})`,
    );
  for (const [status, n] of Object.entries(s.statuses)) {
    if (!['planned', 'rejected', 'skipped', 'held'].includes(status))
      lines.push(`  ${status.padEnd(8)}   ${num(n).padStart(8)}`);
  }
  if (s.subjectUpgrades > 0) {
    lines.push(
      c.yellow(
        `  note: ${num(s.subjectUpgrades)} short texts go as LMS only because the template gives them a subject`,
      ),
    );
  }
  if (s.reasons.length) {
    lines.push('', '  top reasons');
    for (const r of s.reasons)
      lines.push(
        `    ${r.code.padEnd(14)} ${num(r.count).padStart(7)}   e.g. row ${r.firstRow}: ${oneLine(stripCode(r.example), 90)}`,
      );
  }
  if (s.preview.length) {
    lines.push('', '  preview');
    for (const p of s.preview) {
      lines.push(
        `    row ${p.row}  ${p.to}  ${p.channel.toUpperCase()} ${num(p.bytes)} ${p.channel === 'alimtalk' || p.channel === 'rcs' ? 'chars' : 'bytes'}`,
      );
      if (p.subject) lines.push(c.dim(`      [${forTerminal(p.subject)}]`));
      const body = shown(p.text).split('\n');
      for (const l of body.slice(0, 4)) lines.push(c.dim(`      ${l}`));
      if (body.length > 4) lines.push(c.dim(`      … ${body.length - 4} more lines`));
    }
  }
  return lines.join('\n');
}

/** Which column holds the numbers, and why that one. */
function phoneColumnLine(p: NonNullable<CampaignSummary['phoneColumn']>): string {
  const why =
    p.how === 'flag'
      ? 'named by --phone-column'
      : p.how === 'header'
        ? 'found by its header'
        : 'found by its values: no header names a phone column';
  return `column "${forTerminal(p.name)}" (${why})`;
}

function stripCode(reason: string): string {
  const i = reason.indexOf(': ');
  return i >= 0 ? reason.slice(i + 2) : reason;
}

/** `s` on one line of at most `max` characters, made safe for a terminal (forTerminal). */
export function oneLine(s: string, max: number): string {
  const flat = forTerminal(s.replace(/\s*\n\s*/g, ' ⏎ '));
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function formatReport(r: import('../app/report.js').CampaignReport, c: ChalkInstance): string {
  const lines: string[] = [];
  lines.push(`${c.bold('campaign')} ${r.campaign}  ${c.dim(`${r.state}, ${num(r.rows)} rows`)}`);
  if (r.simulated) lines.push(c.yellow(`  ${SIMULATED}`));
  lines.push('', ...recipientLines(r, c));
  const order = [
    'delivered',
    'sent',
    'sending',
    'planned',
    'held',
    'failed',
    'unknown',
    'rejected',
    'skipped',
    'cancelled',
  ];
  const paint: Record<string, (s: string) => string> = {
    delivered: c.green,
    failed: c.red,
    unknown: c.red,
    rejected: c.red,
    skipped: c.yellow,
  };
  const channelNames = Object.keys(r.channels);
  lines.push('');
  lines.push(
    `  ${'messages'.padEnd(10)} ${'total'.padStart(9)}   ${channelNames.map((ch) => ch.padStart(9)).join(' ')}`,
  );
  for (const st of order) {
    const n = r.statuses[st];
    if (!n) continue;
    const label = (paint[st] ?? ((s: string) => s))(st.padEnd(10));
    lines.push(
      `  ${label} ${num(n).padStart(9)}   ${channelNames.map((ch) => num(r.channels[ch]![st] ?? 0).padStart(9)).join(' ')}`,
    );
  }
  lines.push('');
  lines.push(`  cost        est. ${krw(r.cost.estimated)} · actual ${krw(r.cost.actual)}`);
  const noReports = r.reportsNotRequested.join(', ');
  if (r.deliveryRate !== null)
    lines.push(
      `  delivered   ${percent(r.deliveryRate)} of messages the providers took${noReports ? ` (${noReports}: no delivery reports requested)` : ''}`,
    );
  else if (noReports)
    lines.push(`  delivered   not known: no delivery reports were requested (${noReports})`);
  if (r.dlrLatencyMs.count) lines.push(`  report lag  ${reportLag(r.dlrLatencyMs)}`);
  for (const l of r.lanes) {
    lines.push(
      `  lane        ${l.provider}/${l.channel}: ${num(l.messages)} messages, ${num(l.parts)} parts${l.partsPerSecond !== null ? `, ${num(Math.round(l.partsPerSecond))} parts/s` : ''}, ${sentBetween(l.firstSentAt, l.lastSentAt, r.timeZone)}`,
    );
  }
  for (const p of r.providers ?? [])
    lines.push(
      `  ${t('routes.provider', { provider: p.provider, messages: num(p.messages), parts: num(p.parts), cost: krw(p.cost) })}${p.waiting ? ` · ${t('routes.waiting', { n: num(p.waiting) })}` : ''}`,
    );
  for (const m of r.moves ?? [])
    lines.push(
      `  ${t('routes.moved', { count: num(m.count), from: m.from, to: m.to, why: t(`routes.why.${m.why}` as MessageKey), during: during(m.since, m.until, r.timeZone) })}`,
    );
  if (r.fallback) {
    const st = Object.entries(r.fallback.statuses)
      .map(([k, v]) => `${k} ${num(v)}`)
      .join(' · ');
    lines.push(`  fallback    ${st} · cost ${krw(r.fallback.cost)}`);
  }
  if (r.unmatchedReports)
    lines.push(
      c.yellow(
        `  note        ${num(r.unmatchedReports)} delivery reports matched no message (kept in the journal)`,
      ),
    );
  if (r.reasons.length) {
    lines.push('', '  top reasons');
    for (const x of r.reasons)
      lines.push(
        `    ${x.code.padEnd(14)} ${num(x.count).padStart(7)}   e.g. row ${x.firstRow}: ${oneLine(stripCode(x.example), 90)}`,
      );
    if (r.moreReasons > 0) lines.push(`    … ${num(r.moreReasons)} more`);
  }
  if (r.problems?.length) {
    lines.push('', '  rows that did not go out');
    for (const p of r.problems)
      lines.push(
        `    row ${String(p.row).padEnd(7)} ${p.to.padEnd(14)} ${(p.channel ?? '-').padEnd(8)} ${p.status.padEnd(8)} ${oneLine(p.reason ?? '', 80)}`,
      );
    if (r.moreProblems)
      lines.push(
        `    … ${num(r.moreProblems)} more (\`ums report --failed\` lists 1,000, \`ums export\` all)`,
      );
  }
  return lines.join('\n');
}

/** "sent 2026-12-02 09:00 KST", or "sent 2026-12-02 09:00 KST to 2026-12-02 09:42 KST". */
/** `14:03–14:09 KST` (a date in front when it is another day, or the two days differ). */
function during(since: string | null, until: string, timeZone: string): string {
  const a = humanTime(since ?? until, timeZone);
  const b = humanTime(until, timeZone);
  const [dayA, hmA, zone] = a.split(' ');
  const [dayB, hmB] = b.split(' ');
  return dayA === dayB ? `${hmA}–${hmB} ${zone}` : `${a}–${b}`;
}

function sentBetween(first: string, last: string, timeZone: string): string {
  const a = humanTime(first, timeZone);
  const b = humanTime(last, timeZone);
  return a === b ? `sent ${a}` : `sent ${a} to ${b}`;
}

function ms(v: number | null): string {
  if (v === null) return '-';
  const a = Math.abs(v);
  const sign = v < 0 ? '-' : '';
  if (a < 1000) return `${v} ms`;
  if (a < 120_000) return `${sign}${(a / 1000).toFixed(1)} s`;
  if (a < 2 * 3_600_000) return `${sign}${(a / 60_000).toFixed(1)} min`;
  if (a < 2 * 86_400_000) return `${sign}${(a / 3_600_000).toFixed(1)} h`;
  return `${sign}${num(Math.round(a / 86_400_000))} days`;
}

/** A lag this far below zero is the provider's clock, not when ums stamps a message `sent`. */
const SKEW_MS = -1000;

/**
 * Delivery-report lag: the carrier's "delivered at" minus this machine's "sent at" (stamped when the
 * provider answers, so a few ms below zero is ordinary). A second or more below zero cannot be a
 * lag: the carrier's clock is behind this one, or its times are rounded down (SMPP receipts often
 * give only the minute), and the line says so.
 */
function reportLag(l: { count: number; p50: number | null; p95: number | null }): string {
  const skew = (l.p50 ?? 0) <= SKEW_MS || (l.p95 ?? 0) <= SKEW_MS;
  return `p50 ${ms(l.p50)} · p95 ${ms(l.p95)} (${num(l.count)} reports)${skew ? "; below zero: the provider's clock is behind this machine's, or it rounds report times down" : ''}`;
}

/** A duration as m:ss, or h:mm:ss from an hour on (an ETA). */
export function clock(seconds: number): string {
  const t = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = String(t % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Sending for less than this, a rate (and an ETA from it) is noise: neither is shown. */
const RATE_AFTER_MS = 1000;

/**
 * The progress line of a send. The rate and the ETA appear once a second of sending has measured
 * them (before, a handful of messages in a few ms made "ETA 500 s" or "4,000/s").
 */
export function formatProgress(p: Progress | null, total: number, now: number): string {
  if (!p) return `sending 0/${num(total)}`;
  const elapsedMs = now - p.startedAt;
  const parts = [`sent ${num(p.accepted)}/${num(total)}`];
  if (elapsedMs >= RATE_AFTER_MS) {
    const rate = p.accepted / (elapsedMs / 1000);
    parts.push(`${num(Math.round(rate))}/s`);
    const left = Math.max(0, total - p.submitted);
    if (rate > 0) parts.push(`ETA ${clock(left / rate)}`);
  }
  parts.push(`failed ${p.failed}`);
  if (p.unknown) parts.push(`unknown ${p.unknown}`);
  if (p.throttles) parts.push(`throttled ${p.throttles}`);
  return parts.join(' · ');
}
