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
  // --- retry: test send, --retry-failed, account-level stops (issue 15) ---
  'retry.planned':
    '{id}에서 도달하지 못한 수신자 {n}명에게 재시도합니다 (한 명에 한 번씩, 실패 기록은 보고서에 남습니다)',
  'retry.nothing':
    '{id}에 재시도할 수신자가 없습니다: 마지막 메시지가 실패한 수신자가 남아 있지 않습니다 (도달, 발송 중, 결과 불명 또는 수신거부)',
  'retry.withReason': ' (사유 {code})',
  'retry.needsCampaign': '--retry-failed: 캠페인을 지정하세요 (`ums resume CAMPAIGN --retry-failed`)',
  'retry.reasonAlone': '--reason: --retry-failed와 함께만 쓸 수 있습니다',
  'retry.badReason': '--reason "{value}": 보고서에 나오는 사유 코드를 적으세요 (예: 3040, -2019)',
  'test.badPhone': '--test "{value}": 휴대폰 번호가 아닙니다 (예: 010-1234-5678, 여러 개는 쉼표로 구분)',
  'test.rowsAlone': '--rows: --test와 함께만 쓸 수 있습니다 (그 행들의 테스트 발송)',
  'test.rowIsHeader': '--rows 1: 1행은 머리글입니다. 첫 수신자는 2행입니다',
  'test.badRow': '--rows "{value}": 엑셀 행 번호를 적으세요 (2 이상, 머리글이 1행, 쉼표로 구분)',
  'test.rowOutOfRange': '--rows {row}: {file}에 {row}행이 없습니다 (2-{last}행, 머리글이 1행)',
  'test.heading':
    '테스트 발송 {id} (캠페인 {of}의 테스트, {of} 자체는 그대로이며 실제 수신자에게는 아무것도 가지 않았습니다):',
  'test.line': '{row}행 -> {to}: {channel}, {status}',
  'test.lineFallback': '{row}행 -> {to}: 대체발송 {channel}, {status}',
  'test.adQuiet':
    '광고: 테스트 발송에도 야간 발송 제한 시간이 적용됩니다 (그 시간에는 보류되고 `ums resume`으로 보냅니다)',
  'test.reportHint':
    '`ums report {id}`로 결과를 볼 수 있습니다. 실제 캠페인은 --test 없이 같은 `ums send`로 보냅니다',
  'stop.solapi.balance':
    '잔액이 부족합니다 (1030). 보낸 것은 그대로 기록되어 있습니다: 충전한 뒤 `ums resume`으로 이어서 보내세요',
  'stop.solapi.sender':
    '발신번호가 Solapi에 등록되어 있지 않습니다 ({code}). 보낸 것은 그대로 기록되어 있습니다: Solapi 콘솔에서 발신번호를 등록하거나 설정의 `from:`을 고친 뒤 `ums resume`으로 이어서 보내세요',
  'stop.nhn.sender':
    '발신번호가 NHN에 등록되어 있지 않거나 차단되었습니다 ({code}). 보낸 것은 그대로 기록되어 있습니다: NHN 콘솔에서 발신번호를 등록하거나 설정의 `from:`을 고친 뒤 `ums resume`으로 이어서 보내세요',
  'stop.nhn.channel':
    '카카오톡 채널(발신 프로필)이 차단·휴면·삭제 상태입니다. 보낸 것은 그대로 기록되어 있습니다: NHN 콘솔에서 채널을 정상화한 뒤 `ums resume`으로 이어서 보내세요 ({code})',
};
