import { describe, expect, it } from 'vitest';
import { intakeOutcome, isAccepted, reportStatus, toReport } from '../../src/providers/solapi/codes.js';
import { classifySendFailure } from '../../src/providers/solapi/sendAnswer.js';
import { parseSolapiWebhook } from '../../src/providers/solapi/webhook.js';

describe('Solapi status codes -> engine outcomes', () => {
  it('maps intake codes: 2000 accepted, 1061 opted out, 1024 retryable, 1030 stops the run, other 1xxx permanent', () => {
    expect(intakeOutcome('2000', 'ok', 'M1')).toEqual({ kind: 'accepted', providerId: 'M1' });
    expect(intakeOutcome('1061', null, 'M2')).toMatchObject({
      kind: 'rejected',
      code: '1061',
      retryable: false,
      optedOut: true,
    });
    expect(intakeOutcome('1030', null, null)).toMatchObject({
      kind: 'rejected',
      code: '1030',
      stopsRun: expect.stringMatching(/balance.*ums resume/),
    });
    expect(intakeOutcome('1024', null, null)).not.toHaveProperty('stopsRun');
    expect(intakeOutcome('1024', null, null)).toMatchObject({ kind: 'rejected', retryable: true });
    const perm = intakeOutcome('1062', null, null);
    expect(perm).toMatchObject({
      kind: 'rejected',
      code: '1062',
      retryable: false,
      message: 'unregistered sender number',
    });
    expect('optedOut' in perm).toBe(false);
    expect(intakeOutcome('1029', null, null)).toMatchObject({
      retryable: false,
      message: 'characters outside EUC-KR',
    });
    // an unknown code keeps Solapi's own words
    expect(intakeOutcome('1099', '새로운 오류', null)).toMatchObject({
      code: '1099',
      message: '새로운 오류',
      retryable: false,
    });
  });

  it('counts 2xxx/3xxx/4000 as taken by Solapi and 1xxx as not', () => {
    for (const c of ['2000', '2061', '3000', '3104', '4000']) expect(isAccepted(c)).toBe(true);
    for (const c of ['1026', '1061', '', 'TEST1000', '40000']) expect(isAccepted(c)).toBe(false);
  });

  it('reports 4000 delivered, other 2xxx/3xxx failed, and 2000/3000/1xxx not at all', () => {
    expect(reportStatus('4000')).toBe('delivered');
    expect(reportStatus('3104')).toBe('failed');
    expect(reportStatus('3040')).toBe('failed');
    expect(reportStatus('2061')).toBe('failed');
    expect(reportStatus('2000')).toBeNull();
    expect(reportStatus('3000')).toBeNull();
    expect(reportStatus('1061')).toBeNull();
    expect(
      toReport({
        messageId: 'M9',
        statusCode: '3104',
        customFields: { umsKey: 'c1:7:0' },
        dateReceived: '2024-01-01T00:00:05Z',
      }),
    ).toEqual({
      key: 'c1:7:0',
      providerId: 'M9',
      status: 'failed',
      code: '3104',
      text: 'not a KakaoTalk user',
      at: '2024-01-01T00:00:05Z',
    });
    expect(toReport({ _id: 'M8', statusCode: '4000', customFields: {} })).toMatchObject({
      key: null,
      providerId: 'M8',
      status: 'delivered',
    });
  });

  it('maps HTTP failures of a send: 429 throttled, 503/refused unavailable, lost answers ambiguous, auth fatal but skew retryable', () => {
    const err = (status: number, errorCode: string) => ({
      kind: 'error' as const,
      status,
      errorCode,
      errorMessage: 'x',
    });
    expect(classifySendFailure(err(429, 'TooManyRequests'), 'solapi').kind).toBe('throttled');
    expect(classifySendFailure(err(503, 'ServiceUnavailable'), 'solapi').kind).toBe('unavailable');
    expect(classifySendFailure({ kind: 'not-sent', message: 'ECONNREFUSED' }, 'solapi').kind).toBe(
      'unavailable',
    );
    expect(classifySendFailure({ kind: 'no-answer', message: 'reset' }, 'solapi').kind).toBe('ambiguous');
    expect(classifySendFailure(err(500, 'InternalError'), 'solapi').kind).toBe('ambiguous');
    expect(classifySendFailure(err(502, 'HTTP502'), 'solapi').kind).toBe('ambiguous');
    expect(classifySendFailure(err(403, 'RequestTimeTooSkewed'), 'solapi').kind).toBe('unavailable');
    expect(classifySendFailure(err(403, 'DuplicatedSignature'), 'solapi').kind).toBe('unavailable');
    const fatal = classifySendFailure(err(403, 'SignatureDoesNotMatch'), 'sol');
    expect(fatal.kind).toBe('fatal');
    expect(fatal.kind === 'fatal' && fatal.message).toMatch(/SignatureDoesNotMatch.*providers\.sol\.apiKey/);
    expect(classifySendFailure(err(403, 'InvalidAPIKey'), 'solapi').kind).toBe('fatal');
    expect(classifySendFailure(err(401, 'InvalidAuthenticationInformation'), 'solapi').kind).toBe('fatal');
    expect(classifySendFailure(err(400, 'ValidationError'), 'solapi').kind).toBe('fatal');
  });
});

describe('Solapi webhook bodies', () => {
  const msg = (statusCode: string, key?: string) => ({
    messageId: `M${statusCode}`,
    groupId: 'G1',
    to: '01012345678',
    statusCode,
    customFields: key ? { umsKey: key } : {},
  });

  it('turns final message reports into delivery reports and passes over in-progress ones', () => {
    const r = parseSolapiWebhook([msg('4000', 'c:1:0'), msg('3000', 'c:2:0'), msg('3032', 'c:3:0')]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.messages).toBe(3);
    expect(r.reports.map((x) => [x.key, x.status, x.code])).toEqual([
      ['c:1:0', 'delivered', '4000'],
      ['c:3:0', 'failed', '3032'],
    ]);
  });

  it('refuses what is not a Solapi message report', () => {
    expect(parseSolapiWebhook({ messageId: 'M1', statusCode: '4000' }).ok).toBe(false);
    expect(parseSolapiWebhook([]).ok).toBe(false);
    expect(parseSolapiWebhook(['hello']).ok).toBe(false);
    expect(parseSolapiWebhook([{ statusCode: '4000' }]).ok).toBe(false);
    expect(parseSolapiWebhook([{ messageId: 'M1' }]).ok).toBe(false);
    expect(
      parseSolapiWebhook([{ messageId: 'M1', statusCode: '4000', customFields: { umsKey: 5 } }]).ok,
    ).toBe(false);
    const group = parseSolapiWebhook([{ groupId: 'G4V1', count: { total: 1 } }]);
    expect(group.ok === false && group.reason).toMatch(/group report/);
  });
});
