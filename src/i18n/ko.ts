import type { MessageKey } from './en.js';

/** 한국어: the same keys as en.ts (the type checks it, and test/unit/i18n.test.ts checks placeholders). */
export const ko: Record<MessageKey, string> = {
  'lang.name': '한국어',

  // --- issue 15, 발송 전 확인: 경로별 정보, 로그의 진행 상황, 실패한 전송 결과, 시트 행 번호 ---------
  'presend.lanes': '발송 경로',
  'presend.lane':
    '{channel} → {provider}{simulated} · 발신번호 {from} · {tps} · {messages} · 예상 소요 {eta} · 예상 비용 {cost}',
  'presend.simulated': ' (시뮬레이션)',
  'presend.noRoute': '{channel} → 경로 없음: 발송할 수 없습니다',
  'presend.noFrom': '없음',
  'presend.tps': '초당 {tps}건',
  'presend.tpsUnlimited': '속도 제한 없음',
  'presend.messages': '{count}건',
  'presend.held': '대체 발송 대기 {count}건 별도',
  'presend.etaUnknown': '-',
  'presend.deferred': '야간 광고 제한({start}~{end})으로 광고 {count}건 보류, {until}부터 발송',
  'presend.runFailed': ', 실패 {count}건',
};
