import type { AlimtalkIds, Template } from '../campaign/template.js';
import type { Channel, ChannelChoice } from '../campaign/types.js';
import { type Config, providerConfig, routeFor } from '../config/config.js';
import { InputError } from '../errors.js';

/**
 * The channels each provider type carries: Kakao AlimTalk needs a KakaoTalk bizmessage account
 * (Solapi, NHN), RCS an RCS Biz Center brand (Solapi); an SMPP bind carries text only.
 */
const CARRIES: Readonly<Record<string, readonly Channel[]>> = {
  sim: ['sms', 'lms', 'mms', 'alimtalk', 'rcs'],
  solapi: ['sms', 'lms', 'mms', 'alimtalk', 'rcs'],
  nhn: ['sms', 'lms', 'mms', 'alimtalk'],
  smpp: ['sms', 'lms'],
};

/**
 * Before planning: the route of an AlimTalk or RCS template's channel can carry it at every one of
 * its providers (a failover or a split may send any message through any of them), and, for
 * AlimTalk over several providers, each has the sender profile: Solapi takes the template's `pfId`,
 * NHN its own `senderKey` (providers.<name>.senderKey), which the template's pfId is not.
 */
export function checkRouteCarries(config: Config, channel: ChannelChoice, override?: string): void {
  if (channel !== 'alimtalk' && channel !== 'rcs') return;
  const route = routeFor(config, channel, override);
  const where =
    override !== undefined
      ? `--provider "${override}"`
      : `${config.label}: routes.${Object.hasOwn(config.routes, channel) ? channel : Object.hasOwn(config.routes, 'default') ? 'default' : channel}`;
  const name = channel === 'alimtalk' ? 'AlimTalk' : 'RCS';
  for (const p of route.providers) {
    const type = String(providerConfig(config, p)?.type ?? '');
    if (!(CARRIES[type] ?? []).includes(channel))
      throw InputError.of('cfg.route.cannotCarry', {
        where,
        p,
        type,
        name,
        channel,
        carriers: carriers(channel),
      });
  }
  if (channel === 'alimtalk' && route.providers.length > 1) {
    for (const p of route.providers) {
      const pc = providerConfig(config, p);
      if (pc?.type === 'nhn' && !pc.senderKey)
        throw InputError.of('cfg.route.senderKey', { file: config.label, p });
    }
  }
}

/** The provider types that carry a channel (the simulator aside). */
function carriers(channel: Channel): string {
  return Object.entries(CARRIES)
    .filter(([t, c]) => t !== 'sim' && c.includes(channel))
    .map(([t]) => t)
    .join(', ');
}

/** The keys of alimtalk.<provider> each provider type reads (NHN knows a template by its 템플릿 코드). */
const ID_KEYS: Readonly<Record<string, readonly (keyof AlimtalkIds)[]>> = {
  sim: ['pfId', 'templateId'],
  solapi: ['pfId', 'templateId'],
  nhn: ['templateCode'],
};

/**
 * The AlimTalk ids a provider sends (KakaoOptions.pfId, .templateId): its own block's over the
 * template's top-level `pfId`/`templateId` (Solapi's). NHN's template code is its block's
 * `templateCode`; the top-level templateId stands for it only when NHN is the route's one provider
 * (as a template written for NHN alone always had it). Null: this provider has no template id.
 */
export function alimtalkIdsFor(
  alimtalk: { pfId: string; templateId: string; providers?: Record<string, AlimtalkIds> },
  provider: string,
  type: string,
  onlyProvider: boolean,
): { pfId: string; templateId: string } | null {
  const own =
    alimtalk.providers && Object.hasOwn(alimtalk.providers, provider)
      ? alimtalk.providers[provider]
      : undefined;
  if (type === 'nhn') {
    const code = own?.templateCode ?? (onlyProvider ? alimtalk.templateId : undefined);
    return code ? { pfId: alimtalk.pfId, templateId: code } : null;
  }
  return { pfId: own?.pfId ?? alimtalk.pfId, templateId: own?.templateId ?? alimtalk.templateId };
}

/**
 * Before planning: every provider block of an AlimTalk template names a configured provider and
 * only the keys that provider reads, and every provider the AlimTalk route names has its own
 * template id (exit 2, one line naming the provider and the key). Each provider then sends its own.
 */
export function checkAlimtalkIds(config: Config, template: Template, override?: string): void {
  const a = template.alimtalk;
  if (!a || template.channel !== 'alimtalk') return;
  const file = template.file;
  const names = Object.keys(config.providers).join(', ');
  for (const [name, ids] of Object.entries(a.providers)) {
    const pc = providerConfig(config, name);
    if (!pc)
      throw new InputError(
        `${file}: alimtalk.${name}: not a configured provider, nor a key of alimtalk (providers: ${names})`,
        { key: 'err.alimtalk.notProvider', params: { file, name, providers: names } },
      );
    const type = String(pc.type);
    const allowed = ID_KEYS[type] ?? [];
    for (const key of Object.keys(ids) as (keyof AlimtalkIds)[])
      if (!allowed.includes(key))
        throw new InputError(
          `${file}: alimtalk.${name}.${key}: ${name} (${type}) does not read it${allowed.length ? `: use ${allowed.join(', ')}` : ''}`,
          {
            key: 'err.alimtalk.wrongKey',
            params: { file, name, key, type, keys: allowed.join(', ') || '-' },
          },
        );
  }
  const route = routeFor(config, 'alimtalk', override);
  for (const p of route.providers) {
    const type = String(providerConfig(config, p)?.type ?? '');
    if (alimtalkIdsFor(a, p, type, route.providers.length === 1) === null)
      throw new InputError(
        `${file}: alimtalk.${p}.templateCode: not set: AlimTalk goes through ${p} (NHN), which knows the template by its own code; alimtalk.templateId is Solapi's (e.g. ${p}: { templateCode: ORDER_01 })`,
        { key: 'err.alimtalk.templateCode', params: { file, provider: p } },
      );
  }
}
