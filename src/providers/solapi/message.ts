import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { RcsKind } from '../../campaign/rcs.js';
import type { OutboundMessage, SubmitResult } from '../types.js';
import { KEY_FIELD } from './codes.js';

/** Thrown while preparing a submission: the whole batch gets this result. */
export class SubmitAbort extends Error {
  constructor(readonly result: SubmitResult) {
    super(result.kind);
  }
}

/** The body of one message of send-many/detail. */
export interface SolapiOutbound {
  to: string;
  from?: string;
  text: string;
  type: string;
  subject?: string;
  imageId?: string;
  country?: string;
  autoTypeDetect: false;
  customFields: Record<string, string>;
  kakaoOptions?: Record<string, unknown>;
  rcsOptions?: Record<string, unknown>;
}

/** Solapi's message type for each planned RCS kind (RCS_LTPL, an LMS template, is not planned by ums). */
const SOLAPI_RCS_TYPES: Record<RcsKind, string> = {
  sms: 'RCS_SMS',
  lms: 'RCS_LMS',
  mms: 'RCS_MMS',
  text_template: 'RCS_TPL',
  image_template: 'RCS_ITPL',
};

function toButtons(buttons: Record<string, string>[]): Record<string, string>[] {
  return buttons.map((b) => {
    const { type, name, ...rest } = b;
    return {
      ...(type !== undefined ? { buttonType: type } : {}),
      ...(name !== undefined ? { buttonName: name } : {}),
      ...rest,
    };
  });
}

function toVariables(vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(vars).map(([k, v]) => [/^#\{.+\}$/.test(k) ? k : `#{${k}}`, String(v)]),
  );
}

/** Recipient as Solapi takes it: national digits, plus `country` for numbers outside Korea. */
export function recipient(to: string): { to: string; country?: string } {
  if (!to.startsWith('+')) return { to };
  const p = parsePhoneNumberFromString(to);
  if (!p) return { to: to.slice(1) };
  if (p.countryCallingCode === '82') return { to: `0${p.nationalNumber}` };
  return { to: String(p.nationalNumber), country: String(p.countryCallingCode) };
}

/**
 * The fileId of an image, uploaded once per campaign: `fileType` is Solapi's storage type, MMS for
 * MMS images and RCS for RCS MMS images. Throws a SubmitAbort when it cannot be had.
 */
export type ImageIdOf = (campaign: string, file: string, fileType: 'MMS' | 'RCS') => Promise<string>;

/**
 * One planned message as Solapi's send-many/detail takes it: the type ums planned (never Solapi's
 * guess), the journal key in customFields, images by fileId (uploaded once per `campaign`). A message ums cannot send this way
 * throws a SubmitAbort (fatal: the run stops, nothing is marked failed).
 */
export async function toSolapi(
  m: OutboundMessage,
  campaign: string,
  imageId: ImageIdOf,
): Promise<SolapiOutbound> {
  const fatal = (message: string): never => {
    throw new SubmitAbort({ kind: 'fatal', message });
  };
  if (m.key.length > 100)
    fatal(
      `message key "${m.key.slice(0, 40)}…" is longer than Solapi's 100-character custom field: use a shorter --campaign id`,
    );
  const out: SolapiOutbound = {
    ...recipient(m.to),
    text: m.text,
    type: 'SMS',
    autoTypeDetect: false,
    customFields: { [KEY_FIELD]: m.key },
  };
  if (m.from) out.from = m.from;
  switch (m.channel) {
    case 'sms':
      out.type = 'SMS';
      break;
    case 'lms':
      out.type = 'LMS';
      if (m.subject) out.subject = m.subject;
      break;
    case 'mms': {
      out.type = 'MMS';
      if (m.subject) out.subject = m.subject;
      const images = m.images ?? [];
      if (images.length !== 1) {
        fatal(
          images.length === 0
            ? `MMS row without an image (key ${m.key}): nothing to attach`
            : `Solapi MMS carries one image; row ${m.key} has ${images.length}`,
        );
      }
      out.imageId = await imageId(campaign, images[0]!, 'MMS');
      break;
    }
    case 'alimtalk': {
      out.type = 'ATA';
      const k = m.kakao ?? fatal(`AlimTalk row without its Kakao options (pfId, templateId) (key ${m.key})`);
      out.kakaoOptions = {
        pfId: k.pfId,
        templateId: k.templateId,
        ...(Object.keys(k.variables).length ? { variables: toVariables(k.variables) } : {}),
        ...(k.buttons.length ? { buttons: toButtons(k.buttons) } : {}),
        disableSms: k.disableSms,
      };
      break;
    }
    case 'rcs': {
      const r = m.rcs ?? fatal(`RCS row without its RCS options (brandId, planned kind) (key ${m.key})`);
      out.type =
        SOLAPI_RCS_TYPES[r.kind] ??
        fatal(`RCS row without its planned kind (key ${m.key}): plan the campaign again`);
      const template = r.kind === 'text_template' || r.kind === 'image_template';
      if (template && !r.templateId) fatal(`RCS template row without its templateId (key ${m.key})`);
      if (m.subject && (r.kind === 'lms' || r.kind === 'mms')) out.subject = m.subject;
      if (r.kind === 'mms') {
        const images = m.images ?? [];
        if (images.length !== 1) {
          fatal(
            images.length === 0
              ? `RCS MMS row without an image (key ${m.key}): nothing to attach`
              : `Solapi RCS MMS carries one image here; row ${m.key} has ${images.length}`,
          );
        }
        out.imageId = await imageId(campaign, images[0]!, 'RCS');
      }
      out.rcsOptions = {
        brandId: r.brandId,
        ...(r.templateId && template ? { templateId: r.templateId } : {}),
        // only a template is filled in by Solapi; other texts were rendered by ums already
        ...(template && Object.keys(r.variables).length ? { variables: toVariables(r.variables) } : {}),
        ...(r.buttons.length ? { buttons: toButtons(r.buttons) } : {}),
        disableSms: r.disableSms,
        ...(r.commercial ? { commercialType: true } : {}),
      };
      break;
    }
  }
  if (!out.from && !(out.type === 'ATA' && m.kakao?.disableSms)) {
    fatal('no sender number: set `from:` in the config (or the template) to a number registered with Solapi');
  }
  return out;
}
