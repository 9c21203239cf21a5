import { describe, expect, it } from 'vitest';
import { CATALOGS, LANGS, pickLang, t } from '../../src/i18n/index.js';

const placeholders = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

describe('message catalogs', () => {
  it('every language has exactly the keys of English, with the same placeholders, none empty', () => {
    const keys = Object.keys(CATALOGS.en).sort();
    for (const lang of LANGS) {
      const catalog = CATALOGS[lang];
      expect(Object.keys(catalog).sort(), lang).toEqual(keys);
      for (const k of keys) {
        const text = catalog[k as keyof typeof catalog];
        expect(text.trim().length, `${lang} ${k}`).toBeGreaterThan(0);
        expect(placeholders(text), `${lang} ${k}`).toEqual(
          placeholders(CATALOGS.en[k as keyof typeof CATALOGS.en]),
        );
      }
    }
  });

  it('English counts are singular for 1 ("1 message, 1 part"), plural otherwise; Korean has no plural', () => {
    const lane = { provider: 'sim', channel: 'SMS', rate: '', sent: 'sent' };
    expect(t('fmt.report.lane', { ...lane, messages: 1, parts: 1 }, 'en')).toBe(
      'sim/SMS: 1 message, 1 part, sent',
    );
    expect(t('fmt.report.lane', { ...lane, messages: '1,200', parts: 2 }, 'en')).toBe(
      'sim/SMS: 1,200 messages, 2 parts, sent',
    );
    expect(t('routes.provider', { provider: 'sim', messages: 1, parts: 1, cost: '9원' }, 'en')).toContain(
      'sim: 1 message, 1 part, 9원',
    );
    expect(t('cli.prompt.send', { n: 1 }, 'en')).toBe('send 1 message now? [y/N]');
    expect(t('fmt.report.lane', { ...lane, messages: 1, parts: 1 }, 'ko')).toBe(
      'sim/SMS: 메시지 1건, 1파트, sent',
    );
  });

  it('Korean text is Korean', () => {
    expect(t('lang.name', {}, 'ko')).toBe('한국어');
    expect(t('lang.name', {}, 'en')).toBe('English');
  });

  it.each([
    [undefined, undefined, { LANG: 'ko_KR.UTF-8' }, 'ko'],
    [undefined, undefined, { LANG: 'en_US.UTF-8' }, 'en'],
    [undefined, undefined, { LC_ALL: 'ko_KR.eucKR', LANG: 'C' }, 'ko'],
    [undefined, undefined, { LC_ALL: 'C', LANG: 'ko_KR.UTF-8' }, 'en'],
    [undefined, 'ko', { LANG: 'C' }, 'ko'],
    ['en', 'ko', { LANG: 'ko_KR.UTF-8' }, 'en'],
    [undefined, undefined, {}, 'en'],
  ])('pickLang(%s, %s, %j) is %s', (flag, configured, env, want) => {
    expect(pickLang(flag, configured, env as NodeJS.ProcessEnv)).toBe(want);
  });
});
