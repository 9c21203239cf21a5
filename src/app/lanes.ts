import path from 'node:path';
import type { Channel } from '../campaign/types.js';
import {
  type Config,
  providerConfig,
  providerFor,
  reachableProviders,
  unsetMessage,
} from '../config/config.js';
import type { LaneSpec } from '../delivery/engine.js';
import { InputError } from '../errors.js';
import { parseKey } from '../journal/delivery.js';
import { checkProviderConfig, createProvider } from '../providers/registry.js';
import type { Provider } from '../providers/types.js';

export interface LaneSetup {
  lanes: LaneSpec[];
  providers: Provider[];
  /** longest report wait any provider asks for */
  reportWaitMs: number;
}

/**
 * A provider's settings checked without connecting: every unset ${VAR} of it named at once, then
 * its own schema. Errors name the config file: `ums.config.yaml: providers.sim.tsp: unknown key`.
 */
export function checkProvider(config: Config, name: string): void {
  const pc = providerConfig(config, name);
  if (!pc)
    throw new InputError(
      `${config.label}: "${name}" is not a configured provider (providers: ${Object.keys(config.providers).join(', ')})`,
    );
  const unset = [...config.missingEnv].filter(([at]) => at.startsWith(`providers.${name}.`));
  if (unset.length) throw new InputError(`${config.label}: ${unsetMessage(unset)}`);
  try {
    checkProviderConfig(name, pc);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`${config.label}: ${err.message}`);
    throw err;
  }
}

/** Before planning (a dry run too): every provider this send can use is configured and valid. */
export function checkProviders(config: Config, override?: string): void {
  for (const name of reachableProviders(config, override)) checkProvider(config, name);
}

/**
 * One lane per channel the campaign still has to send, on the provider its route names.
 * A provider whose ${SECRET} is unset is a config error here, before anything is sent.
 */
export async function buildLanes(
  config: Config,
  journalFile: string,
  channels: Channel[],
  override: { provider?: string; tps?: number; now?: () => Date },
): Promise<LaneSetup> {
  const providers = new Map<string, Provider>();
  const lanes: LaneSpec[] = [];
  const names = channels.map((channel) => providerFor(config, channel, override.provider));
  for (const name of new Set(names)) checkProvider(config, name);
  for (const [i, channel] of channels.entries()) {
    const name = names[i]!;
    const pc = providerConfig(config, name)!;
    let provider = providers.get(name);
    if (!provider) {
      provider = await createProvider(name, pc, {
        stateDir: path.dirname(journalFile),
        tps: override.tps,
        now: override.now,
        readKey: parseKey,
      });
      providers.set(name, provider);
    }
    const window = provider.window ?? (typeof pc.window === 'number' ? pc.window : 4);
    lanes.push({ channel, provider, tps: provider.tps, window });
  }
  const reportWaitMs = Math.max(0, ...[...providers.values()].map((p) => p.reportWaitMs ?? 0));
  return { lanes, providers: [...providers.values()], reportWaitMs };
}
