/**
 * English, the catalog every other language is checked against (test/unit/i18n.test.ts): one key per
 * line a person reads; `{name}` is filled from the parameters given to `t()`. JSON keys and codes are
 * never translated and never come from here.
 */
export const en = {
  'lang.name': 'English',
  // --- routes across providers (failover, split, cheapest) ---
  'routes.provider': 'provider    {provider}: {messages} messages, {parts} parts, {cost}',
  'routes.waiting': '{n} waiting',
  'routes.moved': 'moved {count} from {from} to {to} ({from} {why} {during})',
  'routes.why.unavailable': 'unavailable',
  'routes.why.fatal': 'refused us',
  'routes.why.route': 'no longer in the route',
} as const;

export type MessageKey = keyof typeof en;
