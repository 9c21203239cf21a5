import type { NHN_CODES } from './codes.js';

/**
 * NHN_CODES in Korean, for a person reading a reason (`ums report`); the journal keeps the English.
 * test/unit/reasonsKo.test.ts checks that both tables have the same codes.
 */
export const NHN_CODES_KO: Record<keyof typeof NHN_CODES, string> = {
  '-2019': '잘못된 수신번호',
  '-2021': 'NHN 시스템 오류 (큐)',
  '-2023': 'EUC-KR에 없는 문자 (이모지?)',
  '-6001': '수신거부한 번호 (080 수신거부)',
  '-2312': '등록되지 않은 발신번호',
  '-2313': '차단된 발신번호',
  '-3010': '본문이 승인된 템플릿과 다름',
  '-3003': '알 수 없는 템플릿',
  '1021': '카카오톡 채널 차단됨',
  '1022': '카카오톡 채널 폐쇄됨',
  '1023': '카카오톡 채널 삭제됨',
  '1024': '카카오톡 채널 삭제 대기',
  '1025': '카카오톡 채널 제재됨',
  '1027': '카카오톡 채널 메시지 제재됨',
  '-1027': '발신 프로필 차단됨',
  '1000': '도달',
  '3005': '발송됨, 수신 확인 안 됨 (도달로 집계)',
  '3018': '이 카카오톡 사용자에게 전달할 수 없음',
  '3019': '카카오톡 사용자가 아님',
  '3020': '사용자가 알림톡을 차단함',
  '3021': '카카오톡 버전이 낮음',
};
