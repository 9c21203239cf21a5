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
} as const;

export type MessageKey = keyof typeof en;
