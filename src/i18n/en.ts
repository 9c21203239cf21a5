/**
 * English, the catalog every other language is checked against (test/unit/i18n.test.ts): one key per
 * line a person reads; `{name}` is filled from the parameters given to `t()`. JSON keys and codes are
 * never translated and never come from here.
 */
export const en = {
  'lang.name': 'English',
} as const;

export type MessageKey = keyof typeof en;
