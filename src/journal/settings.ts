import { z } from 'zod';
import { CHANNELS } from '../campaign/types.js';
import { formatIssue } from '../config/issues.js';
import { InputError, type Msg } from '../errors.js';
import { CAMPAIGN_STATES, type CampaignState } from './states.js';

const buttons = z.array(z.record(z.string(), z.string()));
const nullableString = z.string().nullable();

/**
 * What planning keeps on a campaign (campaigns.settings, JSON), as read back. Every key is optional:
 * an older ums wrote fewer of them (no identity, no buttons, no detectedEncoding), and keys this ums
 * does not know are kept. A key that is there has the form ums writes, or the journal is refused.
 */
export const campaignSettingsSchema = z.looseObject({
  identity: z
    .looseObject({
      csv: z.string(),
      template: z.string(),
      phoneColumn: nullableString.optional(),
      encoding: z.enum(['auto', 'utf8', 'cp949']).optional(),
      from: nullableString.optional(),
      senderName: nullableString.optional(),
      images: z.array(z.string()).optional(),
    })
    .optional(),
  encoding: z.enum(['auto', 'utf8', 'cp949']).optional(),
  detectedEncoding: z.enum(['utf8', 'cp949', 'ascii']).optional(),
  phoneColumn: nullableString.optional(),
  /** the phone column planning used, and how it was found */
  phoneColumnFound: z
    .looseObject({ name: z.string(), how: z.enum(['flag', 'header', 'content']) })
    .nullable()
    .optional(),
  from: nullableString.optional(),
  prices: z.record(z.string(), z.number()).optional(),
  channel: z.enum(['auto', ...CHANNELS]).optional(),
  ad: z.boolean().optional(),
  alimtalk: z
    .looseObject({
      pfId: z.string(),
      templateId: z.string(),
      providers: z
        .record(
          z.string(),
          z.looseObject({
            pfId: z.string().optional(),
            templateId: z.string().optional(),
            templateCode: z.string().optional(),
          }),
        )
        .optional(),
      buttons: buttons.optional(),
    })
    .nullable()
    .optional(),
  rcs: z
    .looseObject({ brandId: z.string(), templateId: nullableString.optional(), buttons: buttons.optional() })
    .nullable()
    .optional(),
  images: z.array(z.string()).optional(),
  fallback: z.enum(['sms', 'lms', 'auto', 'none']).optional(),
});

export type CampaignSettings = z.output<typeof campaignSettingsSchema>;

/** The refusal of a campaign row ums did not write: one line, naming the journal and the campaign. */
function damaged(file: string, id: string, what: Msg): InputError {
  return InputError.of('err.journal.changed', { file, id, what });
}

/** campaigns.settings as read back: parsed and checked, or an InputError (exit 2). */
export function readSettings(file: string, id: string, json: string): CampaignSettings {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw damaged(file, id, { key: 'journal.settingsNotJson' });
  }
  const parsed = campaignSettingsSchema.safeParse(value);
  // zod's messages name the expected form, never the value found
  if (!parsed.success)
    throw damaged(file, id, {
      key: 'journal.settingsDamaged',
      params: { issue: formatIssue(parsed.error.issues[0]!) },
    });
  return parsed.data;
}

/** campaigns.state as read back: one of CAMPAIGN_STATES, or an InputError (exit 2). */
export function readState(file: string, id: string, state: unknown): CampaignState {
  if (typeof state === 'string' && (CAMPAIGN_STATES as readonly string[]).includes(state))
    return state as CampaignState;
  throw damaged(file, id, { key: 'journal.badState', params: { states: CAMPAIGN_STATES.join(', ') } });
}
