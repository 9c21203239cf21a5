import type { z } from 'zod';
import { InputError, type Localised, type Msg } from '../errors.js';
import { en } from '../i18n/en.js';
import { t } from '../i18n/index.js';

/**
 * The one wording for a zod issue in a settings file: `providers.sim.tsp: unknown key`. `at` is where
 * the checked object sits (`providers.sim`, or '' for the top of a file); the caller puts the file
 * name in front. zod's messages name the rule, never the value: no secret reaches the terminal.
 */
export function formatIssue(issue: z.core.$ZodIssue, at = ''): string {
  const base = [...(at ? [at] : []), ...issue.path.map(String)];
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => [...base, k].join('.'));
    return `${keys.join(', ')}: unknown key${keys.length > 1 ? 's' : ''}`;
  }
  const key = base.join('.');
  return `${key ? `${key}: ` : ''}${issue.message}`;
}

/**
 * What a zod issue says, as a catalog message for another language: one key per kind of issue
 * (a wrong type, a bound, a choice, a format), never one per field. English keeps zod's own words.
 */
export function issueMsg(issue: z.core.$ZodIssue): Msg {
  const i = issue as z.core.$ZodIssue & Record<string, unknown>;
  const limit = (v: unknown): string => (typeof v === 'bigint' ? v.toString() : String(v));
  switch (issue.code) {
    case 'invalid_type': {
      if (/^write the number in quotes/.test(issue.message)) return { key: 'zod.quoteNumber' };
      const key = `zod.type.${String(i.expected)}`;
      return Object.hasOwn(en, key)
        ? { key: key as Msg['key'] }
        : { key: 'zod.type', params: { what: String(i.expected) } };
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = limit(small ? i.minimum : i.maximum);
      if (small && /^is empty \(set it/.test(issue.message)) return { key: 'zod.emptyEnv' };
      if (i.origin === 'string') {
        if (small && bound === '1') return { key: 'zod.empty' };
        return { key: small ? 'zod.minLength' : 'zod.maxLength', params: { limit: bound } };
      }
      if (i.origin === 'array' || i.origin === 'set')
        return { key: small ? 'zod.minItems' : 'zod.maxItems', params: { limit: bound } };
      const inclusive = i.inclusive !== false;
      return {
        key: small ? (inclusive ? 'zod.min' : 'zod.gt') : inclusive ? 'zod.max' : 'zod.lt',
        params: { limit: bound },
      };
    }
    case 'invalid_value':
      return {
        key: 'zod.oneOf',
        params: { values: ((i.values as unknown[]) ?? []).map((v) => JSON.stringify(v)).join(', ') },
      };
    case 'invalid_format':
      return String(i.format) === 'url'
        ? { key: 'zod.url' }
        : { key: 'zod.format', params: { format: String(i.format) } };
    case 'invalid_union':
      return { key: 'zod.invalid' };
    case 'not_multiple_of':
      return { key: 'zod.multipleOf', params: { n: limit(i.divisor) } };
    default:
      return { key: 'zod.other', params: { message: issue.message } };
  }
}

/**
 * formatIssue's line in the current language (`prefix` is what the caller puts in front, a file
 * name): the Localised of an InputError whose English message is `${prefix}: ${formatIssue(...)}`.
 */
export function issueLocalised(issue: z.core.$ZodIssue, at = '', prefix = ''): Localised {
  const base = [...(at ? [at] : []), ...issue.path.map(String)];
  const head = (path: string): string => [prefix, path].filter(Boolean).join(': ');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => [...base, k].join('.')).join(', ');
    return { key: 'zod.unknownKeys', params: { path: head(keys) } };
  }
  const m = issueMsg(issue);
  return { key: 'zod.issue', params: { path: head(base.join('.')), problem: t(m.key, m.params) } };
}

/** The first issue of a failed parse, worded by formatIssue. */
export function formatFirstIssue(error: z.ZodError, at = ''): string {
  return formatIssue(error.issues[0]!, at);
}

/** The dotted key an issue is about (for unknown keys: the first unknown one), without any prefix. */
export function issueKey(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => [...path, k].join('.')).join(', ');
  return path.join('.');
}

/** A provider's settings (`providers.<name>`) through its schema, or an InputError in the one wording. */
export function parseProviderSettings<S extends z.ZodType>(
  schema: S,
  name: string,
  config: Record<string, unknown>,
): z.output<S> {
  const parsed = schema.safeParse(config);
  // zod's messages name the expected form, never the value: a password cannot leak here
  if (!parsed.success)
    throw new InputError(
      formatFirstIssue(parsed.error, `providers.${name}`),
      issueLocalised(parsed.error.issues[0]!, `providers.${name}`),
    );
  return parsed.data;
}
