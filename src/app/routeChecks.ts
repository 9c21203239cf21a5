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
