import type { Channel } from '../campaign/types.js';
import {
  type Config,
  providerConfig,
  reachableProviders,
  unsetMessage,
  unsetNames,
} from '../config/config.js';
import type { LaneSpec } from '../delivery/engine.js';
import { InputError } from '../errors.js';
import { parseKey } from '../journal/delivery.js';
import { checkProviderConfig, createProvider } from '../providers/registry.js';
import type { Provider, SideStore } from '../providers/types.js';
import { failoverOrder } from './routing.js';

export interface LaneSetup {
  lanes: LaneSpec[];
  providers: Provider[];
  /** longest report wait any provider asks for */
  reportWaitMs: number;
  /** per channel, the providers of its route in the order they take over from each other */
  order: Map<Channel, string[]>;
}

/**
 * A provider's settings checked without connecting: every unset ${VAR} of it named at once, then
 * its own schema. Errors name the config file: `ums.config.yaml: providers.sim.tsp: unknown key`.
 */
export function checkProvider(config: Config, name: string): void {
  const pc = providerConfig(config, name);
  if (!pc)
    throw InputError.of('err.notAProvider', {
      file: config.label,
      name,
      providers: Object.keys(config.providers).join(', '),
    });
  const unset = [...config.missingEnv].filter(([at]) => at.startsWith(`providers.${name}.`));
  if (unset.length)
    throw new InputError(`${config.label}: ${unsetMessage(unset)}`, {
      key: 'err.config.unsetEnv',
      params: { file: config.label, names: unsetNames(unset) },
    });
  try {
    checkProviderConfig(name, pc);
  } catch (err) {
    if (err instanceof InputError && err.localised?.key)
      throw InputError.of('err.atFile', {
        file: config.label,
        problem: { key: err.localised.key, params: err.localised.params ?? {}, en: err.message },
      });
    if (err instanceof InputError) throw new InputError(`${config.label}: ${err.message}`);
    throw err;
  }
}

/** Before planning (a dry run too): every provider this send can use is configured and valid. */
export function checkProviders(config: Config, override?: string): void {
  for (const name of reachableProviders(config, override)) checkProvider(config, name);
}

/**
 * One lane per channel the campaign still has to send and provider of its route (each with that
 * provider's own rate and window), and one for each configured provider messages were assigned to
 * before (`assigned`: its messages that may be with it are looked up there). A provider whose
 * ${SECRET} is unset is a config error here, before anything is sent.
 */
export async function buildLanes(
  config: Config,
  /** the journal's folder for provider side files (Journal.stateDir) */
  stateDir: string,
  channels: Channel[],
  override: {
    provider?: string;
    tps?: number;
    now?: () => Date;
    assigned?: { channel: Channel; provider: string | null }[];
    /** where providers keep what they reconcile with (Journal.sideStore()); files in stateDir without */
    side?: SideStore;
  },
): Promise<LaneSetup> {
  const providers = new Map<string, Provider>();
  const lanes: LaneSpec[] = [];
  const order = new Map(channels.map((c) => [c, failoverOrder(config, c, override.provider)]));
  const pairs: [Channel, string][] = channels.flatMap((c) =>
    order.get(c)!.map((p): [Channel, string] => [c, p]),
  );
  for (const a of override.assigned ?? []) {
    if (a.provider === null || !order.has(a.channel) || !providerConfig(config, a.provider)) continue;
    if (!pairs.some(([c, p]) => c === a.channel && p === a.provider)) pairs.push([a.channel, a.provider]);
  }
  for (const name of new Set(pairs.map(([, p]) => p))) checkProvider(config, name);
  for (const [channel, name] of pairs) {
    const pc = providerConfig(config, name)!;
    let provider = providers.get(name);
    if (!provider) {
      provider = await createProvider(name, pc, {
        stateDir,
        ...(override.side ? { side: override.side } : {}),
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
  return { lanes, providers: [...providers.values()], reportWaitMs, order };
}
