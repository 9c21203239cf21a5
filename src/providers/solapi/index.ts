import path from 'node:path';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { z } from 'zod';
import type { RcsKind } from '../../campaign/rcs.js';
import { writePrivateFileSync } from '../../input/privateFile.js';
import { MB, readInputFile } from '../../input/readableFile.js';
import { Backoff } from '../../time/backoff.js';
import { sleep } from '../../time/sleep.js';
import type {
  DeliveryReport,
  MessageOutcome,
  OutboundMessage,
  Provider,
  ProviderContext,
  ReportBatch,
  SubmitResult,
} from '../types.js';
import { type HttpOutcome, SolapiClient } from './client.js';
import {
  idOf,
  intakeOutcome,
  isAccepted,
  KEY_FIELD,
  keyOf,
  type SolapiMessage,
  solapiMessageSchema,
  toReport,
} from './codes.js';
import { parseSolapiConfig, type SolapiConfig } from './config.js';
import { ImageCache } from './images.js';
import { RequestLog } from './requestLog.js';

export { parseSolapiConfig, type SolapiConfig, solapiConfigSchema } from './config.js';

/** Listing windows start this much before the earliest possible moment (clock steps, Date header resolution). */
const SLACK_MS = 2 * 60_000;
/** Without a measured server clock, allow for the most skew Solapi itself tolerates. */
const UNKNOWN_SKEW_SLACK_MS = 16 * 60_000;

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

/** GET /messages/v4/list: an object keyed by message id, and the key of the next page (null: the last). */
const listAnswerSchema = z.object({
  messageList: z
    .record(z.string(), z.unknown())
    .refine((v) => !Array.isArray(v), 'is not an object keyed by message id'),
  nextKey: z.string().nullish(),
});

/** POST /storage/v1/files */
const uploadAnswerSchema = z.object({ fileId: z.string().min(1) });

/** Thrown while preparing a submission: the whole batch gets this result. */
class SubmitAbort extends Error {
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
function recipient(to: string): { to: string; country?: string } {
  if (!to.startsWith('+')) return { to };
  const p = parsePhoneNumberFromString(to);
  if (!p) return { to: to.slice(1) };
  if (p.countryCallingCode === '82') return { to: `0${p.nationalNumber}` };
  return { to: String(p.nationalNumber), country: String(p.countryCallingCode) };
}

function campaignOf(key: string): string {
  const m = /^(.+):\d+:\d+$/.exec(key);
  return m ? m[1]! : key;
}

/**
 * Solapi (api.solapi.com), our own client on fetch: SMS, LMS, MMS, AlimTalk (ATA) and RCS in
 * one send-many call per batch, the journal key in customFields, lost answers resolved by
 * listing, delivery reports by polling the message list (and by webhook through `ums listen`).
 */
export class SolapiProvider implements Provider {
  readonly maxBatch: number;
  readonly tps: number;
  readonly maxSubmits: number;
  readonly client: SolapiClient;
  private readonly log: RequestLog;
  private readonly images: ImageCache;
  private readonly pollStateFile: string;
  private listing: {
    startDate: string;
    endDate: string;
    endMs: number;
    cursor: string | null;
    /** reports the previous poll made in the overlap: id -> code */
    before: Record<string, string>;
    /** reports this poll made near its end, for the next one */
    recent: Record<string, string>;
  } | null = null;
  private lastListingDone = 0;

  constructor(
    readonly name: string,
    private readonly cfg: SolapiConfig,
    ctx: ProviderContext,
  ) {
    this.maxBatch = cfg.batchSize;
    this.tps = ctx.tps ?? cfg.tps;
    this.maxSubmits = cfg.maxSubmits;
    this.client = new SolapiClient(cfg.baseUrl, cfg.apiKey, cfg.apiSecret);
    this.log = new RequestLog(path.join(ctx.stateDir, `solapi-${name}-requests.jsonl`));
    this.images = new ImageCache(path.join(ctx.stateDir, `solapi-${name}-images.json`));
    this.pollStateFile = path.join(ctx.stateDir, `solapi-${name}-poll.json`);
  }

  async submit(batch: OutboundMessage[]): Promise<SubmitResult> {
    let messages: SolapiOutbound[];
    try {
      messages = await Promise.all(batch.map((m) => this.toSolapi(m)));
    } catch (err) {
      if (err instanceof SubmitAbort) return err.result;
      throw err;
    }
    // Written before the request leaves: a lookup after any crash knows it may have.
    try {
      this.log.record(
        batch.map((m) => m.key),
        Date.now(),
      );
    } catch (err) {
      // Nothing left: the rows stay planned. Not ambiguous (a lookup would find nothing and the
      // engine would resubmit at once, forever, on a full disk): the run stops.
      return {
        kind: 'fatal',
        message: `${(err as Error).message}; nothing is lost: free the space, then run \`ums resume\``,
      };
    }
    const res = await this.client.request(
      'POST',
      '/messages/v4/send-many/detail',
      { messages, allowDuplicates: this.cfg.allowDuplicates, showMessageList: true },
      this.cfg.timeoutMs,
    );
    if (res.kind !== 'ok') return classifySendFailure(res, this.name);
    return this.results(batch, res.body);
  }

  private async toSolapi(m: OutboundMessage): Promise<SolapiOutbound> {
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
        out.imageId = await this.imageId(campaignOf(m.key), images[0]!, 'MMS');
        break;
      }
      case 'alimtalk': {
        out.type = 'ATA';
        const k =
          m.kakao ?? fatal(`AlimTalk row without its Kakao options (pfId, templateId) (key ${m.key})`);
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
          out.imageId = await this.imageId(campaignOf(m.key), images[0]!, 'RCS');
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
      fatal(
        'no sender number: set `from:` in the config (or the template) to a number registered with Solapi',
      );
    }
    return out;
  }

  /** `fileType`: Solapi's storage type, MMS for MMS images and RCS for RCS MMS images (solapi-nodejs uploadFile). */
  private imageId(campaign: string, file: string, fileType: 'MMS' | 'RCS'): Promise<string> {
    return this.images.fileId(campaign, file, fileType, async (content, name) => {
      const res = await this.client.request(
        'POST',
        '/storage/v1/files',
        { file: content.toString('base64'), type: fileType, name },
        this.cfg.timeoutMs,
      );
      if (res.kind === 'ok') {
        const answer = uploadAnswerSchema.safeParse(res.body);
        if (answer.success) return answer.data.fileId;
        // Nothing was sent with it yet, and an upload is harmless to repeat: try again later.
        throw new SubmitAbort({
          kind: 'unavailable',
          message: `Solapi answered the upload of ${name} in a shape ums does not know (no fileId)`,
        });
      }
      // An upload that may have happened is harmless to repeat: never ambiguous.
      const r = classifySendFailure(res, this.name);
      if (r.kind === 'ambiguous')
        throw new SubmitAbort({ kind: 'unavailable', message: `uploading ${name}: ${r.message}` });
      if (r.kind === 'fatal' && res.kind === 'error' && res.status !== 401 && res.status !== 403) {
        throw new SubmitAbort({
          kind: 'fatal',
          message: `Solapi refused the image ${name} (${res.status} ${res.errorCode}: ${res.errorMessage})`,
        });
      }
      throw new SubmitAbort(
        r.kind === 'results'
          ? { kind: 'unavailable', message: 'upload failed' }
          : { ...r, message: `uploading ${name}: ${r.message}` },
      );
    });
  }

  private async results(batch: OutboundMessage[], body: unknown): Promise<SubmitResult> {
    // Anything but the documented answer (a proxy's `{}`, an API change) says nothing about what
    // Solapi took: ambiguous, to be resolved by listing, never read as "none taken".
    const parsed = sendAnswerSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return {
        kind: 'ambiguous',
        message: `Solapi answered 200 in a shape ums does not know (${issue.path.join('.') || 'the body'}: ${issue.message})`,
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
    if (missing.length) {
      // Not itemised in the answer: ask the group. Found -> accepted; absent -> never taken, send again.
      try {
        const want = new Set(missing);
        const found = new Map<string, string>();
        await this.listAll({ groupId }, (msgs) => {
          for (const m of msgs) {
            const k = keyOf(m);
            if (k && want.has(k) && isAccepted(String(m.statusCode ?? ''))) found.set(k, idOf(m) ?? '');
          }
          return found.size === want.size;
        });
        for (const k of missing) {
          const i = index.get(k)!;
          const id = found.get(k);
          outcomes[i] =
            id !== undefined
              ? { kind: 'accepted', providerId: id }
              : { kind: 'rejected', code: 'NOT_TAKEN', message: 'Solapi did not take it', retryable: true };
        }
      } catch {
        /* left without an outcome: the engine records them unknown, `ums resume` looks them up */
      }
    }
    return { kind: 'results', outcomes: outcomes as MessageOutcome[] };
  }

  /**
   * One page of GET /messages/v4/list, retried a few times when that is safe (it is a read).
   * Throws when Solapi cannot be asked or answers in a shape ums does not know: a lookup then
   * means "cannot tell", never "not there". Message objects ums cannot read are counted in
   * `unreadable` (a lookup cannot tell whether they are ours).
   */
  private async listPage(
    params: Record<string, string>,
  ): Promise<{ messages: SolapiMessage[]; nextKey: string | null; unreadable: number }> {
    const query = new URLSearchParams(params).toString();
    let last = '';
    const backoff = new Backoff({ initialMs: 500, maxMs: 2000 });
    for (let attempt = 0; attempt < 4; attempt++) {
      if (attempt) await sleep(backoff.next());
      const res = await this.client.request(
        'GET',
        `/messages/v4/list?${query}`,
        undefined,
        this.cfg.timeoutMs,
      );
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
      const r = classifySendFailure(res, this.name);
      last = r.kind === 'results' ? '' : r.message;
      if (r.kind === 'fatal') break;
    }
    throw new Error(`listing Solapi messages failed: ${last}`);
  }

  /** Page through a listing until it ends or `visit` says stop. */
  private async listAll(
    params: Record<string, string>,
    visit: (m: SolapiMessage[]) => boolean,
  ): Promise<void> {
    let startKey: string | null = null;
    for (;;) {
      const page = await this.listPage({
        ...params,
        limit: String(this.cfg.pageSize),
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
  private async ensureSkew(): Promise<void> {
    if (this.client.skewMs !== null) return;
    await this.listPage({ limit: '1' }).catch(() => undefined);
  }

  /**
   * Which of these keys Solapi holds. It cannot search customFields, so: the request log says
   * which keys ever left and since when; list what Solapi created from then to now and match
   * our key in each message's customFields. Keys that never left are not there.
   */
  async lookup(keys: string[]): Promise<Map<string, { providerId: string }>> {
    const found = new Map<string, { providerId: string }>();
    const { sent, since } = this.log.coverage(keys);
    if (!sent.length || since === null) return found;
    await this.ensureSkew();
    const slack = this.client.skewMs === null ? UNKNOWN_SKEW_SLACK_MS : SLACK_MS;
    const start = since + (this.client.skewMs ?? 0) - slack;
    const end = this.client.serverNow() + slack;
    const want = new Set(sent);
    await this.listAll(
      { dateType: 'CREATED', startDate: new Date(start).toISOString(), endDate: new Date(end).toISOString() },
      (msgs) => {
        for (const m of msgs) {
          const k = keyOf(m);
          if (k && want.has(k) && isAccepted(String(m.statusCode ?? '')))
            found.set(k, { providerId: idOf(m) ?? '' });
        }
        return found.size === want.size;
      },
    );
    return found;
  }

  /**
   * Delivery reports by polling: messages Solapi updated since the last complete poll (kept in a
   * small state file), page by page; the checkpoint moves when the last page is acknowledged.
   * Only final codes of messages carrying our key are reported. Listings overlap by a little,
   * for clocks; the reports already made in that overlap are remembered and not made twice.
   */
  async pollReports(): Promise<ReportBatch> {
    const empty: ReportBatch = { reports: [], ack: async () => undefined };
    if (!this.listing) {
      // One listing per sync: a poll right after a complete one has nothing new worth a request.
      if (this.lastListingDone && Date.now() - this.lastListingDone < 10_000) return empty;
      await this.ensureSkew();
      // the Date header counts whole seconds: reach a little past the server's now
      const serverNow = this.client.serverNow() + 2_000;
      const saved = this.readPollState();
      const first = this.log.firstAt();
      const since =
        saved?.since ?? (first !== null ? first + (this.client.skewMs ?? 0) : serverNow - 24 * 3600_000);
      const slack = this.client.skewMs === null ? UNKNOWN_SKEW_SLACK_MS : SLACK_MS;
      this.listing = {
        startDate: new Date(since - slack).toISOString(),
        endDate: new Date(serverNow).toISOString(),
        endMs: serverNow,
        cursor: null,
        before: saved?.recent ?? {},
        recent: {},
      };
    }
    const listing = this.listing;
    let cursor = listing.cursor;
    for (;;) {
      const page = await this.listPage({
        dateType: 'UPDATED',
        startDate: listing.startDate,
        endDate: listing.endDate,
        limit: String(this.cfg.pageSize),
        ...(cursor ? { startKey: cursor } : {}),
      });
      const reports: DeliveryReport[] = [];
      const recent: Record<string, string> = {};
      for (const m of page.messages) {
        const r = toReport(m);
        if (!r || r.key === null) continue;
        const id = r.providerId ?? '';
        if (listing.before[id] === r.code) continue; // reported by the previous poll, in the overlap
        reports.push(r);
        const updated = Date.parse(m.dateUpdated ?? '');
        if (!Number.isNaN(updated) && updated >= listing.endMs - SLACK_MS * 2) recent[id] = r.code;
      }
      const next = page.nextKey && page.nextKey !== cursor ? page.nextKey : null;
      if (reports.length) {
        return {
          reports,
          ack: async () => {
            if (this.listing !== listing) return;
            Object.assign(listing.recent, recent);
            listing.cursor = next;
            if (!next) this.finishListing(listing);
          },
        };
      }
      if (!next) {
        this.finishListing(listing);
        return empty;
      }
      cursor = next;
      listing.cursor = next;
    }
  }

  private finishListing(listing: { endMs: number; recent: Record<string, string> }): void {
    writePrivateFileSync(
      this.pollStateFile,
      `${JSON.stringify({ since: new Date(listing.endMs).toISOString(), recent: listing.recent })}\n`,
    );
    this.listing = null;
    this.lastListingDone = Date.now();
  }

  private readPollState(): { since: number; recent: Record<string, string> } | null {
    try {
      const s = JSON.parse(
        readInputFile(this.pollStateFile, { what: 'poll state', maxBytes: 16 * MB }).toString('utf8'),
      ) as { since?: unknown; recent?: unknown };
      const t = typeof s.since === 'string' ? Date.parse(s.since) : NaN;
      if (Number.isNaN(t)) return null;
      const recent = s.recent && typeof s.recent === 'object' ? (s.recent as Record<string, string>) : {};
      return { since: t, recent };
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    this.log.close();
  }
}

export function createSolapiProvider(
  name: string,
  config: Record<string, unknown>,
  ctx: ProviderContext,
): Provider {
  return new SolapiProvider(name, parseSolapiConfig(name, config), ctx);
}
