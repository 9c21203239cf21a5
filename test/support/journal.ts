import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PlannedMessage } from '../../src/campaign/types.js';
import { Journal } from '../../src/journal/journal.js';

/**
 * A fresh journal holding campaign `c`, planned: `rows` SMS rows to 0102000xxxx, each changed by
 * `row(i)` (0-based) where a test needs it.
 */
export function plannedJournal(
  rows: number,
  row: (i: number) => Partial<PlannedMessage> = () => ({}),
): Journal {
  const journal = Journal.open(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ums-journal-')), 'j.db'));
  journal.createCampaign({ id: 'c', digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
  const planned: PlannedMessage[] = Array.from({ length: rows }, (_, i) => ({
    row: i + 1,
    to: `0102000${String(i).padStart(4, '0')}`,
    channel: 'sms',
    status: 'planned',
    reason: null,
    parts: 1,
    bytes: 10,
    subject: null,
    body: '안내',
    cost: 13,
    leg: 0,
    vars: null,
    rcsKind: null,
    deferrable: false,
    ...row(i),
  }));
  journal.insertPlanned('c', planned);
  journal.markPlanned('c', rows, {});
  return journal;
}
