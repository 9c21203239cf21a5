import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { coverageWith, RequestLog } from '../requestLog.js';
import { sideStoreOf } from '../sideFiles.js';
import type {
  DeliveryReport,
  LookupHint,
  MessageOutcome,
  OutboundMessage,
  Provider,
  ProviderContext,
  ReportBatch,
  SideState,
  SubmitResult,
} from '../types.js';
import { NhnClient, type NhnHttp } from './client.js';
import {
  AUTH_CODES,
  alimtalkStatus,
  channelStops,
  intakeOutcome,
  kst,
  providerIdOf,
  report,
  senderStops,
  smsStatus,
} from './codes.js';
import { type NhnConfig, parseNhnConfig } from './config.js';
import { IdempotencyKeys } from './idempotency.js';

interface NhnState {
  kinds: Kind[];
  since: number | null;
  reported: Record<string, string>;
  /** MMS attachments uploaded: fileId by the image's sha256 (uploaded once, reused by every run) */
  files: Record<string, number>;
}

/** Search windows start this much before the earliest moment a request could have left (clocks). */
const SLACK_MS = 5 * 60_000;
const DAY_MS = 24 * 3600_000;
/** NHN searches a send list over at most a month (SMS) / 30 days (AlimTalk). */
const MAX_SEARCH_MS = 30 * DAY_MS;

type Endpoint = 'sms' | 'mms' | 'ad-sms' | 'ad-mms' | 'alimtalk';
type Kind = 'sms' | 'alimtalk';

const headerSchema = z.looseObject({
  isSuccessful: z.boolean(),
  resultCode: z.coerce.number(),
  resultMessage: z.string().nullish(),
});
const resultItem = z.looseObject({
  recipientSeq: z.coerce.number().int().nullish(),
  recipientNo: z.string().nullish(),
  resultCode: z.coerce.number(),
  resultMessage: z.string().nullish(),
  recipientGroupingKey: z.string().nullish(),
});
type ResultItem = z.infer<typeof resultItem>;
const smsAnswer = z.looseObject({
  header: headerSchema,
  body: z
    .looseObject({
      data: z.looseObject({ requestId: z.string().nullish(), sendResultList: z.array(resultItem).nullish() }),
    })
    .nullish(),
});
const alimtalkAnswer = z.looseObject({
  header: headerSchema,
  message: z
    .looseObject({ requestId: z.string().nullish(), sendResults: z.array(resultItem).nullish() })
    .nullish(),
});
const smsListAnswer = z.looseObject({
  header: headerSchema,
  body: z
    .looseObject({
      totalCount: z.coerce.number().nullish(),
      data: z.array(
        z.looseObject({
          requestId: z.string(),
          recipientSeq: z.coerce.number().int(),
          recipientNo: z.string().nullish(),
          msgStatus: z.coerce.string().nullish(),
          resultCode: z.coerce.string().nullish(),
          resultDate: z.string().nullish(),
          recipientGroupingKey: z.string().nullish(),
        }),
      ),
    })
    .nullish(),
});
type SmsRow = NonNullable<z.infer<typeof smsListAnswer>['body']>['data'][number];
const kakaoItem = z.looseObject({
  requestId: z.string(),
  recipientSeq: z.coerce.number().int(),
  recipientNo: z.string().nullish(),
  messageStatus: z.string().nullish(),
  resultCode: z.string().nullish(),
  receiveDate: z.string().nullish(),
  recipientGroupingKey: z.string().nullish(),
});
const kakaoListAnswer = z.looseObject({
  header: headerSchema,
  messageSearchResultResponse: z.looseObject({ messages: z.array(kakaoItem) }).nullish(),
});
const kakaoResultsAnswer = z.looseObject({ header: headerSchema, messages: z.array(kakaoItem).nullish() });

/** Thrown while preparing a submission: the whole batch gets this result. */
class SubmitAbort extends Error {
  constructor(readonly result: SubmitResult) {
    super(result.kind);
  }
}

/** Messages of a batch that go in one NHN request (SMS takes one body for all its recipients). */
interface Group {
  endpoint: Endpoint;
  indexes: number[];
  body: Record<string, unknown>;
}

function national(to: string): { recipientNo?: string; internationalRecipientNo?: string } {
  if (to.startsWith('+82')) return { recipientNo: `0${to.slice(3).replace(/^0/, '')}` };
  if (to.startsWith('+')) return { internationalRecipientNo: to.slice(1) };
  return { recipientNo: to };
}

function templateParameters(vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(vars).map(([k, v]) => [k.replace(/^#\{(.+)\}$/, '$1'), String(v)]),
  );
}

/** An ad must begin with (광고) by law (DOMAIN.md): NHN sends those through its ad endpoints. */
function isAd(m: OutboundMessage): boolean {
  return m.text.startsWith('(광고)');
}

/**
 * NHN Cloud Notification: SMS/LMS/MMS through SMS API v3.0 and KakaoTalk AlimTalk through
 * Bizmessage API v2.3. The journal key rides in `recipientGroupingKey`; a lost answer is resolved
 * by searching the send list for those keys over the time the request could have left; AlimTalk
 * requests carry an idempotency key; NHN's own fallback is always off (`isResend: false`), ums
 * sends the fallback leg itself. Reports by polling (AlimTalk message-results, the SMS send list).
 */
export class NhnProvider implements Provider {
  readonly maxBatch: number;
  readonly tps: number;
  readonly maxSubmits: number;
  readonly window?: number;
  readonly client: NhnClient;
  private readonly log: RequestLog;
  private readonly idempotency: IdempotencyKeys;
  /** the state below as it is kept: a file in stateDir, or on PostgreSQL the journal's side state */
  private readonly stored: SideState;
  private readonly state: NhnState;

  constructor(
    readonly name: string,
    private readonly cfg: NhnConfig,
    ctx: ProviderContext,
  ) {
    this.maxBatch = cfg.batchSize;
    this.tps = ctx.tps ?? cfg.tps;
    this.maxSubmits = cfg.maxSubmits;
    if (cfg.window) this.window = cfg.window;
    this.client = new NhnClient(cfg.appKey, cfg.secretKey);
    const side = sideStoreOf(ctx);
    this.log = new RequestLog(side.log(`nhn-${name}-requests.jsonl`));
    this.idempotency = new IdempotencyKeys(side.log(`nhn-${name}-idempotency.jsonl`));
    this.stored = side.state(`nhn-${name}-state.json`);
    this.state = this.readState() ?? { kinds: [], since: null, reported: {}, files: {} };
  }

  private readState(): NhnState | null {
    const text = this.stored.get();
    if (text === null) return null;
    let s: Partial<NhnState>;
    try {
      s = JSON.parse(text) as Partial<NhnState>;
    } catch {
      return null; // not ours (edited by hand): started afresh, as a missing one
    }
    if (!s || typeof s !== 'object') return null;
    return {
      kinds: Array.isArray(s.kinds) ? s.kinds.filter((k): k is Kind => k === 'sms' || k === 'alimtalk') : [],
      since: typeof s.since === 'number' ? s.since : null,
      reported: s.reported && typeof s.reported === 'object' ? s.reported : {},
      files: s.files && typeof s.files === 'object' ? s.files : {},
    };
  }

  /**
   * Take in what other workers of the campaign wrote since (on PostgreSQL they share it): the kinds
   * a dead worker sent, which the look-up of its rows must search; images it uploaded; the reports
   * it acknowledged. Nothing is dropped: kinds and maps are joined, the checkpoint is the later.
   */
  private refresh(): void {
    const s = this.readState();
    if (!s) return;
    const mine = this.state;
    for (const k of s.kinds) if (!mine.kinds.includes(k)) mine.kinds.push(k);
    if (s.since !== null && (mine.since === null || s.since > mine.since)) mine.since = s.since;
    mine.reported = { ...s.reported, ...mine.reported };
    mine.files = { ...s.files, ...mine.files };
  }

  private writeState(): void {
    this.refresh();
    this.stored.put(`${JSON.stringify(this.state)}\n`);
  }

  /**
   * The kinds a look-up searches and a poll asks for: those sent. A state shared by the workers of a
   * campaign (PostgreSQL) is read, merged and written by each without a lock, so two workers first
   * sending two kinds at once may keep only one of them: there, both are asked for (a request
   * more per poll), never a kind missed and its messages taken for never sent.
   */
  private sentKinds(): Kind[] {
    // AlimTalk only where this provider can send it (a senderKey): its look-up fails otherwise
    if (this.log.shared) return this.cfg.senderKey ? ['sms', 'alimtalk'] : ['sms'];
    return this.state.kinds.length ? this.state.kinds : ['sms', 'alimtalk'];
  }

  private kindOf(e: Endpoint): Kind {
    return e === 'alimtalk' ? 'alimtalk' : 'sms';
  }

  private prepare(batch: OutboundMessage[], files: Map<string, number>): Group[] {
    const fatal = (message: string): never => {
      throw new SubmitAbort({ kind: 'fatal', message });
    };
    const groups = new Map<string, Group>();
    batch.forEach((m, i) => {
      if (m.key.length > 100)
        fatal(
          `message key "${m.key.slice(0, 40)}…" is longer than NHN's 100-character recipientGroupingKey: use a shorter --campaign id`,
        );
      let endpoint: Endpoint;
      let gk: string;
      let shared: Record<string, unknown>;
      let recipient: Record<string, unknown>;
      if (m.channel === 'alimtalk') {
        const k = m.kakao ?? fatal(`AlimTalk row without its Kakao options (template) (key ${m.key})`);
        const senderKey =
          this.cfg.senderKey ??
          (k.pfId ||
            fatal(`providers.${this.name}.senderKey: not set (AlimTalk needs the sender profile's key)`));
        endpoint = 'alimtalk';
        gk = `alimtalk\0${senderKey}\0${k.templateId}`;
        shared = { senderKey, templateCode: k.templateId };
        const national0 = national(m.to);
        if (!national0.recipientNo)
          fatal(`AlimTalk to an international number is not planned (key ${m.key})`);
        recipient = {
          recipientNo: national0.recipientNo,
          ...(Object.keys(k.variables).length ? { templateParameter: templateParameters(k.variables) } : {}),
          // always: NHN's own fallback (console setting) must never run; ums sends the fallback leg
          resendParameter: { isResend: false },
          recipientGroupingKey: m.key,
        };
      } else if (m.channel === 'sms' || m.channel === 'lms' || m.channel === 'mms') {
        if (!m.from)
          fatal(
            'no sender number: set `from:` in the config (or the template) to a number registered with NHN',
          );
        const long = m.channel !== 'sms';
        const attach = m.channel === 'mms' ? (m.images ?? []).map((f) => files.get(f)!) : [];
        endpoint = `${isAd(m) ? 'ad-' : ''}${long ? 'mms' : 'sms'}` as Endpoint;
        shared = {
          body: m.text,
          sendNo: m.from,
          ...(long ? { title: m.subject ?? '' } : {}),
          ...(attach.length ? { attachFileIdList: attach } : {}),
        };
        gk = `${endpoint}\0${m.from}\0${m.subject ?? ''}\0${m.text}\0${attach.join(',')}`;
        recipient = { ...national(m.to), recipientGroupingKey: m.key };
      } else {
        throw new SubmitAbort({
          kind: 'fatal',
          message: `NHN does not carry ${m.channel} messages here (key ${m.key})`,
        });
      }
      let g = groups.get(gk);
      if (!g) {
        g = { endpoint, indexes: [], body: { ...shared, recipientList: [] } };
        groups.set(gk, g);
      }
      g.indexes.push(i);
      (g.body.recipientList as unknown[]).push(recipient);
    });
    return [...groups.values()];
  }

  /**
   * The NHN fileId of every MMS image in the batch, uploaded through attachfile/binaryUpload the first
   * time it is needed and kept in the state file by content (so once per campaign, across runs). An
   * upload is not a message: one whose answer was lost is simply made again (nothing was sent).
   */
  private async attachments(batch: OutboundMessage[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const file of new Set(batch.flatMap((m) => (m.channel === 'mms' ? (m.images ?? []) : [])))) {
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(file);
      } catch (err) {
        throw new SubmitAbort({
          kind: 'fatal',
          message: `cannot read the MMS image ${path.basename(file)} (${(err as NodeJS.ErrnoException).code ?? 'error'}): nothing was sent`,
        });
      }
      const sha = createHash('sha256').update(bytes).digest('hex');
      // another worker may have uploaded it meanwhile
      if (typeof this.state.files[sha] !== 'number') this.refresh();
      const known = this.state.files[sha];
      if (typeof known === 'number') {
        out.set(file, known);
        continue;
      }
      // requests in flight at once share one upload
      let pending = this.uploading.get(sha);
      if (!pending) {
        pending = this.upload(file, bytes, sha);
        this.uploading.set(sha, pending);
        pending.catch(() => undefined).finally(() => this.uploading.delete(sha));
      }
      out.set(file, await pending);
    }
    return out;
  }

  private readonly uploading = new Map<string, Promise<number>>();

  private async upload(file: string, bytes: Buffer, sha: string): Promise<number> {
    const base = path.basename(file).replace(/\.jpe?g$/i, '');
    const res = await this.client.request(
      'POST',
      this.cfg.baseUrl,
      `/sms/v3.0/appKeys/${encodeURIComponent(this.cfg.appKey)}/attachfile/binaryUpload`,
      // NHN takes a name of at most 45 characters ending in lower-case .jpg/.jpeg
      { fileName: `${base.slice(0, 40)}.jpg`, createUser: 'ums', fileBody: bytes.toString('base64') },
      this.cfg.timeoutMs,
    );
    if (res.kind !== 'answer')
      throw new SubmitAbort({
        kind: 'unavailable',
        message: `uploading the MMS image ${path.basename(file)}: ${res.message}`,
      });
    const body = res.body as {
      header?: { isSuccessful?: unknown; resultCode?: unknown; resultMessage?: unknown };
      body?: { data?: { fileId?: unknown } };
    } | null;
    const said = this.client.scrub(
      `HTTP ${res.status}${body?.header ? ` ${String(body.header.resultCode)}: ${String(body.header.resultMessage ?? '')}` : ''}`,
    );
    if (res.status === 401 || res.status === 403 || AUTH_CODES.has(Number(body?.header?.resultCode)))
      throw new SubmitAbort({
        kind: 'fatal',
        message: `NHN refused our credentials (${said}); check providers.${this.name}.appKey and secretKey`,
      });
    if (res.status === 429 || res.status >= 500)
      throw new SubmitAbort({
        kind: res.status === 429 ? 'throttled' : 'unavailable',
        message: `uploading the MMS image ${path.basename(file)}: NHN answered ${said}`,
      });
    const id = Number(body?.body?.data?.fileId);
    if (res.status !== 200 || body?.header?.isSuccessful !== true || !Number.isFinite(id))
      throw new SubmitAbort({
        kind: 'fatal',
        message: `NHN refused the MMS image ${path.basename(file)} (${said}): nothing was sent`,
      });
    this.state.files[sha] = id;
    try {
      this.writeState();
    } catch {
      /* uploaded again next run at worst */
    }
    return id;
  }

  async submit(batch: OutboundMessage[]): Promise<SubmitResult> {
    let groups: Group[];
    try {
      const files = await this.attachments(batch);
      groups = this.prepare(batch, files);
    } catch (err) {
      if (err instanceof SubmitAbort) return err.result;
      throw err;
    }
    const outcomes: (MessageOutcome | undefined)[] = new Array(batch.length);
    let sentAny = false;
    for (const [gi, g] of groups.entries()) {
      const keys = g.indexes.map((i) => batch[i]!.key);
      const r = await this.sendGroup(g, keys);
      if (r.kind === 'results') {
        g.indexes.forEach((i, j) => {
          outcomes[i] = r.outcomes[j];
        });
        sentAny = true;
        continue;
      }
      // Only the first request's failure can speak for the whole batch; after one was taken, the
      // rest is said per message (ambiguous: the whole batch is looked up by key, which is exact).
      if (!sentAny || r.kind === 'ambiguous') return r;
      const rest = groups.slice(gi).flatMap((x) => x.indexes);
      for (const i of rest) {
        outcomes[i] =
          r.kind === 'fatal'
            ? { kind: 'rejected', code: 'STOPPED', message: r.message, retryable: false, stopsRun: r.message }
            : { kind: 'throttled' };
      }
      break;
    }
    return { kind: 'results', outcomes: outcomes as MessageOutcome[] };
  }

  private async sendGroup(g: Group, keys: string[]): Promise<SubmitResult> {
    const kind = this.kindOf(g.endpoint);
    try {
      if (!this.state.kinds.includes(kind)) {
        this.state.kinds.push(kind);
        this.writeState();
      }
      // Written before the request leaves: a lookup after any crash knows it may have.
      this.log.record(keys, Date.now());
    } catch (err) {
      return {
        kind: 'fatal',
        message: `${(err as Error).message}; nothing is lost: free the space, then run \`ums resume\``,
      };
    }
    const alimtalk = kind === 'alimtalk';
    const res = alimtalk
      ? await this.client.request(
          'POST',
          this.cfg.alimtalkBaseUrl,
          `/alimtalk/v2.3/appkeys/${encodeURIComponent(this.cfg.appKey)}/messages`,
          g.body,
          this.cfg.timeoutMs,
          { 'X-NC-API-IDEMPOTENCY-KEY': this.idempotency.keyFor(keys) },
        )
      : await this.client.request(
          'POST',
          this.cfg.baseUrl,
          `/sms/v3.0/appKeys/${encodeURIComponent(this.cfg.appKey)}/sender/${g.endpoint}`,
          g.body,
          this.cfg.timeoutMs,
        );
    const result = this.classify(res, keys, alimtalk);
    // A definite answer: NHN keeps none of what it refused, so a later request for the same set is
    // a new one (new key). After an ambiguous one every retry keeps the key (-1005, then a look-up).
    if (alimtalk && result.kind !== 'ambiguous') this.idempotency.answered(keys);
    return result;
  }

  /** What an answer to a send means (exported through the class for unit tests). */
  classify(res: NhnHttp, keys: string[], alimtalk: boolean): SubmitResult {
    if (res.kind === 'not-sent') return { kind: 'unavailable', message: res.message };
    if (res.kind === 'no-answer') return { kind: 'ambiguous', message: res.message };
    const h = (res.body as { header?: { resultCode?: unknown; resultMessage?: unknown } } | null)?.header;
    const said = this.client.scrub(
      `HTTP ${res.status}${h ? ` ${String(h.resultCode)}: ${String(h.resultMessage ?? '')}` : ''}`,
    );
    if (res.status === 429) return { kind: 'throttled', message: `NHN: too many requests (${said})` };
    if (res.status === 401 || res.status === 403 || (h && AUTH_CODES.has(Number(h.resultCode))))
      return {
        kind: 'fatal',
        message: `NHN refused our credentials (${said}); check providers.${this.name}.appKey and secretKey`,
      };
    if (res.status === 503 || res.status === 502)
      return { kind: 'unavailable', message: `NHN unavailable (${said})` };
    if (res.status >= 500) return { kind: 'ambiguous', message: `NHN answered ${said}` };
    if (res.status !== 200) return { kind: 'fatal', message: `NHN refused the request (${said})` };
    const parsed = (alimtalk ? alimtalkAnswer : smsAnswer).safeParse(res.body);
    if (!parsed.success)
      return { kind: 'ambiguous', message: `NHN answered 200 in a shape ums does not know (${said})` };
    const header = parsed.data.header;
    const data = alimtalk
      ? (parsed.data as z.infer<typeof alimtalkAnswer>).message
      : (parsed.data as z.infer<typeof smsAnswer>).body?.data;
    const items =
      (alimtalk
        ? (data as { sendResults?: ResultItem[] | null } | null | undefined)?.sendResults
        : (data as { sendResultList?: ResultItem[] | null } | null | undefined)?.sendResultList) ?? null;
    const requestId = data?.requestId ?? null;
    if (!header.isSuccessful) {
      const code = header.resultCode;
      if (alimtalk && code === -1005)
        // NHN already has a request with this idempotency key: never resend, look it up
        return {
          kind: 'ambiguous',
          message: `NHN already holds this batch (-1005, idempotency key): looking it up`,
        };
      if (channelStops(code) || senderStops(code)) {
        const o = intakeOutcome(code, header.resultMessage, null);
        return { kind: 'results', outcomes: keys.map(() => o) };
      }
      // Since 2025-04-29 an all-failed AlimTalk answers failure, requestId null, with its sendResults.
      if (items?.length) return { kind: 'results', outcomes: this.place(keys, items, null) };
      if (code === -9999 || code === -2021) return { kind: 'ambiguous', message: `NHN answered ${said}` };
      return { kind: 'fatal', message: `NHN refused the request (${said})` };
    }
    if (!items || (!requestId && items.some((x) => x.resultCode === 0)))
      return { kind: 'ambiguous', message: `NHN answered success without its results (${said})` };
    return { kind: 'results', outcomes: this.place(keys, items, requestId) };
  }

  private place(keys: string[], items: ResultItem[], requestId: string | null): MessageOutcome[] {
    const out: (MessageOutcome | undefined)[] = new Array(keys.length);
    const index = new Map(keys.map((k, i) => [k, i]));
    items.forEach((x, j) => {
      let i = x.recipientGroupingKey ? index.get(x.recipientGroupingKey) : undefined;
      if (i === undefined && x.recipientSeq) i = x.recipientSeq - 1;
      if (i === undefined) i = j;
      if (i < 0 || i >= keys.length || out[i]) return;
      const seq = x.recipientSeq ?? j + 1;
      out[i] = intakeOutcome(x.resultCode, x.resultMessage, requestId ? providerIdOf(requestId, seq) : null);
    });
    return out as MessageOutcome[];
  }

  private async get(base: string, p: string): Promise<unknown> {
    let last = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, 300 * attempt));
      const res = await this.client.request('GET', base, p, undefined, this.cfg.timeoutMs);
      if (res.kind === 'answer' && res.status === 200) return res.body;
      last = res.kind === 'answer' ? `HTTP ${res.status}` : res.message;
      if (res.kind === 'answer' && (res.status === 401 || res.status === 403)) break;
    }
    throw new Error(`searching NHN failed (${this.client.scrub(last)}): cannot tell what it holds`);
  }

  /** Every SMS send-list row in [lo, hi) (create date), optionally for one grouping key. */
  private async smsRows(lo: number, hi: number, key?: string): Promise<SmsRow[]> {
    const rows: SmsRow[] = [];
    for (const list of ['sms', 'mms']) {
      for (let page = 1; ; page++) {
        const q = new URLSearchParams({
          startCreateDate: kst(lo),
          endCreateDate: kst(hi),
          pageNum: String(page),
          pageSize: String(this.cfg.pageSize),
          ...(key ? { recipientGroupingKey: key } : {}),
        });
        const body = await this.get(
          this.cfg.baseUrl,
          `/sms/v3.0/appKeys/${encodeURIComponent(this.cfg.appKey)}/sender/${list}?${q}`,
        );
        const a = smsListAnswer.safeParse(body);
        if (!a.success || !a.data.header.isSuccessful || !a.data.body)
          throw new Error(
            'NHN answered the SMS send-list search in a shape ums does not know: cannot tell what it holds',
          );
        rows.push(...a.data.body.data);
        if (a.data.body.data.length < this.cfg.pageSize) break;
      }
    }
    return rows;
  }

  /** Every AlimTalk message in [lo, hi) by create date (minutes), optionally for one grouping key. */
  private async kakaoRows(lo: number, hi: number, key?: string): Promise<z.infer<typeof kakaoItem>[]> {
    const rows: z.infer<typeof kakaoItem>[] = [];
    for (let page = 1; ; page++) {
      const q = new URLSearchParams({
        startCreateDate: kst(lo, false),
        endCreateDate: kst(hi, false),
        pageNum: String(page),
        pageSize: String(this.cfg.pageSize),
        ...(key ? { recipientGroupingKey: key } : {}),
      });
      const body = await this.get(
        this.cfg.alimtalkBaseUrl,
        `/alimtalk/v2.3/appkeys/${encodeURIComponent(this.cfg.appKey)}/messages?${q}`,
      );
      const a = kakaoListAnswer.safeParse(body);
      if (!a.success || !a.data.header.isSuccessful || !a.data.messageSearchResultResponse)
        throw new Error(
          'NHN answered the AlimTalk message search in a shape ums does not know: cannot tell what it holds',
        );
      const msgs = a.data.messageSearchResultResponse.messages;
      rows.push(...msgs);
      if (msgs.length < this.cfg.pageSize) break;
    }
    return rows;
  }

  /**
   * Which of these keys NHN holds: the request log says which keys ever left and since when; the
   * send lists are searched from then to now (by grouping key when there are few, else the whole
   * window) and our key matched in each row's recipientGroupingKey. Keys that never left are not there.
   */
  async lookup(keys: string[], hint?: LookupHint): Promise<Map<string, { providerId: string }>> {
    const found = new Map<string, { providerId: string }>();
    // the keys may be a dead worker's: search the kinds it sent, and resend with its generations
    this.refresh();
    this.idempotency.reload();
    const { sent, since } = coverageWith(this.log, keys, hint);
    if (!sent.length || since === null) return found;
    const hi = Date.now() + SLACK_MS;
    const lo = Math.max(since - SLACK_MS, hi - MAX_SEARCH_MS);
    const want = new Set(sent);
    const few = sent.length <= 5;
    for (const kind of this.sentKinds()) {
      for (const k of few ? sent : [undefined]) {
        const rows: { requestId: string; recipientSeq: number; recipientGroupingKey?: string | null }[] =
          kind === 'sms' ? await this.smsRows(lo, hi, k) : await this.kakaoRows(lo, hi, k);
        for (const r of rows) {
          const key = r.recipientGroupingKey;
          if (key && want.has(key) && !found.has(key))
            found.set(key, { providerId: providerIdOf(r.requestId, r.recipientSeq) });
        }
      }
    }
    return found;
  }

  /**
   * Reports by polling: AlimTalk message-results in update-time windows of at most a day from the
   * last acknowledged poll, page by page, and the SMS send list since the first request. Reports
   * already acknowledged with the same code are not made again; a changed code is.
   */
  async pollReports(): Promise<ReportBatch> {
    const now = Date.now();
    const first = this.log.firstAt();
    if (first === null) return { reports: [], ack: async () => undefined };
    this.refresh(); // the kinds other workers sent have reports to poll too
    const reports: DeliveryReport[] = [];
    const fresh: Record<string, string> = {};
    const add = (r: DeliveryReport): void => {
      const id = r.providerId!;
      if (this.state.reported[id] === r.code || fresh[id] === r.code) return;
      fresh[id] = r.code;
      reports.push(r);
    };
    const kinds = this.log.shared ? this.sentKinds() : this.state.kinds;
    if (kinds.includes('alimtalk')) {
      let lo = Math.max(this.state.since ?? first - SLACK_MS, now - MAX_SEARCH_MS);
      const end = now + 60_000;
      while (lo < end) {
        const hi = Math.min(lo + DAY_MS - 60_000, end);
        for (let page = 1; ; page++) {
          const q = new URLSearchParams({
            startUpdateDate: kst(lo, false),
            endUpdateDate: kst(hi, false),
            pageNum: String(page),
            pageSize: String(this.cfg.pageSize),
          });
          const body = await this.get(
            this.cfg.alimtalkBaseUrl,
            `/alimtalk/v2.3/appkeys/${encodeURIComponent(this.cfg.appKey)}/message-results?${q}`,
          );
          const a = kakaoResultsAnswer.safeParse(body);
          if (!a.success || !a.data.header.isSuccessful)
            throw new Error('NHN answered message-results in a shape ums does not know');
          const msgs = a.data.messages ?? [];
          for (const m of msgs) {
            const status = alimtalkStatus(m.resultCode, m.messageStatus);
            if (status)
              add(
                report(
                  m.recipientGroupingKey ?? null,
                  providerIdOf(m.requestId, m.recipientSeq),
                  status,
                  m.resultCode,
                  m.receiveDate,
                ),
              );
          }
          if (msgs.length < this.cfg.pageSize) break;
        }
        lo = hi;
      }
    }
    if (kinds.includes('sms')) {
      const rows = await this.smsRows(Math.max(first - SLACK_MS, now - MAX_SEARCH_MS), now + SLACK_MS);
      for (const r of rows) {
        const status = smsStatus(r.msgStatus);
        if (status)
          add(
            report(
              r.recipientGroupingKey ?? null,
              providerIdOf(r.requestId, r.recipientSeq),
              status,
              r.resultCode,
              r.resultDate,
            ),
          );
      }
    }
    return {
      reports,
      ack: async () => {
        Object.assign(this.state.reported, fresh);
        // the next AlimTalk window overlaps by the slack (late updates, clocks); repeats are filtered
        this.state.since = now - SLACK_MS;
        this.writeState();
      },
    };
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.log.close();
    this.idempotency.close();
  }
}

export function createNhnProvider(
  name: string,
  config: Record<string, unknown>,
  ctx: ProviderContext,
): Provider {
  return new NhnProvider(name, parseNhnConfig(name, config), ctx);
}
