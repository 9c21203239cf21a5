/**
 * The start of a text that marks it as an ad: "(광고)" and the look-alikes people write ([광고],
 * (광 고), full-width brackets), after leading spaces.
 */
export const AD_MARKER = /^\s*[[(（［【<〈]\s*광\s*고\s*[\])）］】>〉]/;

/**
 * Advertising rules (정보통신망법 제50조) checked on the template, before anything is planned:
 * an ad begins with "(광고)" exactly, names the sender, and carries a free opt-out (080 number).
 * Returns the problems found, each with the 1-based body line it concerns.
 */
export function checkAdText(body: string, senderName: string | null): { line: number; message: string }[] {
  const problems: { line: number; message: string }[] = [];
  const lines = body.split('\n');
  if (!body.startsWith('(광고)')) {
    const near = AD_MARKER.test(body);
    problems.push({
      line: 1,
      message: near
        ? 'an ad must begin with "(광고)" exactly (not [광고], (광 고) or full-width brackets)'
        : 'an ad must begin with "(광고)"',
    });
  }
  if (senderName === null || senderName.trim() === '') {
    problems.push({
      line: 1,
      message:
        'an ad must name its sender: add `sender: <company or service name>` to the front matter (or senderName to the config)',
    });
  } else if (!body.includes(senderName.trim())) {
    problems.push({
      line: 1,
      message: `an ad must name its sender: "${senderName.trim()}" does not appear in the text`,
    });
  }
  const optOut = lines.findIndex((l) => /무료\s*(수신)?\s*거부/.test(l));
  if (optOut < 0) {
    problems.push({
      line: lines.length,
      message: 'an ad must carry a free opt-out line, e.g. "무료수신거부 080-123-4567"',
    });
  } else if (!/080-?\d{3,4}-?\d{4}/.test(lines[optOut]!)) {
    problems.push({
      line: optOut + 1,
      message: 'the opt-out line must give a free 080 number, e.g. "무료수신거부 080-123-4567"',
    });
  }
  return problems;
}
