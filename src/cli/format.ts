import type { ChalkInstance } from 'chalk';
import type { LaneForecast } from '../app/preflight.js';
import type { CampaignSummary } from '../app/summary.js';
import { maskPhoneNumbers } from '../campaign/phone.js';
import { sheetRow } from '../campaign/sheetRow.js';
import type { Progress } from '../delivery/engine.js';
import { en, type MessageKey } from '../i18n/en.js';
import { t } from '../i18n/index.js';
import { escapeForTerminal } from '../text/controls.js';
import { humanTime } from '../time/zone.js';
import { reasonCodeName, shownReason } from './reasons.js';

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

export const krw = (n: number): string => t('fmt.krw', { n: Math.round(n).toLocaleString('en-US') });
const num = (n: number): string => n.toLocaleString('en-US');

/**
 * A fraction as a percentage with one decimal, computed from the exact fraction: never "100.0%"
 * while something is missing, nor "0.0%" when something is there.
 */
export function percent(fraction: number): string {
  let text = (fraction * 100).toFixed(1);
  if (text === '100.0' && fraction < 1) text = '99.9';
  if (text === '0.0' && fraction > 0) text = '0.1';
  return `${text}%`;
}

/** A catalog key built from a code (a status, a channel), or `fallback` when the catalog has none. */
function named(prefix: string, code: string, fallback: string = code): string {
  const key = `${prefix}.${code}`;
  return Object.hasOwn(en, key) ? t(key as MessageKey) : fallback;
}

/** Columns a terminal gives `s`: Hangul, CJK and full-width forms take two. */
export function termWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    w +=
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x1f300 && c <= 0x1faff) ||
      (c >= 0x20000 && c <= 0x3fffd)
        ? 2
        : 1;
  }
  return w;
}

/** padEnd / padStart by terminal columns (Korean labels line up with English ones). */
export const padW = (s: string, n: number): string => s + ' '.repeat(Math.max(0, n - termWidth(s)));
export const padWStart = (s: string, n: number): string => ' '.repeat(Math.max(0, n - termWidth(s))) + s;
/** A label of the two-space-indented blocks (`  recipients  ...`): 12 columns. */
const label = (key: MessageKey): string => padW(t(key), 12);
/** A status as a word (`planned`; 발송 예정 in Korean). */
export const statusWord = (st: string): string => named('fmt.st', st);
/** A campaign state as a word (`done`; 완료 in Korean). */
export const stateWord = (state: string): string => named('fmt.state', state);
/** A channel as a person names it: `AlimTalk`, `LMS`. */
const channelName = (ch: string): string => named('fmt.ch', ch, ch);
/** A channel in a table head or a count list: the code (`alimtalk`) in English, its name in Korean. */
const channelCode = (ch: string): string => named('fmt.chCode', ch, ch);

/** How a recipient's outcome reads, for those not reached (yet). */
const OUTCOME_KEYS: Record<string, MessageKey> = {
  sent: 'fmt.outcome.sent',
  sending: 'fmt.outcome.sending',
  planned: 'fmt.outcome.planned',
  held: 'fmt.outcome.planned',
  unknown: 'fmt.outcome.unknown',
  failed: 'fmt.outcome.failed',
  rejected: 'fmt.outcome.rejected',
  skipped: 'fmt.outcome.skipped',
  cancelled: 'fmt.outcome.cancelled',
};

/** "reached 4 of 4 (AlimTalk 2, fallback LMS 2)", then who was not, by outcome. */
function recipientLines(r: import('../app/report.js').CampaignReport, c: ChalkInstance): string[] {
  const p = r.recipients;
  const via = Object.entries(p.byChannel).flatMap(([ch, n]) => {
    const fb = p.byFallback[ch] ?? 0;
    return [
      ...(n - fb > 0 ? [`${channelName(ch)} ${num(n - fb)}`] : []),
      ...(fb > 0 ? [t('fmt.viaFallback', { channel: channelName(ch), n: num(fb) })] : []),
    ];
  });
  // "reached" only where delivery reports were requested: without any, what went is "sent"
  const unknowable = r.reportsNotRequested.length > 0 && r.deliveryRate === null;
  const head = unknowable
    ? t('fmt.recipients.sentOf', { sent: num(p.outcomes.sent ?? 0), total: num(p.total) })
    : t('fmt.recipients.reachedOf', {
        reached: num(p.reached),
        total: num(p.total),
        via: via.length ? ` (${via.join(', ')})` : '',
      });
  // word -> [count, the outcome that paints it]
  const rest = new Map<string, [number, string]>();
  for (const [k, n] of Object.entries(p.outcomes)) {
    if (k === 'delivered' || (unknowable && k === 'sent')) continue;
    const word =
      k === 'sent' && r.reportsNotRequested.length
        ? t('fmt.outcome.sentNoReport')
        : OUTCOME_KEYS[k]
          ? t(OUTCOME_KEYS[k])
          : k;
    rest.set(word, [(rest.get(word)?.[0] ?? 0) + n, k]);
  }
  const paint = (k: string, s: string): string =>
    ['failed', 'unknown', 'rejected'].includes(k) ? c.red(s) : k === 'skipped' ? c.yellow(s) : s;
  const tail = [...rest].map(([w, [n, k]]) => paint(k, `${w} ${num(n)}`)).join(' · ');
  const line = `  ${label('fmt.label.recipients')}${p.reached === p.total && p.total > 0 ? c.green(head) : head}${p.reachedRate !== null && p.reached < p.total && !r.reportsNotRequested.length ? ` · ${percent(p.reachedRate)}` : ''}`;
  return tail ? [line, `              ${tail}`] : [line];
}

/** A reason (`code: text`) as a person reads it: known codes in the current language (src/cli/reasons.ts). */
const reasonLine = (reason: string, max: number): string => oneLine(shownReason(reason), max);

/** `    missing_value        3   e.g. row 4: column "name" is empty` */
function reasonRow(
  x: { code: string; count: number; firstRow: number; example: string },
  rowOf: (row: number) => number = sheetRow,
): string {
  return `    ${padW(reasonCodeName(x.code), 14)} ${num(x.count).padStart(7)}   ${t('fmt.reasonExample', { row: rowOf(x.firstRow), text: oneLine(stripCode(shownReason(x.example)), 90) })}`;
}

/** One-screen plan summary: what will go out, what won't and why, and what it looks like. */
export function formatPlanSummary(
  s: CampaignSummary,
  c: ChalkInstance,
  heading: string,
  lanes?: LanesView,
  rowOf: (row: number) => number = sheetRow,
): string {
  const lines: string[] = [];
  const planned = s.statuses.planned ?? 0;
  const rejected = s.statuses.rejected ?? 0;
  const skipped = s.statuses.skipped ?? 0;
  lines.push(`${c.bold(t('fmt.campaign'))} ${s.campaign}  ${c.dim(heading)}`);
  lines.push(
    `  ${label('fmt.label.recipients')}${t('fmt.plan.rows', {
      csv: forTerminal(s.csv),
      encoding: s.encoding
        ? ` (${s.encoding === 'cp949' ? 'CP949' : s.encoding === 'utf8' ? 'UTF-8' : 'ASCII'})`
        : '',
      rows: num(s.rows),
    })}`,
  );
  if (s.phoneColumn) lines.push(`  ${label('fmt.label.phone')}${phoneColumnLine(s.phoneColumn)}`);
  lines.push(`  ${label('fmt.label.template')}${forTerminal(s.template)}`);
  if (s.simulated) lines.push(c.yellow(`  ${t('fmt.simulated')}`));
  lines.push('');
  const chans = Object.entries(s.channels)
    .map(
      ([ch, x]) =>
        `${channelCode(ch)} ${num(x.count)}${x.parts !== x.count ? t('fmt.parts', { n: num(x.parts) }) : ''}`,
    )
    .join(' · ');
  // 8 columns, or the widest label where a language's words are wider (발송 예정)
  const labelWidth = Math.max(
    8,
    ...[...['planned', 'rejected', 'skipped'].map(statusWord), t('fmt.label.fallback')].map(termWidth),
  );
  const st = (name: string): string => padW(statusWord(name), labelWidth);
  lines.push(
    `  ${c.green(st('planned'))}   ${num(planned).padStart(8)}   ${chans}${chans ? '   ' : ''}${t('fmt.estimated', { cost: krw(s.estimatedCost) })}`,
  );
  lines.push(`  ${rejected ? c.red(st('rejected')) : st('rejected')}   ${num(rejected).padStart(8)}`);
  lines.push(`  ${skipped ? c.yellow(st('skipped')) : st('skipped')}   ${num(skipped).padStart(8)}`);
  if (s.fallback.held)
    lines.push(
      `  ${padW(t('fmt.label.fallback'), labelWidth)}   ${num(s.fallback.held).padStart(8)}   ${t('fmt.plan.fallbackHeld', { cost: krw(s.fallback.maxCost) })}`,
    );
  for (const [status, n] of Object.entries(s.statuses)) {
    if (!['planned', 'rejected', 'skipped', 'held'].includes(status))
      lines.push(`  ${st(status)}   ${num(n).padStart(8)}`);
  }
  if (lanes?.lanes.length) lines.push('', ...formatLanes(lanes, c));
  if (s.subjectUpgrades > 0) {
    lines.push(c.yellow(`  ${t('fmt.plan.subjectUpgrades', { n: num(s.subjectUpgrades) })}`));
  }
  if (s.reasons.length) {
    lines.push('', `  ${t('fmt.topReasons')}`);
    for (const r of s.reasons) lines.push(reasonRow(r, rowOf));
  }
  if (s.preview.length) {
    lines.push('', `  ${t('fmt.preview')}`);
    for (const p of s.preview) {
      lines.push(
        `    ${t('fmt.preview.row', {
          row: rowOf(p.row),
          to: p.to,
          channel: named('fmt.chPreview', p.channel, p.channel.toUpperCase()),
          n: num(p.bytes),
          unit: p.channel === 'alimtalk' || p.channel === 'rcs' ? t('fmt.unit.chars') : t('fmt.unit.bytes'),
        })}`,
      );
      if (p.subject) lines.push(c.dim(`      [${forTerminal(p.subject)}]`));
      const body = shown(p.text).split('\n');
      for (const l of body.slice(0, 4)) lines.push(c.dim(`      ${l}`));
      if (body.length > 4) lines.push(c.dim(`      ${t('fmt.preview.moreLines', { n: body.length - 4 })}`));
    }
  }
  return lines.join('\n');
}

/** The lanes of a send about to start, with what formatting them needs from the config. */
export interface LanesView {
  lanes: LaneForecast[];
  timeZone: string;
  /** quiet hours as HH:MM */
  quietStart: string;
  quietEnd: string;
}

/** A duration as h:mm, rounded up to the minute (an ETA before sending). */
export function hoursMinutes(seconds: number): string {
  const m = Math.ceil(Math.max(0, seconds) / 60);
  return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`;
}

/**
 * A Korean number as people write it (02-1234-5678, 010-1234-5678, 1588-1234), for the sender
 * number: the business's own, shown whole (only recipients' numbers are masked). Anything else as is.
 */
export function formatPhone(n: string): string {
  const d = n.replace(/[\s-]/g, '');
  if (!/^\d+$/.test(d)) return n;
  if (/^1\d{7}$/.test(d)) return `${d.slice(0, 4)}-${d.slice(4)}`;
  if (d.startsWith('02') && (d.length === 9 || d.length === 10))
    return `02-${d.slice(2, d.length - 4)}-${d.slice(-4)}`;
  if (d.startsWith('0') && (d.length === 10 || d.length === 11))
    return `${d.slice(0, 3)}-${d.slice(3, d.length - 4)}-${d.slice(-4)}`;
  return n;
}

/** One line per lane: provider (simulated?), 발신번호, TPS, ETA, cost; for ads, what quiet hours defer. */
export function formatLanes(v: LanesView, c: ChalkInstance): string[] {
  const lines = [`  ${t('presend.lanes')}`];
  for (const l of v.lanes) {
    const channel = channelName(l.channel);
    if (l.provider === null) {
      lines.push(c.red(`    ${t('presend.noRoute', { channel })}`));
      continue;
    }
    let line = t('presend.lane', {
      channel,
      provider: forTerminal(l.provider),
      simulated: l.simulated ? t('presend.simulated') : '',
      from: l.from ? escapeForTerminal(formatPhone(l.from)) : t('presend.noFrom'),
      tps: l.tps ? t('presend.tps', { tps: num(l.tps) }) : t('presend.tpsUnlimited'),
      messages: t('presend.messages', { count: num(l.planned) }),
      eta: l.etaSeconds === null ? t('presend.etaUnknown') : hoursMinutes(l.etaSeconds),
      cost: krw(l.estimatedCost),
    });
    if (l.held) line += ` (${t('presend.held', { count: num(l.held) })})`;
    lines.push(`    ${l.simulated ? c.yellow(line) : line}`);
    if (l.quietHoursDeferred > 0)
      lines.push(
        c.yellow(
          `      ${t('presend.deferred', {
            count: num(l.quietHoursDeferred),
            start: v.quietStart,
            end: v.quietEnd,
            until: humanTime(l.deferredUntil, v.timeZone),
          })}`,
        ),
      );
  }
  return lines;
}

/** Which column holds the numbers, and why that one. */
function phoneColumnLine(p: NonNullable<CampaignSummary['phoneColumn']>): string {
  const why =
    p.how === 'flag'
      ? t('fmt.phone.byFlag')
      : p.how === 'header'
        ? t('fmt.phone.byHeader')
        : t('fmt.phone.byValues');
  return t('fmt.phone.column', { name: forTerminal(p.name), why });
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

/** `rowOf`: the sheet row shown for a data row (a test send's: sheetRowOf). */
export function formatReport(
  r: import('../app/report.js').CampaignReport,
  c: ChalkInstance,
  rowOf: (row: number) => number = sheetRow,
): string {
  const lines: string[] = [];
  lines.push(
    `${c.bold(t('fmt.campaign'))} ${r.campaign}  ${c.dim(t('fmt.report.head', { state: stateWord(r.state), rows: num(r.rows) }))}`,
  );
  if (r.simulated) lines.push(c.yellow(`  ${t('fmt.simulated')}`));
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
    `  ${padW(t('fmt.report.messages'), 10)} ${padWStart(t('fmt.report.total'), 9)}   ${channelNames.map((ch) => padWStart(channelCode(ch), 9)).join(' ')}`,
  );
  for (const st of order) {
    const n = r.statuses[st];
    if (!n) continue;
    const word = (paint[st] ?? ((s: string) => s))(padW(statusWord(st), 10));
    lines.push(
      `  ${word} ${num(n).padStart(9)}   ${channelNames.map((ch) => num(r.channels[ch]![st] ?? 0).padStart(9)).join(' ')}`,
    );
  }
  lines.push('');
  lines.push(
    `  ${label('fmt.label.cost')}${t('fmt.report.cost', { estimated: krw(r.cost.estimated), actual: krw(r.cost.actual) })}`,
  );
  const noReports = r.reportsNotRequested.join(', ');
  if (r.deliveryRate !== null)
    lines.push(
      `  ${label('fmt.label.delivered')}${t('fmt.report.deliveredRate', {
        rate: percent(r.deliveryRate),
        none: noReports ? t('fmt.report.noReportsFor', { list: noReports }) : '',
      })}`,
    );
  else if (noReports)
    lines.push(`  ${label('fmt.label.delivered')}${t('fmt.report.deliveredUnknown', { list: noReports })}`);
  if (r.dlrLatencyMs.count) lines.push(`  ${label('fmt.label.reportLag')}${reportLag(r.dlrLatencyMs)}`);
  for (const l of r.lanes) {
    lines.push(
      `  ${label('fmt.label.lane')}${t('fmt.report.lane', {
        provider: l.provider,
        channel: l.channel,
        messages: num(l.messages),
        parts: num(l.parts),
        rate:
          l.partsPerSecond !== null
            ? t('fmt.report.partsPerSecond', { n: num(Math.round(l.partsPerSecond)) })
            : '',
        sent: sentBetween(l.firstSentAt, l.lastSentAt, r.timeZone),
      })}`,
    );
  }
  for (const p of r.providers ?? [])
    lines.push(
      `  ${t('routes.provider', { provider: p.provider, messages: num(p.messages), parts: num(p.parts), cost: krw(p.cost) })}${p.waiting ? ` · ${t('routes.waiting', { n: num(p.waiting) })}` : ''}`,
    );
  for (const m of r.moves ?? [])
    lines.push(
      `  ${t(m.why === 'recovered' ? 'routes.movedBack' : 'routes.moved', { count: num(m.count), from: m.from, to: m.to, why: t(`routes.why.${m.why}` as MessageKey), during: during(m.since, m.until, r.timeZone) })}`,
    );
  if (r.fallback) {
    const st = Object.entries(r.fallback.statuses)
      .map(([k, v]) => `${statusWord(k)} ${num(v)}`)
      .join(' · ');
    lines.push(
      `  ${label('fmt.label.fallback')}${st} · ${t('fmt.report.fallbackCost', { cost: krw(r.fallback.cost) })}`,
    );
  }
  if (r.unmatchedReports)
    lines.push(
      c.yellow(`  ${label('fmt.label.note')}${t('fmt.report.unmatched', { n: num(r.unmatchedReports) })}`),
    );
  if (r.reasons.length) {
    lines.push('', `  ${t('fmt.topReasons')}`);
    for (const x of r.reasons) lines.push(reasonRow(x, rowOf));
    if (r.moreReasons > 0) lines.push(`    ${t('fmt.more', { n: num(r.moreReasons) })}`);
  }
  if (r.problems?.length) {
    lines.push('', `  ${t('fmt.report.problems')}`);
    for (const p of r.problems)
      lines.push(
        `    ${padW(t('fmt.report.problemRow', { row: rowOf(p.row) }), 11)} ${p.to.padEnd(14)} ${padW(p.channel ? channelCode(p.channel) : '-', 8)} ${padW(statusWord(p.status), 8)} ${reasonLine(p.reason ?? '', 80)}`,
      );
    if (r.moreProblems) lines.push(`    ${t('fmt.report.moreProblems', { n: num(r.moreProblems) })}`);
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
  return a === b ? t('fmt.sentAt', { at: a }) : t('fmt.sentBetween', { first: a, last: b });
}

function ms(v: number | null): string {
  if (v === null) return '-';
  const a = Math.abs(v);
  const sign = v < 0 ? '-' : '';
  if (a < 1000) return `${v} ms`;
  if (a < 120_000) return `${sign}${(a / 1000).toFixed(1)} s`;
  if (a < 2 * 3_600_000) return `${sign}${(a / 60_000).toFixed(1)} min`;
  if (a < 2 * 86_400_000) return `${sign}${(a / 3_600_000).toFixed(1)} h`;
  return `${sign}${t('fmt.days', { n: num(Math.round(a / 86_400_000)) })}`;
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
  return t('fmt.reportLag', {
    p50: ms(l.p50),
    p95: ms(l.p95),
    n: num(l.count),
    skew: skew ? t('fmt.reportLag.skew') : '',
  });
}

/** A duration as m:ss, or h:mm:ss from an hour on (an ETA). */
export function clock(seconds: number): string {
  const total = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Sending for less than this, a rate (and an ETA from it) is noise: neither is shown. */
const RATE_AFTER_MS = 1000;

/**
 * The progress line of a send. The rate and the ETA appear once a second of sending has measured
 * them (before, a handful of messages in a few ms made "ETA 500 s" or "4,000/s"), counted from
 * this run's first send (a worker that took over after standing by for minutes read "0/s · ETA 7:37").
 */
export function formatProgress(p: Progress | null, total: number, now: number): string {
  if (!p) return t('progress.starting', { total: num(total) });
  // from this run's first send: a worker that stood by while another sent has its own rate
  const elapsedMs = p.sendingSince === null ? 0 : now - p.sendingSince;
  const parts = [t('progress.sent', { sent: num(p.accepted), total: num(total) })];
  if (elapsedMs >= RATE_AFTER_MS) {
    const rate = p.accepted / (elapsedMs / 1000);
    parts.push(t('progress.rate', { rate: num(Math.round(rate)) }));
    const left = Math.max(0, total - p.submitted);
    if (rate > 0) parts.push(t('progress.eta', { eta: clock(left / rate) }));
  }
  if (p.workers && p.workers > 1) parts.push(t('progress.workers', { n: p.workers }));
  parts.push(t('progress.failed', { n: p.failed }));
  if (p.unknown) parts.push(t('progress.unknown', { n: p.unknown }));
  if (p.throttles) parts.push(t('progress.throttled', { n: p.throttles }));
  return parts.join(' · ');
}
