import type { Channel } from '../campaign/types.js';
import { type Config, isSimulator, routeFor } from '../config/config.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';

/** How sends are routed, for saying whether a campaign goes (or went) through the simulator. */
export interface Routing {
  config: Config;
  /** `--provider` */
  provider?: string;
}

/**
 * True when a lane of the campaign is (or, for what is still to send, will be) the built-in
 * simulator: then nothing left this machine, and every summary and report says so.
 */
export function isSimulated(journal: Journal, campaign: CampaignRecord, routing?: Routing): boolean {
  const d = journal.delivery();
  if (d.laneStats(campaign.id).some((l) => isSimulator(routing?.config, l.provider))) return true;
  if (!routing) return false;
  return d.plannedChannels(campaign.id).some((channel: Channel) => {
    try {
      return routeFor(routing.config, channel, routing.provider).providers.some((p) =>
        isSimulator(routing.config, p),
      );
    } catch {
      return false; // no route: sending it is refused, nothing is simulated
    }
  });
}
