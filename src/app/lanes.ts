import path from 'node:path';
import { InputError } from '../campaign/errors.js';
import type { Channel } from '../campaign/types.js';
import { providerFor, type Config } from '../config/config.js';
import type { LaneSpec } from '../delivery/engine.js';
import { createProvider } from '../providers/registry.js';
import type { Provider } from '../providers/types.js';

export interface LaneSetup {
  lanes: LaneSpec[];
  providers: Provider[];
  /** longest report wait any provider asks for */
  reportWaitMs: number;
}

/**
 * One lane per channel the campaign still has to send, on the provider its route names.
 * A provider whose ${SECRET} is unset is a config error here, before anything is sent.
 */
export async function buildLanes(config: Config, journalFile: string, channels: Channel[], override: { provider?: string; tps?: number; now?: () => Date }): Promise<LaneSetup> {
  const providers = new Map<string, Provider>();
  const lanes: LaneSpec[] = [];
  for (const channel of channels) {
    const name = providerFor(config, channel, override.provider);
    const pc = config.providers[name];
    if (!pc) throw new InputError(`provider "${name}" is not configured (providers: ${Object.keys(config.providers).join(', ')})`);
    for (const [at, variable] of config.missingEnv) {
      if (at.startsWith(`providers.${name}.`)) throw new InputError(`${config.file ?? 'config'}: ${at} needs the environment variable ${variable}, which is not set`);
    }
    let provider = providers.get(name);
    if (!provider) {
      provider = await createProvider(name, pc, { stateDir: path.dirname(journalFile), tps: override.tps, now: override.now });
      providers.set(name, provider);
    }
    const window = provider.window ?? (typeof pc['window'] === 'number' ? pc['window'] : 4);
    lanes.push({ channel, provider, tps: provider.tps, window });
  }
  const reportWaitMs = Math.max(0, ...[...providers.values()].map((p) => p.reportWaitMs ?? 0));
  return { lanes, providers: [...providers.values()], reportWaitMs };
}
