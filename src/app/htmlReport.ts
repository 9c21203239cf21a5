import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { maskPhoneNumbers } from '../campaign/phone.js';
import { providerConfig } from '../config/config.js';
import { t } from '../i18n/index.js';
import { writePrivateFile } from '../input/privateFile.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';
import { LATENCY_BOUNDS_MS } from '../journal/reportSeries.js';
import { providerModule } from '../providers/registry.js';
import { humanTime, wallClock } from '../time/zone.js';
import { buildReport, type CampaignReport } from './report.js';
import type { Routing } from './simulated.js';

/**
 * `ums report C --html FILE`: one self-contained page (Chart.js inlined, nothing loaded from the
 * network; a Content-Security-Policy forbids it too) with sends per second against the lane TPS, the
 * funnel per channel and leg, the report latency, the failure reasons and the cost estimated vs
 * actual. Every text put into the page is escaped; the data goes in as JSON safe inside <script>.
 * No phone number is in it: the series carry counts only, and reasons are masked.
 */

/** At most this many buckets on the send-rate chart (their width grows with the campaign's span). */
const MAX_RATE_BUCKETS = 600;
const TOP_REASONS = 10;

const CHANNEL_NAMES: Record<string, string> = {
  sms: 'SMS',
  lms: 'LMS',
  mms: 'MMS',
  alimtalk: 'AlimTalk',
  rcs: 'RCS',
};
const channelName = (ch: string): string => CHANNEL_NAMES[ch] ?? ch;
const num = (n: number): string => n.toLocaleString('en-US');
const money = (n: number): string => t('html.money', { n: Math.round(n).toLocaleString('en-US') });

function percent(fraction: number): string {
  let s = (fraction * 100).toFixed(1);
  if (s === '100.0' && fraction < 1) s = '99.9';
  if (s === '0.0' && fraction > 0) s = '0.1';
  return `${s}%`;
}

export interface HtmlReportData {
  title: string;
  campaign: string;
  timeZone: string;
  generatedAt: string;
  summary: { label: string; value: string; note?: string }[];
  simulated: boolean;
  rate: {
    labels: string[];
    widthSeconds: number;
    xTitle: string;
    yTitle: string;
    lanes: { label: string; values: number[] }[];
    tps: { label: string; value: number }[];
  } | null;
  funnel: {
    labels: string[];
    stages: { key: string; label: string; values: number[] }[];
    reached: string;
  } | null;
  latency: { labels: string[]; values: number[]; yTitle: string } | null;
  reasons: { labels: string[]; values: number[]; more: string | null } | null;
  cost: { labels: string[]; estimated: number[]; actual: number[]; yTitle: string; total: string } | null;
  text: Record<string, string>;
}

/** The lane rate a provider's settings give (parts per second); null when unlimited or unknown. */
export function providerTps(routing: Routing | undefined, provider: string): number | null {
  if (!routing) return null;
  const pc = providerConfig(routing.config, provider);
  if (!pc) return null;
  const parsed = providerModule(pc.type)?.configSchema.safeParse(pc);
  const cfg = (parsed?.success ? parsed.data : pc) as { tps?: unknown; binds?: unknown };
  let tps = typeof cfg.tps === 'number' ? cfg.tps : null;
  if (Array.isArray(cfg.binds) && cfg.binds.length) {
    const each = cfg.binds.map((b: { tps?: unknown }) => (typeof b.tps === 'number' ? b.tps : tps));
    tps = each.some((v) => v === null || v <= 0) ? 0 : each.reduce((n: number, v) => n + (v ?? 0), 0);
  }
  return tps !== null && tps > 0 ? tps : null;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** The zone's short name (KST) as humanTime() writes it. */
function zoneName(ms: number, timeZone: string): string {
  return humanTime(ms, timeZone).split(' ').pop() ?? timeZone;
}

function duration(ms: number): string {
  if (ms < 1000) return t('html.unit.ms', { n: ms });
  if (ms < 60_000) return t('html.unit.s', { n: ms / 1000 });
  if (ms < 3_600_000) return t('html.unit.min', { n: ms / 60_000 });
  if (ms < 86_400_000) return t('html.unit.h', { n: ms / 3_600_000 });
  return t('html.unit.d', { n: ms / 86_400_000 });
}

function latencyLabels(): string[] {
  const b = LATENCY_BOUNDS_MS;
  return [
    t('html.latency.under', { v: duration(b[0]) }),
    ...b.slice(1).map((hi, i) => t('html.latency.range', { a: duration(b[i]!), b: duration(hi) })),
    t('html.latency.over', { v: duration(b[b.length - 1]!) }),
  ];
}

/** The histogram from its first bucket to the last one with a message (at least 6 buckets shown). */
function latencySeries(counts: number[]): NonNullable<HtmlReportData['latency']> {
  let last = 0;
  counts.forEach((n, i) => {
    if (n > 0) last = i;
  });
  const end = Math.min(counts.length, Math.max(last + 1, 6));
  return {
    labels: latencyLabels().slice(0, end),
    values: counts.slice(0, end),
    yTitle: t('html.latency.axis.y'),
  };
}

function rateSeries(
  journal: Journal,
  campaign: CampaignRecord,
  timeZone: string,
  routing: Routing | undefined,
): HtmlReportData['rate'] {
  const series = journal.reportSeries();
  const span = series.sendSpan(campaign.id);
  if (span.first === null || span.last === null) return null;
  const { width, buckets } = series.sendRate(campaign.id, span, MAX_RATE_BUCKETS);
  const start = Math.floor(span.first / width) * width;
  const count = Math.floor(span.last / width) - Math.floor(span.first / width) + 1;
  const startWall = wallClock(start * 1000, timeZone);
  const endWall = wallClock(span.last * 1000, timeZone);
  const oneDay =
    startWall.year === endWall.year && startWall.month === endWall.month && startWall.day === endWall.day;
  const labels = Array.from({ length: count }, (_, i) => {
    const w = wallClock((start + i * width) * 1000, timeZone);
    const clock = `${two(w.hour)}:${two(w.minute)}:${two(w.second)}`;
    return oneDay ? clock : `${two(w.month)}-${two(w.day)} ${clock}`;
  });
  const lanes = new Map<string, number[]>();
  const providers = new Set<string>();
  for (const b of buckets) {
    const key = `${b.provider} · ${channelName(b.channel)}`;
    providers.add(b.provider);
    let values = lanes.get(key);
    if (!values) {
      values = new Array<number>(count).fill(0);
      lanes.set(key, values);
    }
    const i = Math.round((b.at - start) / width);
    if (i >= 0 && i < count) values[i] = Math.round((b.parts / width) * 100) / 100;
  }
  const tps: { label: string; value: number }[] = [];
  for (const p of providers) {
    const v = providerTps(routing, p);
    if (v !== null) tps.push({ label: t('html.rate.tps', { provider: p, tps: num(v) }), value: v });
  }
  const day = `${startWall.year}-${two(startWall.month)}-${two(startWall.day)}`;
  return {
    labels,
    widthSeconds: width,
    xTitle: t('html.rate.axis.x', {
      zone: zoneName(span.first * 1000, timeZone),
      day: oneDay ? day : `${day} …`,
    }),
    yTitle: t('html.rate.axis.y'),
    lanes: [...lanes].map(([label, values]) => ({ label, values })),
    tps,
  };
}

/** Everything the page shows, from the journal alone (counts, masked reasons; no number). */
export function htmlReportData(
  journal: Journal,
  campaign: CampaignRecord,
  routing: Routing | undefined,
  now: Date,
): HtmlReportData {
  const report: CampaignReport = buildReport(journal, campaign, 0, routing);
  const tz = report.timeZone;
  const series = journal.reportSeries();
  const name = maskPhoneNumbers(campaign.id);

  const r = report.recipients;
  const by = Object.entries(r.byChannel).flatMap(([ch, n]) => {
    const fb = r.byFallback[ch] ?? 0;
    return [
      ...(n - fb > 0 ? [`${channelName(ch)} ${num(n - fb)}`] : []),
      ...(fb > 0 ? [t('html.fallbackChannel', { channel: channelName(ch), n: num(fb) })] : []),
    ];
  });
  const reached = t('html.reached', {
    reached: num(r.reached),
    total: num(r.total),
    rate: r.reachedRate === null ? '-' : percent(r.reachedRate),
  });
  const funnelRows = series.funnel(campaign.id);
  const costEstimated = funnelRows.reduce((n, f) => n + f.costEstimated, 0);
  const costActual = funnelRows.reduce((n, f) => n + f.costActual, 0);
  const summary: HtmlReportData['summary'] = [
    { label: t('html.kpi.reached'), value: reached, note: by.join(', ') || undefined },
    {
      label: t('html.kpi.delivered'),
      value: report.deliveryRate === null ? '-' : percent(report.deliveryRate),
      note: t('html.kpi.deliveredNote'),
    },
    {
      label: t('html.kpi.cost'),
      value: t('html.costPair', { est: money(costEstimated), act: money(costActual) }),
      note: t('html.cost.note'),
    },
    {
      label: t('html.kpi.latency'),
      value:
        report.dlrLatencyMs.p50 === null
          ? '-'
          : t('html.latencyPair', {
              p50: duration(report.dlrLatencyMs.p50),
              p95: duration(report.dlrLatencyMs.p95 ?? report.dlrLatencyMs.p50),
            }),
    },
  ];

  // leg 0: the first send; leg 1: its fallback; legs 2+: `ums resume --retry-failed` (retry leg - 1)
  const legLabel = (ch: string, leg: number): string =>
    leg === 0
      ? t('html.leg.first', { channel: channelName(ch) })
      : leg === 1
        ? t('html.leg.fallback', { channel: channelName(ch) })
        : t('html.leg.retry', { channel: channelName(ch), n: num(leg - 1) });
  const stageKeys = ['planned', 'sent', 'delivered', 'failed', 'rejected', 'notNeeded'] as const;
  const stages = stageKeys
    .map((key) => ({
      key,
      label: t(`html.stage.${key}`),
      values: funnelRows.map((f) => (key === 'planned' ? f.planned - f.notNeeded : f[key])),
    }))
    .filter((s) => s.key === 'planned' || s.key === 'sent' || s.values.some((v) => v > 0));

  const latencyCounts = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  let latencyTotal = 0;
  for (const b of series.latency(campaign.id)) {
    latencyCounts[b.bucket] = b.n;
    latencyTotal += b.n;
  }

  const reasons = journal.outcomes().topReasons(campaign.id, TOP_REASONS);
  const moreReasons = Math.max(0, journal.outcomes().countReasons(campaign.id) - reasons.length);
  const costRows = funnelRows.filter((f) => f.costEstimated > 0 || f.costActual > 0);

  return {
    title: t('html.title', { campaign: name }),
    campaign: name,
    timeZone: tz,
    generatedAt: humanTime(now, tz),
    simulated: report.simulated,
    summary,
    rate: rateSeries(journal, campaign, tz, routing),
    funnel: funnelRows.length
      ? {
          labels: funnelRows.map((f) => legLabel(f.channel, f.leg)),
          stages,
          reached: by.length ? `${reached} · ${by.join(', ')}` : reached,
        }
      : null,
    latency: latencyTotal ? latencySeries(latencyCounts) : null,
    reasons: reasons.length
      ? {
          labels: reasons.map((x) => maskPhoneNumbers(x.example)),
          values: reasons.map((x) => x.count),
          more: moreReasons ? t('html.reasons.more', { n: num(moreReasons) }) : null,
        }
      : null,
    cost: costRows.length
      ? {
          labels: costRows.map((f) => legLabel(f.channel, f.leg)),
          estimated: costRows.map((f) => Math.round(f.costEstimated * 100) / 100),
          actual: costRows.map((f) => Math.round(f.costActual * 100) / 100),
          yTitle: t('html.cost.axis'),
          total: `${t('html.costPair', { est: money(costEstimated), act: money(costActual) })} · ${t('html.cost.note')}`,
        }
      : null,
    text: {
      estimated: t('html.cost.estimated'),
      actual: t('html.cost.actual'),
      count: t('html.latency.axis.y'),
    },
  };
}

/** Chart.js's browser build, read from the installed package (wherever npm put it). */
export function chartJsSource(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('chart.js');
  let dir = path.dirname(main);
  // main is dist/chart.cjs today; find dist/ whatever the package's layout
  for (let i = 0; i < 3 && !fs.existsSync(path.join(dir, 'chart.umd.min.js')); i++) {
    const dist = path.join(dir, 'dist');
    dir = fs.existsSync(path.join(dist, 'chart.umd.min.js')) ? dist : path.dirname(dir);
  }
  return fs.readFileSync(path.join(dir, 'chart.umd.min.js'), 'utf8');
}

/** Text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** JSON that cannot end or confuse the <script> element it sits in. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A script's source made safe to sit inside <script>…</script>. */
function scriptSafeSource(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1');
}

const STYLE = `
:root{color-scheme:light;--fg:#1f2933;--muted:#616e7c;--line:#e4e7eb;--card:#f5f7fa}
*{box-sizing:border-box}body{margin:0;padding:24px;font:14px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans KR","Malgun Gothic",sans-serif;color:var(--fg);background:#fff}
header h1{font-size:20px;margin:0 0 4px}header p{margin:0;color:var(--muted)}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;background:#fff3c4;color:#8d6708;font-size:12px;margin-left:8px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:12px;margin:20px 0}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px}
.kpi .l{color:var(--muted);font-size:12px}.kpi .v{font-size:18px;font-weight:600}.kpi .n{color:var(--muted);font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:16px}
section{border:1px solid var(--line);border-radius:8px;padding:12px 16px}
section h2{font-size:15px;margin:0 0 4px}section p{margin:0 0 8px;color:var(--muted);font-size:12px}
.chart{position:relative;height:300px}.empty{color:var(--muted);padding:40px 0;text-align:center}
footer{margin-top:20px;color:var(--muted);font-size:12px}
`;

const SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('ums-data').textContent);
  var palette = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];
  var stageColors = { planned: '#94a3b8', sent: '#2563eb', delivered: '#16a34a', failed: '#dc2626',
    rejected: '#ea580c', notNeeded: '#cbd5e1' };
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = 'system-ui, "Noto Sans KR", sans-serif';
  function draw(id, config) {
    var el = document.getElementById(id);
    if (el) new Chart(el, config);
  }
  var axisTitle = function (text) { return { display: true, text: text }; };
  if (data.rate) {
    var n = data.rate.labels.length;
    var sets = data.rate.lanes.map(function (l, i) {
      return { label: l.label, data: l.values, borderColor: palette[i % palette.length],
        backgroundColor: palette[i % palette.length], pointRadius: n > 60 ? 0 : 2, borderWidth: 2, tension: 0 };
    });
    data.rate.tps.forEach(function (t, i) {
      var values = []; for (var k = 0; k < n; k++) values.push(t.value);
      sets.push({ label: t.label, data: values, borderColor: palette[(i + 2) % palette.length],
        borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 });
    });
    draw('chart-rate', { type: 'line', data: { labels: data.rate.labels, datasets: sets },
      options: { scales: { x: { title: axisTitle(data.rate.xTitle), ticks: { maxTicksLimit: 12 } },
        y: { beginAtZero: true, title: axisTitle(data.rate.yTitle) } } } });
  }
  if (data.funnel) {
    draw('chart-funnel', { type: 'bar', data: { labels: data.funnel.labels,
      datasets: data.funnel.stages.map(function (s, i) {
        return { label: s.label, data: s.values, backgroundColor: stageColors[s.key] || palette[i % palette.length] };
      }) }, options: { scales: { y: { beginAtZero: true, title: axisTitle(data.text.count) } } } });
  }
  if (data.latency) {
    draw('chart-latency', { type: 'bar', data: { labels: data.latency.labels,
      datasets: [{ label: data.text.count, data: data.latency.values, backgroundColor: palette[0] }] },
      options: { plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, title: axisTitle(data.latency.yTitle) } } } });
  }
  if (data.reasons) {
    draw('chart-reasons', { type: 'bar', data: { labels: data.reasons.labels,
      datasets: [{ label: data.text.count, data: data.reasons.values, backgroundColor: palette[2] }] },
      options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } } });
  }
  if (data.cost) {
    draw('chart-cost', { type: 'bar', data: { labels: data.cost.labels, datasets: [
      { label: data.text.estimated, data: data.cost.estimated, backgroundColor: palette[6] },
      { label: data.text.actual, data: data.cost.actual, backgroundColor: palette[0] }] },
      options: { scales: { y: { beginAtZero: true, title: axisTitle(data.cost.yTitle) } } } });
  }
})();
`;

function section(id: string, title: string, note: string | null, has: boolean, empty: string): string {
  return `<section><h2>${escapeHtml(title)}</h2>${note ? `<p>${escapeHtml(note)}</p>` : ''}${
    has
      ? `<div class="chart"><canvas id="${id}" role="img" aria-label="${escapeHtml(title)}"></canvas></div>`
      : `<div class="empty">${escapeHtml(empty)}</div>`
  }</section>`;
}

/** The page: static markup (every inserted text escaped), the data as JSON, Chart.js, the drawing script. */
export function renderHtmlReport(data: HtmlReportData, chartJs: string, lang: string): string {
  const kpis = data.summary
    .map(
      (k) =>
        `<div class="kpi"><div class="l">${escapeHtml(k.label)}</div><div class="v">${escapeHtml(k.value)}</div>${
          k.note ? `<div class="n">${escapeHtml(k.note)}</div>` : ''
        }</div>`,
    )
    .join('');
  const sections = [
    section(
      'chart-rate',
      t('html.rate.title'),
      data.rate ? t('html.rate.note', { width: num(data.rate.widthSeconds) }) : null,
      data.rate !== null,
      t('html.rate.none'),
    ),
    section(
      'chart-funnel',
      t('html.funnel.title'),
      data.funnel?.reached ?? null,
      data.funnel !== null,
      t('html.rate.none'),
    ),
    section('chart-latency', t('html.latency.title'), null, data.latency !== null, t('html.latency.none')),
    section(
      'chart-reasons',
      t('html.reasons.title', { n: TOP_REASONS }),
      data.reasons?.more ?? null,
      data.reasons !== null,
      t('html.reasons.none'),
    ),
    section(
      'chart-cost',
      t('html.cost.title'),
      data.cost?.total ?? null,
      data.cost !== null,
      t('html.cost.none'),
    ),
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="${escapeHtml(lang)}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(data.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escapeHtml(data.title)}${data.simulated ? `<span class="badge">${escapeHtml(t('html.simulated'))}</span>` : ''}</h1>
<p>${escapeHtml(t('html.generated', { time: data.generatedAt, zone: data.timeZone }))}</p></header>
<div class="kpis">${kpis}</div>
<div class="grid">
${sections}
</div>
<footer>${escapeHtml(t('html.footer'))}</footer>
<script type="application/json" id="ums-data">${scriptSafeJson(data)}</script>
<script>${scriptSafeSource(chartJs)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** Write the page to `file` (atomically, mode 0600); `name` is how errors call it (`--html report.html`). */
export async function writeHtmlReport(
  journal: Journal,
  campaign: CampaignRecord,
  routing: Routing | undefined,
  file: string,
  name: string,
  now: Date,
  lang: string,
): Promise<void> {
  const page = renderHtmlReport(htmlReportData(journal, campaign, routing, now), chartJsSource(), lang);
  await writePrivateFile(file, name, async (sink) => {
    await sink.write(page);
  });
}
