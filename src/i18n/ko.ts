import type { MessageKey } from './en.js';

/** 한국어: the same keys as en.ts (the type checks it, and test/unit/i18n.test.ts checks placeholders). */
export const ko: Record<MessageKey, string> = {
  'lang.name': '한국어',
};
