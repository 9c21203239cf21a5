import { describe, expect, it } from 'vitest';
import { exhaustedReason } from '../../src/delivery/reconcile.js';
import { type SettleInput, type SettleOutput, settleSubmit } from '../../src/delivery/settle.js';
import type { SendableMessage } from '../../src/journal/delivery.js';
import { intakeOutcome as nhnIntake } from '../../src/providers/nhn/codes.js';
import { intakeOutcome as solapiIntake } from '../../src/providers/solapi/codes.js';
import type { SubmitResult } from '../../src/providers/types.js';

/** Three claimed messages (attempts count this submission). */
const msg = (id: number, attempts = 1): SendableMessage => ({
  id,
  row: id,
  leg: 0,
  to: `0102000000${id}`,
  channel: 'sms',
  subject: null,
  body: 'hi',
  parts: 1,
  attempts,
  vars: null,
  deferrable: 0,
  rcsKind: null,
});
const AT = '2026-01-01T00:00:00.000Z';
const keys = ['c:1:0', 'c:2:0', 'c:3:0'];
const accepted = (n: number) => ({ kind: 'accepted' as const, providerId: `p${n}` });
const rejected = (over: Partial<{ retryable: boolean; optedOut: boolean; stopsRun: string }> = {}) => ({
  kind: 'rejected' as const,
  code: 'E1',
  message: 'no',
  retryable: false,
  ...over,
});

interface Row {
  name: string;
  result: SubmitResult;
  batch?: SendableMessage[];
  found?: SettleInput['found'];
  maxSubmits?: number;
  expect: Partial<Omit<SettleOutput, 'resend'>> & { resend?: { id: number; attempts: number }[] };
}

const rows: Row[] = [
  {
    name: 'all accepted: sent with their ids, the lane is told the provider answered',
    result: {
      kind: 'results',
      outcomes: [accepted(1), { ...accepted(2), partIds: ['a', 'b'] }, accepted(3)],
    },
    expect: {
      settlements: [
        { id: 1, kind: 'sent', providerId: 'p1', partIds: undefined, at: AT },
        { id: 2, kind: 'sent', providerId: 'p2', partIds: ['a', 'b'], at: AT },
        { id: 3, kind: 'sent', providerId: 'p3', partIds: undefined, at: AT },
      ],
      resend: [],
      signal: { kind: 'ok', throttled: false, message: null, stop: null },
      accepted: 3,
    },
  },
  {
    name: 'a partial answer: messages the provider left out are unknown, never resent',
    result: { kind: 'results', outcomes: [accepted(1)] },
    expect: {
      settlements: [
        { id: 1, kind: 'sent', providerId: 'p1', partIds: undefined, at: AT },
        { id: 2, kind: 'unknown', reason: 'unknown: the provider answered without this message' },
        { id: 3, kind: 'unknown', reason: 'unknown: the provider answered without this message' },
      ],
      resend: [],
      accepted: 1,
      unknown: 2,
    },
  },
  {
    name: 'a permanent refusal fails; an opted-out number is reported for the suppression list',
    result: { kind: 'results', outcomes: [rejected(), rejected({ optedOut: true }), accepted(3)] },
    expect: {
      settlements: [
        { id: 1, kind: 'failed', reason: 'E1: no', at: AT },
        { id: 2, kind: 'failed', reason: 'E1: no', at: AT },
        { id: 3, kind: 'sent', providerId: 'p3', partIds: undefined, at: AT },
      ],
      optedOut: ['01020000002'],
      failed: 2,
      accepted: 1,
    },
  },
  {
    name: 'a retryable refusal is released and resent while submissions are left, else it fails',
    batch: [msg(1, 1), msg(2, 5), msg(3, 4)],
    result: {
      kind: 'results',
      outcomes: [rejected({ retryable: true }), rejected({ retryable: true }), rejected({ retryable: true })],
    },
    expect: {
      settlements: [
        { id: 1, kind: 'release' },
        { id: 2, kind: 'failed', reason: 'E1: no', at: AT },
        { id: 3, kind: 'release' },
      ],
      resend: [
        { id: 1, attempts: 1 },
        { id: 3, attempts: 4 },
      ],
      failed: 1,
    },
  },
  {
    name: 'a message refused for rate is given back its attempt, resent, and the lane slows',
    result: { kind: 'results', outcomes: [accepted(1), { kind: 'throttled' }, accepted(3)] },
    expect: {
      settlements: [
        { id: 1, kind: 'sent', providerId: 'p1', partIds: undefined, at: AT },
        { id: 2, kind: 'unclaim' },
        { id: 3, kind: 'sent', providerId: 'p3', partIds: undefined, at: AT },
      ],
      resend: [{ id: 2, attempts: 0 }],
      signal: { kind: 'ok', throttled: true, message: null, stop: null },
      accepted: 2,
    },
  },
  {
    name: 'a refusal that stops the run keeps the message planned (attempt given back), not resent',
    result: {
      kind: 'results',
      outcomes: [accepted(1), rejected({ stopsRun: 'no credit' }), rejected({ stopsRun: 'later' })],
    },
    expect: {
      settlements: [
        { id: 1, kind: 'sent', providerId: 'p1', partIds: undefined, at: AT },
        { id: 2, kind: 'unclaim' },
        { id: 3, kind: 'unclaim' },
      ],
      resend: [],
      signal: { kind: 'ok', throttled: false, message: null, stop: 'sim: no credit' },
    },
  },
  // Account-level codes, as the providers' code tables make them: the run stops, nobody fails.
  ...(
    [
      ['Solapi 1030 (balance)', solapiIntake('1030', 'x', null), /\(1030\).*top up/],
      [
        'Solapi 1062 (unregistered sender, 발신번호 미등록)',
        solapiIntake('1062', 'x', null),
        /sender number.*\(1062\).*ums resume/,
      ],
      [
        'NHN -2312 (unregistered sender)',
        nhnIntake(-2312, 'x', null),
        /sender number.*\(-2312\).*ums resume/,
      ],
      [
        'NHN -2313 (blocked sender number)',
        nhnIntake(-2313, 'x', null),
        /sender number.*\(-2313\).*ums resume/,
      ],
      ['NHN 1021 (KakaoTalk channel blocked)', nhnIntake(1021, 'x', null), /channel.*ums resume.*\(1021\)/],
    ] as const
  ).map(
    ([what, o, stop]): Row => ({
      name: `${what} stops the run: every message back to planned (attempt given back), none failed or resent`,
      result: { kind: 'results', outcomes: [accepted(1), o, o] },
      expect: {
        settlements: [
          { id: 1, kind: 'sent', providerId: 'p1', partIds: undefined, at: AT },
          { id: 2, kind: 'unclaim' },
          { id: 3, kind: 'unclaim' },
        ],
        resend: [],
        failed: 0,
        accepted: 1,
        signal: { kind: 'ok', throttled: false, message: null, stop: expect.stringMatching(stop) },
      },
    }),
  ),
  {
    name: 'a recipient-level refusal (1061 opted out) does not stop the run',
    result: { kind: 'results', outcomes: [solapiIntake('1061', 'x', null), accepted(2), accepted(3)] },
    expect: {
      failed: 1,
      accepted: 2,
      optedOut: ['01020000001'],
      signal: { kind: 'ok', throttled: false, message: null, stop: null },
    },
  },
  {
    name: 'the whole request throttled: every message given back and resent',
    result: { kind: 'throttled', message: '429' },
    expect: {
      settlements: [1, 2, 3].map((id) => ({ id, kind: 'unclaim' as const })),
      resend: [1, 2, 3].map((id) => ({ id, attempts: 0 })),
      signal: { kind: 'throttled', throttled: true, message: '429', stop: null },
    },
  },
  {
    name: 'unavailable (nothing left): every message given back and resent, the lane backs off',
    result: { kind: 'unavailable', message: '503' },
    expect: {
      settlements: [1, 2, 3].map((id) => ({ id, kind: 'unclaim' as const })),
      resend: [1, 2, 3].map((id) => ({ id, attempts: 0 })),
      signal: { kind: 'unavailable', throttled: false, message: '503', stop: null },
    },
  },
  {
    name: 'fatal: nothing failed, nothing resent, every message back to planned, the run stops',
    result: { kind: 'fatal', message: 'bad key' },
    expect: {
      settlements: [1, 2, 3].map((id) => ({ id, kind: 'unclaim' as const })),
      resend: [],
      signal: { kind: 'fatal', throttled: false, message: 'bad key', stop: 'sim: bad key' },
    },
  },
  {
    name: 'ambiguous, no look-up: unknown, never resent',
    result: { kind: 'ambiguous', message: 'socket hang up' },
    found: null,
    expect: {
      settlements: [1, 2, 3].map((id) => ({
        id,
        kind: 'unknown' as const,
        reason: 'unknown: socket hang up; not resent (it cannot be looked up)',
      })),
      resend: [],
      signal: { kind: 'ambiguous', throttled: false, message: 'socket hang up', stop: null },
      unknown: 3,
    },
  },
  {
    name: 'ambiguous, looked up: held -> sent; not there -> released and resent; not there with attempts used up -> unknown',
    batch: [msg(1, 2), msg(2, 2), msg(3, 5)],
    result: { kind: 'ambiguous', message: 'timeout' },
    found: new Map([['c:1:0', { providerId: 'L1' }]]),
    expect: {
      settlements: [
        { id: 1, kind: 'sent', providerId: 'L1', at: AT },
        { id: 2, kind: 'release' },
        { id: 3, kind: 'unknown', reason: exhaustedReason(5, 'timeout') },
      ],
      resend: [{ id: 2, attempts: 2 }],
      accepted: 1,
      unknown: 1,
    },
  },
  {
    name: 'a configured maxSubmits of 1: a retryable refusal after one submission fails',
    maxSubmits: 1,
    result: { kind: 'results', outcomes: [rejected({ retryable: true }), accepted(2), accepted(3)] },
    expect: {
      settlements: [
        { id: 1, kind: 'failed', reason: 'E1: no', at: AT },
        { id: 2, kind: 'sent', providerId: 'p2', partIds: undefined, at: AT },
        { id: 3, kind: 'sent', providerId: 'p3', partIds: undefined, at: AT },
      ],
      resend: [],
      failed: 1,
    },
  },
];

describe('settleSubmit: what an answer means for each message of the submission', () => {
  for (const row of rows) {
    it(row.name, () => {
      const batch = row.batch ?? [msg(1), msg(2), msg(3)];
      const before = structuredClone(batch);
      const out = settleSubmit({
        batch,
        keys,
        result: row.result,
        found: row.found ?? null,
        maxSubmits: row.maxSubmits ?? 5,
        provider: 'sim',
        at: AT,
      });
      const { resend, ...rest } = row.expect;
      expect(out).toMatchObject(rest);
      if (resend) expect(out.resend.map((m) => ({ id: m.id, attempts: m.attempts }))).toEqual(resend);
      expect(batch).toEqual(before); // pure: the claimed messages are not changed
      // every message of the submission is settled exactly once
      expect(out.settlements.map((s) => s.id).sort()).toEqual(batch.map((m) => m.id).sort());
    });
  }
});
