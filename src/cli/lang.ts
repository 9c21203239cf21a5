import fs from 'node:fs';
import path from 'node:path';
import { type Command, Help } from 'commander';
import { InputError, type Localised, located, type Where } from '../errors.js';
import { en, type MessageKey } from '../i18n/en.js';
import { currentLang, type Lang, pickLang, t } from '../i18n/index.js';

/**
 * `--lang ko|en` as given on the command line (anywhere: it is a program-level option), checked
 * before commander runs so a wrong value is one line naming the flag (exit 2). Undefined if absent.
 */
export function langFlag(argv: readonly string[]): Lang | undefined {
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--lang') value = argv[++i] ?? '';
    else if (a.startsWith('--lang=')) value = a.slice('--lang='.length);
  }
  if (value === undefined) return undefined;
  if (value === 'ko' || value === 'en') return value;
  throw new InputError(`--lang "${value}": use ko or en`, { key: 'err.langFlag', params: { value } });
}

/**
 * The config's `lang:` read ahead of commander, for `--help` (descriptions are in place before the
 * config is parsed properly): a cheap look at the file `--config` or UMS_CONFIG names, or ./ums.config.yaml.
 * Anything unreadable is left to openConfig, which reports it.
 */
function peekConfigLang(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  let file = env.UMS_CONFIG || 'ums.config.yaml';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config') file = argv[i + 1] ?? file;
    else if (a.startsWith('--config=')) file = a.slice('--config='.length);
  }
  try {
    // only a small regular file: never a FIFO or /dev/zero (openConfig refuses those, with its message)
    const at = path.resolve(cwd, file);
    const st = fs.statSync(at);
    if (!st.isFile() || st.size > 1024 * 1024) return undefined;
    const text = fs.readFileSync(at, 'utf8');
    return /^lang\s*:\s*["']?(ko|en)["']?\s*(#.*)?$/m.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/** The language before registering the commands: --lang, then the config's lang:, then LC_ALL/LANG. */
export function earlyLang(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Lang {
  const flag = langFlag(argv);
  return pickLang(flag, flag ? undefined : peekConfigLang(argv, env, cwd), env);
}

let helpKeys: Map<string, MessageKey> | null = null;

/**
 * A help text registered in English (a command's or option's description, a heading), in the current
 * language: found by its English text among the catalog's `help.*` keys, so a description someone
 * changes without a catalog entry simply stays English.
 */
export function helpText(english: string): string {
  if (currentLang() === 'en' || !english) return english;
  if (!helpKeys) {
    helpKeys = new Map();
    for (const [k, v] of Object.entries(en))
      if (k.startsWith('help.') && !helpKeys.has(v)) helpKeys.set(v, k as MessageKey);
  }
  const key = helpKeys.get(english);
  return key ? t(key) : english;
}

/** Commander's help in the current language; set on the program before any command is added (inherited). */
export function localiseHelp(program: Command): void {
  program.configureHelp({
    showGlobalOptions: true,
    styleTitle: (s: string) => helpText(s),
    commandDescription: (cmd: Command) => helpText(cmd.description()),
    subcommandDescription: (cmd: Command) => helpText(cmd.summary() || cmd.description()),
    argumentDescription(this: Help, argument) {
      const base = Help.prototype.argumentDescription.call(this, argument);
      return translated(base, argument.description);
    },
    optionDescription(this: Help, option) {
      const base = Help.prototype.optionDescription.call(this, option);
      return translated(base, option.description);
    },
  });
}

function translated(base: string, description: string): string {
  if (currentLang() === 'en') return base;
  const rest = description && base.startsWith(description) ? base.slice(description.length) : base;
  const head = description && base.startsWith(description) ? helpText(description) : '';
  return head + rest.replace('(default: ', t('help.defaultIs')).replace(/\(choices: /, t('help.choicesAre'));
}

/** A `what` parameter (`recipient CSV`) named in the current language where the catalog has it. */
function withNouns(params: Record<string, string | number>): Record<string, string | number> {
  const what = params.what;
  if (typeof what !== 'string' || !Object.hasOwn(en, `noun.${what}`)) return params;
  return { ...params, what: t(`noun.${what}` as MessageKey) };
}

/** `file 7행, "전화" 열`: the place of an input error, as `located()` writes it in English. */
export function placeText(file: string, where: Where): string {
  const parts: string[] = [];
  if (where.row !== undefined) parts.push(t('at.row', { n: where.row }));
  if (where.line !== undefined) parts.push(t('at.line', { n: where.line }));
  if (where.column !== undefined)
    parts.push(
      typeof where.column === 'number'
        ? t('at.column', { n: where.column })
        : t('at.columnName', { name: where.column }),
    );
  return `${file}${parts.length ? ` ${parts.join(', ')}` : ''}`;
}

/**
 * The line an error of ums prints (without `ums: `): its English message in English; in another
 * language its catalog text (and translated place) where it has a key, else the English message with
 * only the place translated.
 */
export function errorText(message: string, localised: Localised | undefined): string {
  if (currentLang() === 'en' || !localised) return message;
  const { key, params, at } = localised;
  let body: string;
  if (key) body = t(key, withNouns(params ?? {}));
  else if (at) {
    // the English place prefix is `located()`'s: cut it off and put the translated one
    const prefix = located(at.file, at.where, '');
    body = message.startsWith(prefix) ? message.slice(prefix.length) : message;
  } else return message;
  return at ? `${placeText(at.file, at.where)}: ${body}` : body;
}
