import type { MessageKey } from '../i18n/en.js';
import { currentLang, t } from '../i18n/index.js';

/**
 * Commander's own usage errors (`error: unknown option '--x'`) in the current language. Commander
 * hands `outputError` only the text, so each of its error codes is recognised by the one message
 * it writes; English, or a text none of these match, is left exactly as commander wrote it.
 */
const USAGE: { code: string; re: RegExp; key: MessageKey; names: string[] }[] = [
  {
    code: 'commander.unknownOption',
    re: /^error: unknown option '(.*)'$/,
    key: 'usage.unknownOption',
    names: ['flag'],
  },
  {
    code: 'commander.unknownCommand',
    re: /^error: unknown command '(.*)'$/,
    key: 'usage.unknownCommand',
    names: ['name'],
  },
  {
    code: 'commander.missingArgument',
    re: /^error: missing required argument '(.*)'$/,
    key: 'usage.missingArgument',
    names: ['name'],
  },
  {
    code: 'commander.optionMissingArgument',
    re: /^error: option '(.*)' argument missing$/,
    key: 'usage.optionMissingArgument',
    names: ['flags'],
  },
  {
    code: 'commander.missingMandatoryOptionValue',
    re: /^error: required option '(.*)' not specified$/,
    key: 'usage.requiredOption',
    names: ['flags'],
  },
  {
    code: 'commander.excessArguments',
    re: /^error: too many arguments(?: for '(.*)')?\. Expected (\d+) arguments? but got (\d+)\.$/,
    key: 'usage.excessArguments',
    names: ['command', 'expected', 'got'],
  },
  {
    code: 'commander.invalidArgument',
    re: /^error: option '(.*?)' argument '(.*?)' is invalid\.(.*)$/,
    key: 'usage.invalidOptionValue',
    names: ['flags', 'value', 'why'],
  },
  {
    code: 'commander.invalidArgument',
    re: /^error: command-argument value '(.*?)' is invalid for argument '(.*?)'\.(.*)$/,
    key: 'usage.invalidArgument',
    names: ['value', 'name', 'why'],
  },
  {
    code: 'commander.conflictingOption',
    re: /^error: option '(.*?)' cannot be used with option '(.*?)'$/,
    key: 'usage.conflictingOption',
    names: ['a', 'b'],
  },
];

/** `(Did you mean --dry-run?)`, commander's suggestion line. */
const SUGGESTION = /^\(Did you mean (?:one of )?(.*)\?\)$/;

/** The text commander would print for a usage error, in the current language. */
export function usageErrorText(text: string): string {
  if (currentLang() === 'en') return text;
  const end = text.endsWith('\n') ? '\n' : '';
  const lines = (end ? text.slice(0, -1) : text).split('\n');
  const first = lines[0] ?? '';
  for (const u of USAGE) {
    const m = u.re.exec(first);
    if (!m) continue;
    const params: Record<string, string> = {};
    u.names.forEach((n, i) => {
      params[n] = (m[i + 1] ?? '').trim();
    });
    if (u.key === 'usage.excessArguments')
      params.command = params.command ? t('usage.forCommand', { name: params.command }) : '';
    lines[0] = t(u.key, params);
    break;
  }
  for (let i = 1; i < lines.length; i++) {
    const s = SUGGESTION.exec(lines[i]!);
    if (s) lines[i] = t('usage.didYouMean', { names: s[1]! });
  }
  return lines.join('\n') + end;
}
