import { z } from 'zod';
import { Backoff } from '../../time/backoff.js';
import { sleep } from '../../time/sleep.js';
import { coverageWith, type RequestLog } from '../requestLog.js';
import type { LookupHint } from '../types.js';
import type { SolapiClient } from './client.js';
import { idOf, isAccepted, keyOf, type SolapiMessage, solapiMessageSchema } from './codes.js';
import { classifySendFailure } from './sendAnswer.js';

/** Listing windows start this much before the earliest possible moment (clock steps, Date header resolution). */
export const SLACK_MS = 2 * 60_000;
/** Without a measured server clock, allow for the most skew Solapi itself tolerates. */
export const UNKNOWN_SKEW_SLACK_MS = 16 * 60_000;

/** GET /messages/v4/list: an object keyed by message id, and the key of the next page (null: the last). */
const listAnswerSchema = z.object({
  messageList: z
    .record(z.string(), z.unknown())
    .refine((v) => !Array.isArray(v), 'is not an object keyed by message id'),
  nextKey: z.string().nullish(),
});

export interface ListPage {
  messages: SolapiMessage[];
  nextKey: string | null;
  /** message objects ums cannot read (a look-up cannot tell whether they are ours) */
  unreadable: number;
}

/**
 * Solapi's message list (GET /messages/v4/list): pages of it, and the look-ups made of it (which
 * of our keys Solapi holds, by group or by time window). It cannot search customFields, so every
 * look-up lists and matches our key in each message's customFields.
 */
export class SolapiListing {
  constructor(
    private readonly client: SolapiClient,
    /** the provider's name, for the hint in a refusal of our credentials */
    private readonly provider: string,
    private readonly pageSize: number,
    private readonly timeoutMs: number,
  ) {}

  /**
   * One page, retried a few times when that is safe (it is a read). Throws when Solapi cannot be
   * asked or answers in a shape ums does not know: a lookup then means "cannot tell", never "not there".
   */
  async page(params: Record<string, string>): Promise<ListPage> {
    const query = new URLSearchParams(params).toString();
    let last = '';
    const backoff = new Backoff({ initialMs: 500, maxMs: 2000 });
    for (let attempt = 0; attempt < 4; attempt++) {
      if (attempt) await sleep(backoff.next());
      const res = await this.client.request('GET', `/messages/v4/list?${query}`, undefined, this.timeoutMs);
      if (res.kind === 'ok') {
        const page = listAnswerSchema.safeParse(res.body);
        if (!page.success) {
          const issue = page.error.issues[0]!;
          throw new Error(
            `Solapi listed messages in a shape ums does not know (${issue.path.join('.') || 'the body'}: ${issue.message}): cannot tell what it holds`,
          );
        }
        const messages: SolapiMessage[] = [];
        let unreadable = 0;
        for (const [id, v] of Object.entries(page.data.messageList)) {
          const m = solapiMessageSchema.safeParse(v);
          if (m.success) messages.push({ ...(m.data as SolapiMessage), messageId: m.data.messageId ?? id });
          else unreadable++;
        }
        return { messages, nextKey: page.data.nextKey ? page.data.nextKey : null, unreadable };
      }
      const r = classifySendFailure(res, this.provider);
      last = r.kind === 'results' ? '' : r.message;
      if (r.kind === 'fatal') break;
    }
    throw new Error(`listing Solapi messages failed: ${last}`);
  }

  /** Page through a listing until it ends or `visit` says stop. */
  async all(params: Record<string, string>, visit: (m: SolapiMessage[]) => boolean): Promise<void> {
    let startKey: string | null = null;
    for (;;) {
      const page = await this.page({
        ...params,
        limit: String(this.pageSize),
        ...(startKey ? { startKey } : {}),
      });
      // a message that cannot be read may be one of ours: the listing cannot say "not there"
      if (page.unreadable)
        throw new Error(
          `Solapi listed ${page.unreadable} messages ums cannot read: cannot tell what it holds`,
        );
      if (visit(page.messages) || !page.nextKey || page.nextKey === startKey) return;
      startKey = page.nextKey;
    }
  }

  /** Learn the server's clock (one tiny listing) if no answer has told it yet. */
  async ensureSkew(): Promise<void> {
    if (this.client.skewMs !== null) return;
    await this.page({ limit: '1' }).catch(() => undefined);
  }

  /** The keys of `want` that Solapi accepted in these listing params: key -> message id. Throws: cannot tell. */
  async accepted(params: Record<string, string>, want: Set<string>): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    await this.all(params, (msgs) => {
      for (const m of msgs) {
        const k = keyOf(m);
        if (k && want.has(k) && isAccepted(String(m.statusCode ?? ''))) found.set(k, idOf(m) ?? '');
      }
      return found.size === want.size;
    });
    return found;
  }

  /**
   * Which of these keys Solapi holds. The request log says which keys ever left and since when;
   * list what Solapi created from then to now and match our key in each message's customFields.
   * Keys that never left are not there.
   */
  async lookup(
    keys: string[],
    log: RequestLog,
    hint?: LookupHint,
  ): Promise<Map<string, { providerId: string }>> {
    const found = new Map<string, { providerId: string }>();
    const { sent, since } = coverageWith(log, keys, hint);
    if (!sent.length || since === null) return found;
    await this.ensureSkew();
    const slack = this.client.skewMs === null ? UNKNOWN_SKEW_SLACK_MS : SLACK_MS;
    const start = since + (this.client.skewMs ?? 0) - slack;
    const end = this.client.serverNow() + slack;
    const ids = await this.accepted(
      { dateType: 'CREATED', startDate: new Date(start).toISOString(), endDate: new Date(end).toISOString() },
      new Set(sent),
    );
    for (const [k, providerId] of ids) found.set(k, { providerId });
    return found;
  }
}
