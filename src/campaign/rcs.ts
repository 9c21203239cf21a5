/** RCS limits (DOMAIN.md): all counted in characters. */
export const RCS_SMS_MAX_CHARS = 100;
export const RCS_LMS_MAX_CHARS = 1300;
export const RCS_MMS_MAX_CHARS = 1300;
/** the title of an RCS LMS/MMS */
export const RCS_SUBJECT_MAX_CHARS = 30;
/** text template: information only */
export const RCS_TEXT_TEMPLATE_MAX_CHARS = 90;
export const RCS_IMAGE_TEMPLATE_MAX_CHARS = 500;

/**
 * The kind of RCS message a row goes out as, decided at planning and stored with the message
 * (messages.rcs_kind), so that a provider sends exactly what was planned and priced.
 */
export const RCS_KINDS = ['sms', 'lms', 'mms', 'text_template', 'image_template'] as const;
export type RcsKind = (typeof RCS_KINDS)[number];

/** What a template asks for: a kind, or `auto` (typed by length, subject and images like SMS/LMS/MMS). */
export type RcsRequest = 'auto' | RcsKind;

export interface RcsKindInput {
  requested: RcsRequest;
  bodyChars: number;
  /** characters of the subject (the RCS title), or null when there is none */
  subjectChars: number | null;
  hasImages: boolean;
  /** the longest text per kind at the provider that sends it (default: RCS_CHARS) */
  chars?: Readonly<Record<RcsKind, number>>;
}

export type RcsKindPick =
  | { ok: true; kind: RcsKind; upgradedBySubject: boolean }
  | { ok: false; code: 'too_long' | 'channel'; reason: string };

export const RCS_KIND_NAMES: Record<RcsKind, string> = {
  sms: 'RCS SMS',
  lms: 'RCS LMS',
  mms: 'RCS MMS',
  text_template: 'RCS text template',
  image_template: 'RCS image template',
};

/** The longest text of each kind (a provider's limits name these unless its own differ). */
export const RCS_CHARS: Readonly<Record<RcsKind, number>> = {
  sms: RCS_SMS_MAX_CHARS,
  lms: RCS_LMS_MAX_CHARS,
  mms: RCS_MMS_MAX_CHARS,
  text_template: RCS_TEXT_TEMPLATE_MAX_CHARS,
  image_template: RCS_IMAGE_TEMPLATE_MAX_CHARS,
};

const fmt = (n: number): string => n.toLocaleString('en-US');

/**
 * The RCS kind of one message; pure. `auto` follows what users expect of SMS/LMS/MMS: an image
 * makes it RCS MMS; up to 100 characters without a subject, RCS SMS; otherwise RCS LMS. An explicit
 * kind is honoured and checked against its own limit (never upgraded).
 */
export function pickRcsKind(input: RcsKindInput): RcsKindPick {
  const { requested, bodyChars, subjectChars, hasImages } = input;
  const isTemplate = requested === 'text_template' || requested === 'image_template';
  // The template-level checks (parseTemplate) refuse these combinations first; kept here so the
  // function is right on its own.
  if (isTemplate && (subjectChars !== null || hasImages)) {
    return {
      ok: false,
      code: 'channel',
      reason: `an ${RCS_KIND_NAMES[requested]} carries its approved title and image: it takes no subject or images`,
    };
  }
  if (requested === 'sms' && (subjectChars !== null || hasImages))
    return { ok: false, code: 'channel', reason: 'an RCS SMS carries no subject and no image' };
  if (requested === 'lms' && hasImages)
    return { ok: false, code: 'channel', reason: 'an RCS LMS carries no image (images make it RCS MMS)' };
  if (requested === 'mms' && !hasImages)
    return { ok: false, code: 'channel', reason: 'an RCS MMS needs an image' };
  if (subjectChars !== null && subjectChars > RCS_SUBJECT_MAX_CHARS) {
    return {
      ok: false,
      code: 'too_long',
      reason: `subject is ${subjectChars} characters, over the RCS limit of ${RCS_SUBJECT_MAX_CHARS}`,
    };
  }

  let kind: RcsKind;
  let upgradedBySubject = false;
  if (requested !== 'auto') kind = requested;
  else if (hasImages) kind = 'mms';
  else if (bodyChars <= RCS_SMS_MAX_CHARS && subjectChars === null) kind = 'sms';
  else {
    kind = 'lms';
    upgradedBySubject = bodyChars <= RCS_SMS_MAX_CHARS;
  }
  const max = (input.chars ?? RCS_CHARS)[kind];
  if (bodyChars > max) {
    // an explicit SMS/LMS/MMS says why it was not upgraded; a template's kind names itself
    const asked =
      requested === 'auto' || isTemplate ? '' : ` (the template asks for ${RCS_KIND_NAMES[kind]})`;
    return {
      ok: false,
      code: 'too_long',
      reason: `${fmt(bodyChars)} characters, over the ${RCS_KIND_NAMES[kind]} limit of ${fmt(max)}${asked}`,
    };
  }
  return { ok: true, kind, upgradedBySubject };
}

/** The key of `prices` an RCS kind is billed by; a finer key that is not set falls back to `rcs`. */
export function rcsPriceKey(kind: RcsKind): 'rcs' | 'rcs_lms' | 'rcs_mms' | 'rcs_template' {
  switch (kind) {
    case 'sms':
      return 'rcs';
    case 'lms':
      return 'rcs_lms';
    case 'mms':
      return 'rcs_mms';
    case 'text_template':
    case 'image_template':
      return 'rcs_template';
  }
}
