import { en, type MessageKey } from './en.js';
import { ko } from './ko.js';

export type { MessageKey } from './en.js';
export type Lang = 'en' | 'ko';
export const LANGS: readonly Lang[] = ['en', 'ko'];
export const CATALOGS: Record<Lang, Record<MessageKey, string>> = { en, ko };

let current: Lang = 'en';

/** The language of human output for this process (set once by the CLI from --lang, config, LANG). */
export function setLang(lang: Lang): void {
  current = lang;
}

export function currentLang(): Lang {
  return current;
}

/**
 * DESIGN.md: `--lang` first, then the config's `lang:`, then LC_ALL / LANG beginning with `ko`
 * (LC_ALL wins over LANG, as in POSIX); English otherwise.
 */
export function pickLang(
  flag: string | undefined,
  configured: string | undefined,
  env: NodeJS.ProcessEnv,
): Lang {
  for (const v of [flag, configured]) if (v === 'ko' || v === 'en') return v;
  const locale = env.LC_ALL || env.LANG || '';
  return /^ko/i.test(locale) ? 'ko' : 'en';
}

/**
 * The line for `key` in the current language, `{name}` filled from `params`. `{name|one|other}` is
 * a plural (English): `one` where the parameter is 1, else `other` (`{n} {n|message|messages}`).
 */
export function t(
  key: MessageKey,
  params: Record<string, string | number> = {},
  lang: Lang = current,
): string {
  const text = CATALOGS[lang][key] ?? en[key];
  return text.replace(
    /\{(\w+)(?:\|([^|{}]*)\|([^|{}]*))?\}/g,
    (whole, name: string, one?: string, other?: string) => {
      if (!(name in params)) return whole;
      const value = String(params[name]);
      return one === undefined ? value : value === '1' ? one : (other ?? '');
    },
  );
}
