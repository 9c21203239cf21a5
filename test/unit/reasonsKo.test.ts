import { afterEach, describe, expect, it } from 'vitest';
import { shownReason } from '../../src/cli/reasons.js';
import { setLang } from '../../src/i18n/index.js';
import { NHN_CODES } from '../../src/providers/nhn/codes.js';
import { NHN_CODES_KO } from '../../src/providers/nhn/codes.ko.js';
import { SOLAPI_CODES } from '../../src/providers/solapi/codes.js';
import { SOLAPI_CODES_KO } from '../../src/providers/solapi/codes.ko.js';

describe('Korean texts of provider codes', () => {
  afterEach(() => setLang('en'));

  it.each([
    ['solapi', SOLAPI_CODES, SOLAPI_CODES_KO],
    ['nhn', NHN_CODES, NHN_CODES_KO],
  ])('%s: the Korean table has exactly the codes of the English one, each Korean', (_, english, korean) => {
    expect(Object.keys(korean).sort()).toEqual(Object.keys(english).sort());
    for (const [code, text] of Object.entries(korean)) expect(text, code).toMatch(/[가-힣]/);
  });

  it('a stored reason reads in Korean only where its text is the table’s own', () => {
    setLang('ko');
    expect(shownReason('3104: not a KakaoTalk user')).toBe('3104: 카카오톡 사용자가 아님');
    expect(shownReason('-6001: recipient opted out (080 수신거부)')).toBe(
      '-6001: 수신거부한 번호 (080 수신거부)',
    );
    // 1021 is "no such message" at Solapi and "KakaoTalk channel blocked" at NHN: each by its own text
    expect(shownReason('1021: KakaoTalk channel blocked')).toBe('1021: 카카오톡 채널 차단됨');
    expect(shownReason('1021: no such message')).toBe('1021: 없는 메시지');
    // a provider's own free text is not given a meaning it does not have
    expect(shownReason('3104: something else')).toBe('3104: something else');
    expect(shownReason('missing_value: column "name" is empty')).toBe('빈 값: "name" 열이 비어 있음');
    setLang('en');
    expect(shownReason('3104: not a KakaoTalk user')).toBe('3104: not a KakaoTalk user');
  });
});
