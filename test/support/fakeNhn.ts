import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fake NHN Cloud Notification API on 127.0.0.1, written from NHN's documents (SMS API v3.0,
 * KakaoTalk Bizmessage AlimTalk API v2.3, their result codes, webhooks and release notes), not from
 * our client. It records every recipient it accepted whatever became of the answer, so a test can
 * count per recipient what NHN really took.
 *
 * - SMS: POST /sms/v3.0/appKeys/{appKey}/sender/{sms|mms|ad-sms|ad-mms}; the send list
 *   GET /sms/v3.0/appKeys/{appKey}/sender/{sms|mms} by create (or request) date window, optionally
 *   by recipientGroupingKey, paged (pageNum, pageSize <= 1000).
 * - AlimTalk: POST /alimtalk/v2.3/appkeys/{appkey}/messages with X-NC-API-IDEMPOTENCY-KEY (the same
 *   key again within 10 minutes: -1005); GET .../messages (by create date window, grouping key);
 *   GET .../message-results by update date window (at most one day), paged.
 * - Every request needs X-Secret-Key and the appKey in the path; at most 1,000 recipients.
 * - A recipient of an AlimTalk without `resendParameter.isResend: false` that fails is sent an
 *   SMS by the fake itself (recorded in `vendorFallbacks`): the vendor fell back.
 * - Since 2025-04-29 an AlimTalk request in which every recipient failed answers failure with
 *   `requestId: null` (and its sendResults); `legacyAllFailed` gives the old success shape.
 *
 * Numbers: `outcomes` says per number; otherwise 0100000CCCC ends with code CCCC: 1021-1027 refuse
 * AlimTalk at intake (the channel is blocked/closed), other values are the final result code
 * (AlimTalk 3005 sent-unconfirmed, 3018-3021 not deliverable; SMS 3xxx carrier failures). Anything
 * else is delivered (1000).
 */
export interface NhnOutcome {
  /** the intake code in sendResults (0: accepted) */
  intake?: number;
  /** the final result code (1000 delivered) */
  result?: string;
}

export interface FakeNhnOptions {
  appKey: string;
  secretKey: string;
  /** requests accepted per rolling second; more -> HTTP 429 (0: no limit) */
  tps: number;
  /** ms from acceptance to the final result */
  reportDelayMs: number;
  /** send requests (1-based count) whose answer is dropped after the recipients were recorded */
  dropAnswer: (n: number) => boolean;
  /** send requests (1-based count) taken and never answered (the connection stays open until it closes) */
  hangAnswer: (n: number) => boolean;
  /** answer every send with this HTTP status before looking at it (e.g. 503) */
  failSendsWith: number | null;
  /** the message sent with failSendsWith (a server that echoes what it was sent, secrets included) */
  failSendsMessage: string;
  /** a body to answer send requests with, 200, taking nothing (undefined: answer as NHN) */
  sendAnswer: (n: number) => unknown;
  /** a body to answer list/result searches with, 200 (undefined: answer as NHN) */
  listAnswer: (n: number) => unknown;
  /** per-number outcomes */
  outcomes: Record<string, NhnOutcome>;
  /**
   * an intake code refusing every recipient of send request n (e.g. 1021 a blocked channel, -2021
   * NHN's queue error), null: as usual. The AlimTalk idempotency key is consumed all the same.
   */
  refuse: (n: number) => number | null;
  /** the all-failed AlimTalk answer before 2025-04-29: success, with a requestId */
  legacyAllFailed: boolean;
  /** the webhook signature set in the console */
  webhookSignature: string;
}

export interface NhnRecord {
  kind: 'sms' | 'alimtalk';
  /** sms, mms, ad-sms, ad-mms, alimtalk */
  endpoint: string;
  requestId: string;
  recipientSeq: number;
  recipientNo: string;
  recipientGroupingKey: string | null;
  sendNo: string | null;
  title: string | null;
  body: string | null;
  senderKey: string | null;
  templateCode: string | null;
  templateParameter: Record<string, string> | null;
  resendParameter: Record<string, unknown> | null;
  idempotencyKey: string | null;
  /** MMS: the uploaded files it carries */
  attachFileIdList: number[] | null;
  createdAt: number;
  /** the final result code, once final */
  resultCode: string;
  finalAt: number;
}

export interface VendorFallback {
  recipientNo: string;
  requestId: string;
  recipientSeq: number;
  resultCode: string;
}

const KST_MS = 9 * 3600_000;

/** `yyyy-MM-dd HH:mm[:ss]` in Asia/Seoul as NHN writes dates; NaN when it is not one. */
export function parseKst(s: string | null): number {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s ?? '');
  if (!m) return Number.NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0)) - KST_MS;
}

export function formatKst(ms: number, seconds = true): string {
  const d = new Date(ms + KST_MS).toISOString();
  return `${d.slice(0, 10)} ${d.slice(11, seconds ? 19 : 16)}`;
}

const DEFAULTS: FakeNhnOptions = {
  appKey: 'nhn-app-key',
  secretKey: 'nhn-secret',
  tps: 0,
  reportDelayMs: 0,
  dropAnswer: () => false,
  hangAnswer: () => false,
  failSendsWith: null,
  failSendsMessage: 'unavailable',
  sendAnswer: () => undefined,
  listAnswer: () => undefined,
  outcomes: {},
  refuse: () => null,
  legacyAllFailed: false,
  webhookSignature: 'nhn-webhook-signature',
};

const header = (resultCode: number, resultMessage: string) => ({
  resultCode,
  resultMessage,
  isSuccessful: resultCode === 0,
});

export class FakeNhn {
  readonly opts: FakeNhnOptions;
  readonly records: NhnRecord[] = [];
  readonly vendorFallbacks: VendorFallback[] = [];
  /** every send request as it arrived (headers and body), answered or not */
  readonly requests: { path: string; idempotencyKey: string | null; body: unknown }[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly recent: number[] = [];
  private readonly idempotency = new Map<string, number>();
  /** MMS attachments uploaded (attachfile/binaryUpload), by fileId */
  readonly files = new Map<number, { fileName: string; bytes: Buffer; createUser: string }>();
  private sends = 0;
  /** send requests taken and left unanswered (hangAnswer) */
  hung = 0;
  private lists = 0;
  private seq = 0;
  port = 0;

  private constructor(opts: Partial<FakeNhnOptions>) {
    this.opts = { ...DEFAULTS, ...opts };
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(opts: Partial<FakeNhnOptions> = {}): Promise<FakeNhn> {
    const f = new FakeNhn(opts);
    await new Promise<void>((resolve) => f.server.listen(0, '127.0.0.1', resolve));
    f.port = (f.server.address() as AddressInfo).port;
    return f;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** send requests that arrived (counted before anything is checked) */
  get sendRequests(): number {
    return this.sends;
  }

  /** Go down: refuse connections and cut the open ones (answers in flight are lost). */
  async stopListening(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Back up, on the same port. */
  async listenAgain(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Accepted recipients (intake 0) by number: a test asserts exactly-once with it. */
  accepted(kind?: 'sms' | 'alimtalk'): NhnRecord[] {
    return this.records.filter((r) => kind === undefined || r.kind === kind);
  }

  byKey(key: string): NhnRecord | undefined {
    return this.records.find((r) => r.recipientGroupingKey === key);
  }

  /** POST a webhook as NHN does: `{hooksId, webhookConfigId, productName, appKey, event, hooks}`. */
  async postWebhook(
    url: string,
    event: 'MESSAGE_RESULT_UPDATE' | 'UNSUBSCRIBE',
    hooks: Record<string, unknown>[],
    signature = this.opts.webhookSignature,
  ): Promise<number> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json;charset=UTF-8', 'X-Toast-Webhook-Signature': signature },
      body: JSON.stringify({
        hooksId: `hooks${Date.now()}`,
        webhookConfigId: 'cfg',
        productName: event === 'UNSUBSCRIBE' ? 'SMS' : 'KakaoTalk Bizmessage',
        appKey: this.opts.appKey,
        event,
        hooks,
      }),
    });
    await res.text();
    return res.status;
  }

  /** The MESSAGE_RESULT_UPDATE hook of a final record. */
  resultHook(r: NhnRecord): Record<string, unknown> {
    return {
      hookId: `hook-${r.requestId}-${r.recipientSeq}`,
      requestId: r.requestId,
      recipientSeq: r.recipientSeq,
      requestDate: formatKst(r.createdAt),
      createDate: formatKst(r.createdAt),
      receiveDate: formatKst(r.finalAt),
      recipientNo: r.recipientNo,
      resultCode: r.resultCode,
      senderGroupingKey: null,
      recipientGroupingKey: r.recipientGroupingKey,
      ...(r.kind === 'alimtalk'
        ? { kakaoMessageType: 'ALIMTALK_NORMAL' }
        : { senderType: 'NORMAL_SMS', messageStatus: r.resultCode === '1000' ? 'COMPLETED' : 'FAILED' }),
    };
  }

  private outcome(no: string, kind: 'sms' | 'alimtalk'): { intake: number; result: string } {
    const o = this.opts.outcomes[no];
    if (o) return { intake: o.intake ?? 0, result: o.result ?? '1000' };
    const m = /^0100000(\d{4})$/.exec(no);
    if (m) {
      const c = Number(m[1]);
      if (kind === 'alimtalk' && c >= 1021 && c <= 1027) return { intake: c, result: '1000' };
      return { intake: 0, result: m[1]! };
    }
    return { intake: 0, result: '1000' };
  }

  private throttled(): boolean {
    if (!this.opts.tps) return false;
    const now = Date.now();
    while (this.recent.length && this.recent[0]! <= now - 1000) this.recent.shift();
    if (this.recent.length + 1 > this.opts.tps) return true;
    this.recent.push(now);
    return false;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json;charset=UTF-8' });
      res.end(JSON.stringify(body));
    };
    const upload = /^\/sms\/v3\.0\/appKeys\/([^/]+)\/attachfile\/binaryUpload$/.exec(url.pathname);
    if (upload && req.method === 'POST') {
      if (req.headers['x-secret-key'] !== this.opts.secretKey)
        return reply(401, { header: header(-1001, 'Invalid secretKey.') });
      if (decodeURIComponent(upload[1]!) !== this.opts.appKey)
        return reply(200, { header: header(-1000, 'Invalid appKey.') });
      return reply(200, this.upload(Buffer.concat(chunks)));
    }
    const sms = /^\/sms\/v3\.0\/appKeys\/([^/]+)\/sender\/(sms|mms|ad-sms|ad-mms)$/.exec(url.pathname);
    const kakao = /^\/alimtalk\/v2\.3\/appkeys\/([^/]+)\/(messages|message-results)$/.exec(url.pathname);
    const m = sms ?? kakao;
    if (!m) return reply(404, { header: header(-9998, 'Not exist API.') });
    if (req.headers['x-secret-key'] !== this.opts.secretKey)
      return reply(401, { header: header(-1001, 'Invalid secretKey.') });
    if (decodeURIComponent(m[1]!) !== this.opts.appKey)
      return reply(200, { header: header(-1000, 'Invalid appKey.') });

    if (req.method === 'GET') {
      const n = ++this.lists;
      const odd = this.opts.listAnswer(n);
      if (odd !== undefined) return reply(200, odd);
      if (sms) return reply(200, this.smsList(sms[2]!, url.searchParams));
      if (kakao![2] === 'message-results') return reply(200, this.results(url.searchParams));
      return reply(200, this.alimtalkList(url.searchParams));
    }
    if (req.method !== 'POST' || kakao?.[2] === 'message-results')
      return reply(405, { header: header(-9998, 'Not exist API.') });

    const n = ++this.sends;
    if (this.opts.failSendsWith !== null)
      return reply(this.opts.failSendsWith, { header: header(-9999, this.opts.failSendsMessage) });
    if (this.throttled()) return reply(429, { header: header(-9999, 'Too many requests.') });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return reply(200, { header: header(-9997, 'Invalid API parameters.') });
    }
    const idem = (req.headers['x-nc-api-idempotency-key'] as string | undefined) ?? null;
    this.requests.push({ path: url.pathname, idempotencyKey: idem, body });
    const odd = this.opts.sendAnswer(n);
    if (odd !== undefined) return reply(200, odd);
    const list = Array.isArray(body.recipientList) ? (body.recipientList as Record<string, unknown>[]) : [];
    if (!list.length) return reply(200, { header: header(-2001, 'RecipientList can not be null.') });
    if (list.length > 1000) return reply(200, { header: header(-2016, 'The max recipient size is 1000.') });

    let answer: unknown;
    if (sms) answer = this.acceptSms(sms[2]!, body, list, this.opts.refuse(n));
    else {
      if (idem !== null) {
        const at = this.idempotency.get(idem);
        if (at !== undefined && Date.now() - at < 10 * 60_000) {
          return reply(200, {
            header: header(-1005, "The same 'X-NC-API-IDEMPOTENCY-KEY' was used within the last 10 minute."),
          });
        }
        this.idempotency.set(idem, Date.now());
      }
      answer = this.acceptAlimtalk(body, list, idem, this.opts.refuse(n));
    }
    if (this.opts.dropAnswer(n)) {
      req.socket.destroy();
      return;
    }
    if (this.opts.hangAnswer(n)) {
      this.hung++;
      return;
    }
    reply(200, answer);
  }

  /** attachfile/binaryUpload: a jpg named at most 45 characters (lower-case .jpg/.jpeg), Base64 of at most 300 KB. */
  private upload(raw: Buffer): unknown {
    let b: { fileName?: unknown; fileBody?: unknown; createUser?: unknown };
    try {
      b = JSON.parse(raw.toString('utf8')) as typeof b;
    } catch {
      return { header: header(-9997, 'Invalid API parameters.') };
    }
    if (typeof b.fileName !== 'string' || b.fileName.length > 45 || !/\.(jpg|jpeg)$/.test(b.fileName))
      return { header: header(-2000, 'The fileName must be a jpg of at most 45 characters.') };
    if (typeof b.createUser !== 'string' || !b.createUser)
      return { header: header(-2001, "The 'createUser' must not be blank.") };
    if (typeof b.fileBody !== 'string') return { header: header(-2001, "The 'fileBody' must not be blank.") };
    const bytes = Buffer.from(b.fileBody, 'base64');
    if (!bytes.length || bytes.length > 300 * 1024 || bytes[0] !== 0xff || bytes[1] !== 0xd8)
      return { header: header(-2000, 'The fileBody must be a jpg of at most 300K.') };
    const fileId = 100 + this.files.size + 1;
    this.files.set(fileId, { fileName: b.fileName, bytes, createUser: b.createUser });
    return {
      header: header(0, 'SUCCESS'),
      body: { data: { fileId, fileName: b.fileName, filePath: `/attach/${fileId}/${b.fileName}` } },
    };
  }

  private newRequestId(): string {
    return `${formatKst(Date.now()).replace(/\D/g, '')}fake${String(++this.seq).padStart(6, '0')}`;
  }

  private record(
    kind: 'sms' | 'alimtalk',
    endpoint: string,
    requestId: string,
    seq: number,
    body: Record<string, unknown>,
    r: Record<string, unknown>,
    result: string,
    idem: string | null,
  ): NhnRecord {
    const now = Date.now();
    const rec: NhnRecord = {
      kind,
      endpoint,
      requestId,
      recipientSeq: seq,
      recipientNo: String(r.recipientNo ?? r.internationalRecipientNo ?? ''),
      recipientGroupingKey: typeof r.recipientGroupingKey === 'string' ? r.recipientGroupingKey : null,
      sendNo: typeof body.sendNo === 'string' ? body.sendNo : null,
      title: typeof body.title === 'string' ? body.title : null,
      body: typeof body.body === 'string' ? body.body : null,
      senderKey: typeof body.senderKey === 'string' ? body.senderKey : null,
      templateCode: typeof body.templateCode === 'string' ? body.templateCode : null,
      templateParameter: (r.templateParameter as Record<string, string>) ?? null,
      resendParameter: (r.resendParameter as Record<string, unknown>) ?? null,
      idempotencyKey: idem,
      attachFileIdList: Array.isArray(body.attachFileIdList) ? (body.attachFileIdList as number[]) : null,
      createdAt: now,
      resultCode: result,
      finalAt: now + this.opts.reportDelayMs,
    };
    this.records.push(rec);
    return rec;
  }

  private acceptSms(
    endpoint: string,
    body: Record<string, unknown>,
    list: Record<string, unknown>[],
    refuse: number | null,
  ): unknown {
    if (typeof body.body !== 'string' || !body.body)
      return { header: header(-2014, 'The body can not be empty.') };
    if (typeof body.sendNo !== 'string' || !body.sendNo)
      return { header: header(-2312, 'Not regist sendno.') };
    if (body.attachFileIdList !== undefined) {
      const ids = body.attachFileIdList;
      if (
        !endpoint.endsWith('mms') ||
        !Array.isArray(ids) ||
        ids.length > 3 ||
        !ids.every((id) => this.files.has(Number(id)))
      )
        return { header: header(-2018, 'Invalid attachFileIdList.') };
    }
    const requestId = this.newRequestId();
    const sendResultList = list.map((r, i) => {
      const no = String(r.recipientNo ?? r.internationalRecipientNo ?? '');
      const o = refuse === null ? this.outcome(no, 'sms') : { intake: refuse, result: '' };
      if (o.intake === 0) this.record('sms', endpoint, requestId, i + 1, body, r, o.result, null);
      return {
        recipientNo: no,
        resultCode: o.intake,
        resultMessage: o.intake === 0 ? 'SUCCESS' : 'refused',
        recipientSeq: i + 1,
        recipientGroupingKey: r.recipientGroupingKey ?? null,
      };
    });
    return {
      header: header(0, 'SUCCESS'),
      body: {
        data: {
          requestId,
          statusCode: '2',
          senderGroupingKey: body.senderGroupingKey ?? null,
          sendResultList,
        },
      },
    };
  }

  private acceptAlimtalk(
    body: Record<string, unknown>,
    list: Record<string, unknown>[],
    idem: string | null,
    refuse: number | null,
  ): unknown {
    if (typeof body.senderKey !== 'string' || !body.senderKey)
      return { header: header(-2001, "The 'senderKey' must not be blank.") };
    if (typeof body.templateCode !== 'string' || !body.templateCode)
      return { header: header(-2001, "The 'templateCode' must not be blank.") };
    const requestId = this.newRequestId();
    let accepted = 0;
    const sendResults = list.map((r, i) => {
      const no = String(r.recipientNo ?? '');
      const o = refuse === null ? this.outcome(no, 'alimtalk') : { intake: refuse, result: '' };
      if (o.intake === 0) {
        accepted++;
        const rec = this.record('alimtalk', 'alimtalk', requestId, i + 1, body, r, o.result, idem);
        const resend = r.resendParameter as { isResend?: unknown } | undefined;
        const delivered = o.result === '1000' || o.result === '3005';
        if (!delivered && resend?.isResend !== false) {
          this.vendorFallbacks.push({
            recipientNo: no,
            requestId,
            recipientSeq: i + 1,
            resultCode: o.result,
          });
        }
        void rec;
      }
      return {
        recipientSeq: i + 1,
        recipientNo: no,
        resultCode: o.intake,
        resultMessage: o.intake === 0 ? 'SUCCESS' : 'The sender is blocked status.',
        recipientGroupingKey: r.recipientGroupingKey ?? null,
      };
    });
    if (accepted === 0 && !this.opts.legacyAllFailed) {
      return {
        header: header(-1031, 'All of receivers are failed to send.'),
        message: { requestId: null, senderGroupingKey: body.senderGroupingKey ?? null, sendResults },
      };
    }
    return {
      header: header(0, 'SUCCESS'),
      message: { requestId, senderGroupingKey: body.senderGroupingKey ?? null, sendResults },
    };
  }

  private page<T>(items: T[], q: URLSearchParams): { items: T[]; pageNum: number; pageSize: number } {
    const pageNum = Math.max(1, Number(q.get('pageNum') ?? 1) || 1);
    const pageSize = Math.min(1000, Math.max(1, Number(q.get('pageSize') ?? 15) || 15));
    return { items: items.slice((pageNum - 1) * pageSize, pageNum * pageSize), pageNum, pageSize };
  }

  private final(r: NhnRecord): boolean {
    return Date.now() >= r.finalAt;
  }

  private window(q: URLSearchParams, names: [string, string][]): { lo: number; hi: number } | null {
    for (const [a, b] of names) {
      const lo = parseKst(q.get(a));
      const hi = parseKst(q.get(b));
      if (!Number.isNaN(lo) && !Number.isNaN(hi)) {
        // a minute-resolution end includes its whole minute
        const wholeMinute = /^\S+ \d{2}:\d{2}$/.test(q.get(b) ?? '') ? 60_000 : 1000;
        return { lo, hi: hi + wholeMinute };
      }
    }
    return null;
  }

  private smsList(endpoint: string, q: URLSearchParams): unknown {
    const w = this.window(q, [
      ['startCreateDate', 'endCreateDate'],
      ['startRequestDate', 'endRequestDate'],
    ]);
    if (!w)
      return {
        header: header(-2011, 'RequestId or start/endRequestDate or start/endCreateDate is required.'),
      };
    if (w.hi - w.lo > 31 * 24 * 3600_000)
      return { header: header(-4000, 'Search is possible within one month.') };
    const key = q.get('recipientGroupingKey');
    const types = endpoint === 'sms' ? ['sms', 'ad-sms'] : ['mms', 'ad-mms'];
    const hits = this.records.filter(
      (r) =>
        r.kind === 'sms' &&
        types.includes(r.endpoint) &&
        r.createdAt >= w.lo &&
        r.createdAt < w.hi &&
        (key === null || r.recipientGroupingKey === key),
    );
    const p = this.page(hits, q);
    return {
      header: header(0, 'SUCCESS'),
      body: {
        pageNum: p.pageNum,
        pageSize: p.pageSize,
        totalCount: hits.length,
        data: p.items.map((r) => {
          const fin = this.final(r);
          return {
            requestId: r.requestId,
            requestDate: `${formatKst(r.createdAt)}.0`,
            resultDate: fin ? `${formatKst(r.finalAt)}.0` : null,
            sendNo: r.sendNo,
            recipientNo: r.recipientNo,
            msgStatus: fin ? (r.resultCode === '1000' ? '3' : '0') : '2',
            resultCode: fin ? r.resultCode : null,
            recipientSeq: r.recipientSeq,
            sendType: r.endpoint.endsWith('sms') ? '0' : '1',
            adYn: r.endpoint.startsWith('ad-') ? 'Y' : 'N',
            recipientGroupingKey: r.recipientGroupingKey,
          };
        }),
      },
    };
  }

  private kakaoItem(r: NhnRecord): Record<string, unknown> {
    const fin = this.final(r);
    return {
      requestId: r.requestId,
      recipientSeq: r.recipientSeq,
      requestDate: formatKst(r.createdAt),
      createDate: formatKst(r.createdAt),
      receiveDate: fin ? formatKst(r.finalAt) : null,
      resendStatus: 'RSC01',
      messageStatus: fin
        ? r.resultCode === '1000' || r.resultCode === '3005'
          ? 'COMPLETED'
          : 'FAILED'
        : 'READY',
      resultCode: fin ? r.resultCode : null,
    };
  }

  private alimtalkList(q: URLSearchParams): unknown {
    const w = this.window(q, [
      ['startCreateDate', 'endCreateDate'],
      ['startRequestDate', 'endRequestDate'],
    ]);
    if (!w)
      return {
        header: header(4, 'startRequestDate/endRequestDate or startCreateDate/endCreateDate is required'),
      };
    if (w.hi - w.lo > 31 * 24 * 3600_000)
      return { header: header(4, 'the request date range is at most 30 days') };
    const key = q.get('recipientGroupingKey');
    const hits = this.records.filter(
      (r) =>
        r.kind === 'alimtalk' &&
        r.createdAt >= w.lo &&
        r.createdAt < w.hi &&
        (key === null || r.recipientGroupingKey === key),
    );
    const p = this.page(hits, q);
    return {
      header: header(0, 'SUCCESS'),
      messageSearchResultResponse: {
        messages: p.items.map((r) => ({
          ...this.kakaoItem(r),
          senderKey: r.senderKey,
          templateCode: r.templateCode,
          recipientNo: r.recipientNo,
          recipientGroupingKey: r.recipientGroupingKey,
        })),
        totalCount: hits.length,
      },
    };
  }

  private results(q: URLSearchParams): unknown {
    const w = this.window(q, [['startUpdateDate', 'endUpdateDate']]);
    if (!w) return { header: header(4, 'startUpdateDate and endUpdateDate are required') };
    if (w.hi - w.lo > 24 * 3600_000 + 60_000)
      return { header: header(4, 'the update date range is at most one day') };
    const hits = this.records.filter(
      (r) => r.kind === 'alimtalk' && this.final(r) && r.finalAt >= w.lo && r.finalAt < w.hi,
    );
    const p = this.page(hits, q);
    return { header: header(0, 'SUCCESS'), messages: p.items.map((r) => this.kakaoItem(r)) };
  }
}
