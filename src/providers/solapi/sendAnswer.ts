import { z } from 'zod';
import { formatFirstIssue } from '../../config/issues.js';
import type { MessageOutcome, OutboundMessage, SubmitResult } from '../types.js';
import type { HttpOutcome } from './client.js';
import { intakeOutcome, KEY_FIELD } from './codes.js';
import { recipient } from './message.js';

/** One entry of send-many/detail's failedMessageList or messageList, as far as ums reads it. */
const sendItemSchema = z.looseObject({
  to: z.string().optional(),
  messageId: z.string().nullish(),
  statusCode: z
    .union([z.string(), z.number()])
    .transform(String)
    .pipe(z.string().regex(/^\d{4}$/, 'is not a Solapi status code')),
  statusMessage: z.string().nullish(),
  customFields: z.record(z.string(), z.string()).nullish(),
});
type SendItem = z.infer<typeof sendItemSchema>;

/** The answer of POST /messages/v4/send-many/detail (DOMAIN.md): a group, and what was refused. */
const sendAnswerSchema = z.object({
  groupInfo: z
    .object({ groupId: z.string().min(1).optional(), _id: z.string().min(1).optional() })
    .refine((g) => g.groupId !== undefined || g._id !== undefined, 'names no groupId'),
  failedMessageList: z.array(sendItemSchema),
  messageList: z.array(sendItemSchema).optional(),
});

/** What an HTTP failure of a send request means for the engine (pure: unit-tested). */
export function classifySendFailure(
  res: Exclude<HttpOutcome, { kind: 'ok' }>,
  provider: string,
): SubmitResult {
  if (res.kind === 'not-sent') return { kind: 'unavailable', message: res.message };
  if (res.kind === 'no-answer') return { kind: 'ambiguous', message: res.message };
  const what = `${res.status} ${res.errorCode}${res.errorMessage ? `: ${res.errorMessage}` : ''}`;
  if (res.status === 429) return { kind: 'throttled', message: `Solapi: too many requests (${what})` };
  if (res.status === 503) return { kind: 'unavailable', message: `Solapi unavailable (${what})` };
  if (res.status === 401 || res.status === 403) {
    // Refused before anything was looked at: safe to sign again and resend.
    if (res.errorCode === 'RequestTimeTooSkewed' || res.errorCode === 'DuplicatedSignature') {
      return { kind: 'unavailable', message: `Solapi refused the signature (${what}); signing again` };
    }
    return {
      kind: 'fatal',
      message: `Solapi refused our credentials (${what}); check providers.${provider}.apiKey and apiSecret`,
    };
  }
  if (res.status >= 500) return { kind: 'ambiguous', message: `Solapi answered ${what}` };
  return { kind: 'fatal', message: `Solapi refused the request (${what})` };
}

/** A send answer read: an outcome per message where the answer itemised it. */
export type SendAnswer =
  /** an answer of a shape ums does not know: the whole batch's result */
  | { kind: 'unreadable'; result: SubmitResult }
  | {
      kind: 'read';
      groupId: string;
      /** by the batch's index; undefined where the answer did not itemise the message */
      outcomes: (MessageOutcome | undefined)[];
      /** the keys of the messages without an outcome */
      missing: string[];
    };

/**
 * The 200 answer of send-many/detail against the batch it answers. Anything but the documented
 * answer (a proxy's `{}`, an API change) says nothing about what Solapi took: ambiguous, to be
 * resolved by listing, never read as "none taken". Entries are placed by our key in customFields,
 * else by recipient (the first unplaced message to that number).
 */
export function readSendAnswer(batch: OutboundMessage[], body: unknown): SendAnswer {
  const parsed = sendAnswerSchema.safeParse(body);
  if (!parsed.success) {
    return {
      kind: 'unreadable',
      result: {
        kind: 'ambiguous',
        message: `Solapi answered 200 in a shape ums does not know (${formatFirstIssue(parsed.error)})`,
      },
    };
  }
  const b = parsed.data;
  const groupId = b.groupInfo.groupId ?? b.groupInfo._id!;
  const index = new Map(batch.map((m, i) => [m.key, i]));
  const outcomes: (MessageOutcome | undefined)[] = new Array<MessageOutcome | undefined>(batch.length);
  const place = (e: SendItem): void => {
    let i = index.get(e.customFields?.[KEY_FIELD] ?? '');
    if (i === undefined && typeof e.to === 'string') {
      // no customFields echoed: the first unplaced message to that number
      const to = e.to;
      i = batch.findIndex((m, j) => outcomes[j] === undefined && recipient(m.to).to === to);
      if (i < 0) i = undefined;
    }
    if (i === undefined || outcomes[i] !== undefined) return;
    outcomes[i] = intakeOutcome(e.statusCode, e.statusMessage ?? null, e.messageId ?? null);
  };
  for (const e of b.failedMessageList) place(e);
  for (const e of b.messageList ?? []) place(e);
  const missing = batch
    .map((m, i) => (outcomes[i] === undefined ? m.key : null))
    .filter((k): k is string => k !== null);
  return { kind: 'read', groupId, outcomes, missing };
}

/** A message the answer did not itemise, after asking its group: found -> accepted; absent -> never taken. */
export function groupOutcome(providerId: string | undefined): MessageOutcome {
  return providerId !== undefined
    ? { kind: 'accepted', providerId }
    : { kind: 'rejected', code: 'NOT_TAKEN', message: 'Solapi did not take it', retryable: true };
}
