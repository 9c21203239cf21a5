import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileSideStore } from '../../src/providers/sideFiles.js';
import type { SideStore } from '../../src/providers/types.js';
import { openTestJournal, reopenTestJournal, testDialect } from './journal.js';

/**
 * A providers' side store, and the same store as another worker (another connection, another
 * process) opens it; `dir`: a stateDir of this worker's own, through which nothing may be shared.
 */
export type OpenedSideStore = { store: SideStore; again: () => SideStore; close: () => void; dir: string };

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ums-side-'));

/** Each kind of side store: the journal's (either dialect) and, on the SQLite run only, files. */
export function sideStores(): { what: 'journal' | 'files'; open: () => OpenedSideStore }[] {
  const out: { what: 'journal' | 'files'; open: () => OpenedSideStore }[] = [
    {
      what: 'journal',
      open: () => {
        const j = openTestJournal();
        const opened = [j];
        return {
          store: j.sideLogs(),
          again: () => {
            const k = reopenTestJournal(j);
            opened.push(k);
            return k.sideLogs();
          },
          close: () => {
            for (const o of opened.splice(0)) o.close();
          },
          dir: tmp(),
        };
      },
    },
  ];
  // the files only once (they are the same on either dialect's run)
  if (testDialect === 'sqlite')
    out.push({
      what: 'files',
      open: () => {
        const dir = tmp();
        return { store: fileSideStore(dir), again: () => fileSideStore(dir), close: () => undefined, dir };
      },
    });
  return out;
}
