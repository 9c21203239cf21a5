/**
 * What a failed fetch() says about the request: never left (safe to send again), or may have
 * left (its answer is lost: ambiguous). One judgement for every HTTP provider.
 */

/** Connection errors that happen before a byte of the request is written. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_INVALID_URL',
  'ERR_INVALID_ARG_VALUE',
]);

/** fetch's own refusals before it opens a connection, which carry no code (a port the Fetch standard blocks, a scheme it does not speak). */
const PREFLIGHT = /^(bad port|unknown scheme)$/;

/**
 * The errno-like codes along an error's causes, and inside an AggregateError (a host name with
 * several addresses, each refused: happy eyeballs).
 */
export function causeCodes(err: unknown, depth = 0): string[] {
  if (!err || typeof err !== 'object' || depth > 5) return [];
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof e.code === 'string' ? [e.code] : [];
  const inner = Array.isArray(e.errors) ? e.errors.flatMap((x) => causeCodes(x, depth + 1)) : [];
  return [...own, ...inner, ...causeCodes(e.cause, depth + 1)];
}

/** Refused before any byte of the request left: every code found says so (and there is one), or fetch refused it itself. */
export function notSent(err: unknown, codes: string[] = causeCodes(err)): boolean {
  if (codes.length) return codes.every((c) => NOT_SENT_CODES.has(c));
  const cause = (err as { cause?: { message?: unknown } } | null)?.cause;
  return typeof cause?.message === 'string' && PREFLIGHT.test(cause.message);
}
