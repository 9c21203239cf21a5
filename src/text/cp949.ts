import { createRequire } from 'node:module';

type IconvLite = typeof import('iconv-lite');
let iconv: IconvLite | undefined;

/**
 * iconv-lite, loaded on first use: most files are UTF-8, and loading it (with its CP949 table)
 * on every `ums` start costs tens of milliseconds. Node's own TextDecoder('euc-kr') is not
 * enough here: it lacks an encoder, and its table predates KS X 1001:1998.
 */
export function iconvLite(): IconvLite {
  return (iconv ??= createRequire(import.meta.url)('iconv-lite') as IconvLite);
}
