import fs from 'node:fs';
import { InputError } from '../campaign/errors.js';

/** Fail early with a one-line reason when `file` cannot be read as input at all (missing, a folder, empty). */
export function checkReadableFile(file: string, what: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? `no such ${what}` : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  if (st.isDirectory()) throw new InputError(`${file}: is a directory, not a ${what}`);
  if (st.size === 0) throw new InputError(`${file}: the ${what} is empty`);
  return st.size;
}
