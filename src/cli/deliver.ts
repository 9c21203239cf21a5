import type { Config } from '../config/config.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';
import { EXIT, type Cli } from './context.js';

export interface DeliverOptions {
  provider?: string;
  tps?: number;
  limit?: number;
  json: boolean;
  yes: boolean;
}

/** Sending is the delivery engine's (issue #3); until it lands, say so instead of pretending. */
export async function deliver(cli: Cli, _config: Config, _journal: Journal, campaign: CampaignRecord, _opts: DeliverOptions, _created: boolean): Promise<number> {
  cli.err(`ums: campaign ${campaign.id} is planned; sending is not built yet (use --dry-run)`);
  return EXIT.fault;
}
