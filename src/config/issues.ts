import type { z } from 'zod';
import { InputError } from '../errors.js';

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
  if (!parsed.success) throw new InputError(formatFirstIssue(parsed.error, `providers.${name}`));
  return parsed.data;
}
