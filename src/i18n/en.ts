/**
 * English, the catalog every other language is checked against (test/unit/i18n.test.ts): one key per
 * line a person reads; `{name}` is filled from the parameters given to `t()`. JSON keys and codes are
 * never translated and never come from here.
 */
export const en = {
  'lang.name': 'English',

  // --- issue 15, before sending: lanes, progress in logs, failed reports, sheet rows -------------
  'presend.lanes': 'lanes',
  'presend.lane':
    '{channel} → {provider}{simulated} · from {from} · {tps} · {messages} · ETA {eta} · est. {cost}',
  'presend.simulated': ' (simulated)',
  'presend.noRoute': '{channel} → no route: sending it is refused',
  'presend.noFrom': 'none',
  'presend.tps': '{tps} TPS',
  'presend.tpsUnlimited': 'no TPS limit',
  'presend.messages': '{count} messages',
  'presend.held': '+ {count} held fallback',
  'presend.etaUnknown': '-',
  'presend.deferred': '{count} ads deferred by quiet hours ({start}-{end}), until {until}',
  'presend.runFailed': ', {count} failed',
  // --- retry: test send, --retry-failed, account-level stops (issue 15) ---
  'retry.planned':
    'retrying {n} recipients of {id} that were not reached (a new attempt each; the failed ones stay in the report)',
  'retry.nothing':
    'nothing to retry in {id}: no recipient whose last message failed is left (reached, on its way, unknown or opted out)',
  'retry.withReason': ' (reason {code})',
  'retry.needsCampaign': '--retry-failed: name the campaign (`ums resume CAMPAIGN --retry-failed`)',
  'retry.reasonAlone': '--reason: only with --retry-failed',
  'retry.badReason': '--reason "{value}": expected a reason code as the report shows it (e.g. 3040, -2019)',
  'test.badPhone': '--test "{value}": not a mobile number (e.g. 010-1234-5678; several: comma-separated)',
  'test.rowsAlone': '--rows: only with --test (a test send of those rows)',
  'test.rowIsHeader': '--rows 1: row 1 is the header; the first recipient is row 2',
  'test.badRow':
    '--rows "{value}": expected spreadsheet row numbers, 2 or more (the header is row 1), comma-separated',
  'test.rowOutOfRange': '--rows {row}: {file} has no row {row} (its rows are 2-{last}; the header is row 1)',
  'test.heading':
    'test send {id} (a test of campaign {of}; {of} itself is untouched: its recipients get nothing from this):',
  'test.line': 'row {row} -> {to}: {channel}, {status}',
  'test.lineFallback': 'row {row} -> {to}: fallback {channel}, {status}',
  'test.adQuiet':
    'an ad: quiet hours apply to a test send as well (deferred inside them, sent by `ums resume`)',
  'test.reportHint':
    '`ums report {id}` shows it; the real campaign is sent by the same `ums send` without --test',
  'stop.solapi.balance':
    'the account balance is insufficient (1030); nothing is lost: top up the account, then run `ums resume`',
  'stop.solapi.sender':
    "the sender number (from) is not registered with Solapi ({code}); nothing is lost: register it in Solapi's console (발신번호 등록) or fix `from:` in the config, then run `ums resume`",
  'stop.nhn.sender':
    "the sender number (from) is not registered with NHN or is blocked ({code}); nothing is lost: register it in NHN's console (발신번호 등록) or fix `from:` in the config, then run `ums resume`",
  'stop.nhn.channel':
    "the KakaoTalk channel (sender profile) is blocked, closed or deleted; nothing is lost: fix the channel in NHN's console, then run `ums resume` ({code})",
  // report --html (the visual report)
  'html.title': 'ums report: {campaign}',
  'html.generated': 'generated {time} · times in {zone}',
  'html.simulated': 'simulated: nothing left this machine',
  'html.reached': 'reached {reached} of {total} ({rate})',
  'html.fallbackChannel': 'fallback {channel} {n}',
  'html.kpi.reached': 'recipients',
  'html.kpi.delivered': 'delivered',
  'html.kpi.deliveredNote': 'of messages the providers took',
  'html.kpi.cost': 'cost',
  'html.kpi.latency': 'report latency p50 / p95',
  'html.costPair': 'estimated {est} · actual {act}',
  'html.latencyPair': '{p50} / {p95}',
  'html.money': '{n} KRW',
  'html.rate.title': 'Sends per second against the lane TPS',
  'html.rate.note': 'parts per second, averaged over {width} s buckets',
  'html.rate.axis.x': 'time ({zone}, {day})',
  'html.rate.axis.y': 'parts per second',
  'html.rate.tps': '{provider} TPS {tps}',
  'html.rate.none': 'nothing was sent yet',
  'html.funnel.title': 'Funnel per channel and leg',
  'html.leg.first': '{channel} (first)',
  'html.leg.fallback': '{channel} (fallback)',
  'html.stage.planned': 'planned',
  'html.stage.sent': 'sent',
  'html.stage.delivered': 'delivered',
  'html.stage.failed': 'failed',
  'html.stage.rejected': 'rejected',
  'html.stage.notNeeded': 'fallback not needed',
  'html.latency.title': 'Report latency (sent to delivery report)',
  'html.latency.axis.y': 'messages',
  'html.latency.none': 'no delivery reports yet',
  'html.latency.under': '< {v}',
  'html.latency.range': '{a}–{b}',
  'html.latency.over': '≥ {v}',
  'html.unit.ms': '{n} ms',
  'html.unit.s': '{n} s',
  'html.unit.min': '{n} min',
  'html.unit.h': '{n} h',
  'html.unit.d': '{n} d',
  'html.reasons.title': 'Failure reasons (top {n})',
  'html.reasons.more': '… {n} more',
  'html.reasons.none': 'no failures',
  'html.cost.title': 'Cost: estimated vs actual',
  'html.cost.estimated': 'estimated',
  'html.cost.actual': 'actual',
  'html.cost.axis': 'KRW',
  'html.cost.none': 'nothing priced',
  'html.footer': 'No phone number is in this page. Made by ums report --html.',
  'html.cost.note': 'estimated: the plan, fallback legs at most (all of them)',
  'report.html.written': 'HTML report: {file}',
  'report.html.option': 'also write a visual report: one self-contained HTML file',
} as const;

export type MessageKey = keyof typeof en;
