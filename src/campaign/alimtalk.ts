import type { AlimtalkButton } from './template.js';

export const ALIMTALK_MAX_BUTTONS = 5;
export const ALIMTALK_MAX_BUTTON_NAME = 14;
export const ALIMTALK_MAX_VARIABLES = 40;
export const ALIMTALK_ITEM_LIST_MAX_CHARS = 700;

/** Kakao's button types and the link fields each one needs. */
const BUTTON_FIELDS: Record<string, string[]> = {
  WL: ['linkMo'], // web link (linkPc optional)
  AL: ['linkAnd', 'linkIos'], // app link
  DS: [], // delivery tracking
  BK: [], // bot keyword
  MD: [], // message delivery
  BC: [], // bot to consultant
  BT: [], // bot transfer
  AC: [], // add channel
};

/** Problems with an AlimTalk template's buttons, in their order; empty when valid. */
export function checkButtons(buttons: AlimtalkButton[]): string[] {
  const problems: string[] = [];
  if (buttons.length > ALIMTALK_MAX_BUTTONS)
    problems.push(`${buttons.length} buttons: AlimTalk allows at most ${ALIMTALK_MAX_BUTTONS}`);
  buttons.forEach((b, i) => {
    const at = `button ${i + 1} ("${b.name}")`;
    const required = BUTTON_FIELDS[b.type];
    if (!required) {
      problems.push(`${at}: unknown type "${b.type}" (use ${Object.keys(BUTTON_FIELDS).join(', ')})`);
      return;
    }
    if ([...b.name].length > ALIMTALK_MAX_BUTTON_NAME)
      problems.push(
        `${at}: the name has ${[...b.name].length} characters; at most ${ALIMTALK_MAX_BUTTON_NAME}`,
      );
    for (const f of required) if (!b[f]) problems.push(`${at}: type ${b.type} needs ${f}`);
    for (const f of ['linkMo', 'linkPc']) {
      if (b[f] && !/^https?:\/\//.test(b[f]!.replace(/#\{[^}]*\}/g, 'x')))
        problems.push(`${at}: ${f} must be an http(s) link`);
    }
  });
  return problems;
}

/** Line endings and trailing spaces are not part of what Kakao compares. */
export function normaliseTemplateText(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();
}

/**
 * The 1-based line of the first difference between the body and the approved text, or null when
 * they are the same template (same text, same #{variables} in the same places).
 */
export function firstDifference(
  body: string,
  approved: string,
): { line: number; body: string; approved: string } | null {
  const a = normaliseTemplateText(body).split('\n');
  const b = normaliseTemplateText(approved).split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return { line: i + 1, body: a[i] ?? '(nothing)', approved: b[i] ?? '(nothing)' };
  }
  return null;
}
