import type { Channel } from '../campaign/types.js';
import type { Config } from '../config/config.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';
import { buildLanes } from './lanes.js';
import { buildReport } from './report.js';

/**
 * `report --sync`: pull the reports of every polled provider this campaign's channels use, store
 * each batch, then acknowledge it (the provider may forget it once it is committed). Returns how
 * many messages the new reports moved.
 */
export async function syncReports(
  config: Config,
  journal: Journal,
  campaign: CampaignRecord,
  now: () => Date,
): Promise<number> {
  const d = journal.delivery();
  const channels = Object.keys(buildReport(journal, campaign).channels) as Channel[];
  const setup = await buildLanes(config, journal.stateDir, channels, { now, side: journal.sideStore() });
  let synced = 0;
  try {
    for (const p of setup.providers) {
      if (!p.pollReports) continue;
      for (;;) {
        const batch = await p.pollReports();
        if (!batch.reports.length) break;
        synced += d.applyReports(p.name, batch.reports);
        await batch.ack();
      }
    }
  } finally {
    await Promise.all(setup.providers.map((p) => p.close()));
  }
  return synced;
}
