import { describe, expect, it } from 'vitest';
import { packAll, unpackInto } from '../../src/app/planWriter.js';
import type { PlannedMessage } from '../../src/campaign/types.js';

/**
 * The packets the planning thread sends the journal writer thread (src/app/planWriter.ts) carry
 * every field of every message. `Required<PlannedMessage>` makes this file stop compiling when a
 * field is added to PlannedMessage, until it is set here: then a codec that forgets it fails below.
 */
const fallback: Required<PlannedMessage> = {
  row: 2,
  to: '01012345678',
  channel: 'lms',
  status: 'held',
  reason: null,
  parts: 1,
  bytes: 95,
  subject: '발송 안내',
  body: '대체 문자',
  cost: 30.5,
  leg: 1,
  vars: null,
  rcsKind: null,
  deferrable: true,
  fallback: undefined as unknown as PlannedMessage,
};
const primary: Required<PlannedMessage> = {
  row: 2,
  to: '01012345678',
  channel: 'alimtalk',
  status: 'planned',
  reason: null,
  parts: 1,
  bytes: 40,
  subject: null,
  body: '#{name}님, 주문이 발송되었습니다',
  cost: 8,
  leg: 0,
  vars: '{"#{name}":"홍길동"}',
  rcsKind: null,
  deferrable: true,
  fallback,
};

describe('plan packets', () => {
  it('carry every field, nested fallback legs, nulls and fractions, in order', () => {
    const { fallback: _, ...noFallback } = fallback;
    const messages: PlannedMessage[] = [
      { ...primary, fallback: noFallback },
      {
        row: 3,
        to: null,
        channel: null,
        status: 'rejected',
        reason: 'invalid_phone: phone number "12" is not a valid Korean number',
        parts: 0,
        bytes: 0,
        subject: null,
        body: null,
        cost: 0,
        leg: 0,
        vars: null,
        rcsKind: null,
        deferrable: false,
      },
      {
        ...primary,
        row: 4,
        channel: 'rcs',
        rcsKind: 'lms',
        cost: 0.25,
        deferrable: false,
        fallback: undefined,
      },
    ];
    const out: PlannedMessage[] = [];
    unpackInto(structuredClone(packAll(messages)), out);
    expect(out).toEqual(messages);
    expect(out.map((m) => 'fallback' in m)).toEqual([true, false, false]);
  });
});
