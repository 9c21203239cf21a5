import type { MessageKey } from './en.js';

/** 한국어: the same keys as en.ts (the type checks it, and test/unit/i18n.test.ts checks placeholders). */
export const ko: Record<MessageKey, string> = {
  'lang.name': '한국어',
  // --- routes across providers (failover, split, cheapest) ---
  'routes.provider': '발송사      {provider}: 메시지 {messages}건, {parts}파트, {cost}',
  'routes.waiting': '대기 {n}건',
  'routes.moved': '{from}에서 {to}(으)로 {count}건 전환 ({from} {why} {during})',
  'routes.why.unavailable': '응답 없음',
  'routes.why.fatal': '발송 거부',
  'routes.why.route': '경로에서 제외됨',
};
