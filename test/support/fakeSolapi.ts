import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import iconv from 'iconv-lite';

/**
 * A fake Solapi REST API v4 on 127.0.0.1, written from Solapi's documents (authentication/api-key,
 * messages/send-many/detail, messages/v4/list, storage/v1/files, message status codes, webhooks),
 * not from our client. It records what reached it whatever happened to the answer, so tests
 * count per recipient what Solapi really took.
 *
 * Test numbers (as the simulator's): 0100000CCCC ends with code CCCC: 1xxx refused at intake,
 * 2xxx/3xxx accepted and then failed with that code. Everything else is delivered (4000).
 */
export interface FakeSolapiOptions {
  apiKey: string;
  apiSecret: string;
  /** messages accepted per rolling second; more -> 429 TooManyRequests (0: no limit) */
  tps: number;
  /** ms from acceptance to the final status */
  reportDelayMs: number;
  /** the server's clock minus the real one */
  clockOffsetMs: number;
  /** send requests (1-based count) whose answer is dropped after the messages were recorded */
  dropAnswer: (n: number) => boolean;
  /** send requests that are recorded and then never answered (the client must time out) */
  hangAnswer: (n: number) => boolean;
  /** answer every send with this HTTP status before looking at it (e.g. 503) */
  failSendsWith: number | null;
  /** answer every /messages/v4/list with this HTTP status too (a whole-service outage, not only sending) */
  failListsWith: number | null;
  /** the errorMessage sent with failSendsWith (a server that echoes what it was sent, secrets included) */
  failSendsMessage: string;
  /** most messages per page of /messages/v4/list */
  maxListLimit: number;
  /** send showMessageList's messageList in answers (false: only failedMessageList, as without it) */
  itemiseAccepted: boolean;
  /** a body to answer send requests (1-based count) with, 200, taking nothing: a proxy or WAF in front (undefined: answer as Solapi) */
  sendAnswer: (n: number) => unknown;
  /** a body to answer /messages/v4/list with, 200 (undefined: answer as Solapi) */
  listAnswer: (n: number) => unknown;
  /** a body to answer /storage/v1/files with, 200, storing nothing (undefined: answer as Solapi) */
  uploadAnswer: () => unknown;
}

export interface StoredMessage {
  messageId: string;
  groupId: string;
  to: string;
  from: string | null;
  type: string;
  text: string;
  subject: string | null;
  imageId: string | null;
  country: string;
  autoTypeDetect: boolean;
  customFields: Record<string, string>;
  kakaoOptions: Record<string, unknown> | null;
  rcsOptions: Record<string, unknown> | null;
  /** server-clock ms */
  createdAt: number;
  /** 1xxx: refused at intake (never sent on); otherwise accepted */
  intakeCode: string | null;
  finalCode: string;
  finalAt: number;
}

export interface StoredFile {
  fileId: string;
  name: string;
  type: string;
  sha256: string;
  bytes: number;
}

const TYPES = new Set([
  'SMS',
  'LMS',
  'MMS',
  'ATA',
  'CTA',
  'CTI',
  'NSA',
  'RCS_SMS',
  'RCS_LMS',
  'RCS_MMS',
  'RCS_TPL',
  'RCS_ITPL',
  'RCS_LTPL',
  'FAX',
  'VOICE',
]);
const TEST_NUMBER = /^0100000(\d{4})$/;
/** RCS body limits in characters, by type (DOMAIN.md) */
const RCS_MAX_CHARS: Record<string, number> = {
  RCS_SMS: 100,
  RCS_LMS: 1300,
  RCS_MMS: 1300,
  RCS_TPL: 90,
  RCS_ITPL: 500,
};

function id(prefix: string): string {
  const d = new Date();
  const stamp = d.toISOString().replace(/\D/g, '').slice(0, 14);
  return (
    prefix +
    stamp +
    randomBytes(9)
      .toString('base64url')
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, 'X')
      .slice(0, 15)
  );
}

function eucKrBytes(s: string): number {
  return iconv.encode(s, 'euc-kr').length;
}

export class FakeSolapi {
  readonly options: FakeSolapiOptions;
  readonly messages: StoredMessage[] = [];
  readonly files = new Map<string, StoredFile>();
  /** how many send requests carried each journal key (umsKey), whatever was answered */
  readonly submissions = new Map<string, number>();
  /** every /messages/v4/list query, in order */
  readonly listQueries: URLSearchParams[] = [];
  /** messages the account can still pay for; then intake answers 1030 (insufficient balance) */
  balance = Infinity;
  /** numbers whose next accepted message fails with this code (then they are delivered as usual) */
  readonly failNext = new Map<string, string>();
  /** sender numbers (from) not registered on the account: intake answers 1062 (발신번호 미등록) */
  readonly unregisteredSenders = new Set<string>();
  readonly stats = {
    sendRequests: 0,
    listRequests: 0,
    uploads: 0,
    throttled: 0,
    dropped: 0,
    hung: 0,
    validationErrors: 0,
    authFailures: [] as string[],
  };
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly usedSignatures = new Map<string, number>();
  private readonly window: { at: number; n: number }[] = [];
  port = 0;

  constructor(options: Partial<FakeSolapiOptions> & { apiKey: string; apiSecret: string }) {
    this.options = {
      tps: 0,
      reportDelayMs: 50,
      clockOffsetMs: 0,
      dropAnswer: () => false,
      hangAnswer: () => false,
      failSendsWith: null,
      failListsWith: null,
      failSendsMessage: 'failing on purpose',
      maxListLimit: 500,
      itemiseAccepted: true,
      sendAnswer: () => undefined,
      listAnswer: () => undefined,
      uploadAnswer: () => undefined,
      ...options,
    };
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(
    options: Partial<FakeSolapiOptions> & { apiKey: string; apiSecret: string },
  ): Promise<FakeSolapi> {
    const f = new FakeSolapi(options);
    await new Promise<void>((resolve) => f.server.listen(0, '127.0.0.1', resolve));
    f.port = (f.server.address() as AddressInfo).port;
    return f;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Solapi down: stop listening (connection refused) and cut every connection, answers in flight included. */
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

  /** The server's clock. */
  now(): number {
    return Date.now() + this.options.clockOffsetMs;
  }

  /** Messages Solapi accepted (past intake). */
  accepted(): StoredMessage[] {
    return this.messages.filter((m) => m.intakeCode === null);
  }

  /** How many times each recipient was accepted. */
  acceptedPerRecipient(): Map<string, number> {
    const n = new Map<string, number>();
    for (const m of this.accepted()) n.set(m.to, (n.get(m.to) ?? 0) + 1);
    return n;
  }

  duplicates(): string[] {
    return [...this.acceptedPerRecipient()].filter(([, n]) => n > 1).map(([to]) => to);
  }

  statusOf(m: StoredMessage, now = this.now()): string {
    if (m.intakeCode) return m.intakeCode;
    return now >= m.finalAt ? m.finalCode : '3000';
  }

  /** A message as Solapi lists it and posts it to webhooks. */
  view(m: StoredMessage, now = this.now()): Record<string, unknown> {
    const code = this.statusOf(m, now);
    const final = m.intakeCode !== null || now >= m.finalAt;
    const updated = m.intakeCode === null && now >= m.finalAt ? m.finalAt : m.createdAt;
    return {
      _id: m.messageId,
      messageId: m.messageId,
      groupId: m.groupId,
      accountId: '12925149',
      to: m.to,
      from: m.from,
      type: m.type,
      country: m.country,
      text: m.text,
      subject: m.subject,
      imageId: m.imageId,
      kakaoOptions: m.kakaoOptions,
      rcsOptions: m.rcsOptions,
      statusCode: code,
      status: final ? 'COMPLETE' : 'SENDING',
      reason: null,
      networkName: 'SKT',
      autoTypeDetect: m.autoTypeDetect,
      replacement: false,
      customFields: m.customFields,
      dateCreated: new Date(m.createdAt).toISOString(),
      dateUpdated: new Date(updated).toISOString(),
      dateProcessed: new Date(m.createdAt).toISOString(),
      dateReceived: final && m.intakeCode === null ? new Date(m.finalAt).toISOString() : null,
      dateReported: final && m.intakeCode === null ? new Date(m.finalAt).toISOString() : null,
    };
  }

  /** Final reports of accepted messages, as a message-report webhook body. */
  webhookBody(filter: (m: StoredMessage) => boolean = () => true): Record<string, unknown>[] {
    const now = this.now();
    return this.accepted()
      .filter((m) => now >= m.finalAt && filter(m))
      .map((m) => this.view(m, now));
  }

  /** POST a webhook the way Solapi does (a JSON array); returns the HTTP status. */
  async postWebhook(url: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    await res.text();
    return res.status;
  }

  private send(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      date: new Date(this.now()).toUTCString(),
    });
    res.end(text);
  }

  private error(res: http.ServerResponse, status: number, errorCode: string, errorMessage: string): void {
    this.send(res, status, { errorCode, errorMessage });
  }

  /** authentication/api-key: HMAC-SHA256(apiSecret, date + salt), ±15 minutes, no signature twice. */
  private authenticate(req: http.IncomingMessage): { code: string; message: string } | null {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^HMAC-SHA256 (.+)$/.exec(header) : null;
    if (!m)
      return {
        code: 'InvalidAuthenticationInformation',
        message: 'Authorization header missing or not HMAC-SHA256',
      };
    const f = new Map<string, string>();
    for (const part of m[1]!.split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) f.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const apiKey = f.get('apiKey');
    const date = f.get('date');
    const salt = f.get('salt');
    const signature = f.get('signature');
    if (!apiKey || !date || !salt || !signature)
      return {
        code: 'InvalidAuthenticationInformation',
        message: 'apiKey, date, salt and signature are required',
      };
    if (apiKey !== this.options.apiKey) return { code: 'InvalidAPIKey', message: 'not a valid API key' };
    if (salt.length < 12 || salt.length > 64)
      return { code: 'InvalidAuthenticationInformation', message: 'salt must be 12-64 characters' };
    const at = Date.parse(date);
    if (Number.isNaN(at))
      return { code: 'InvalidAuthenticationInformation', message: 'date is not ISO 8601' };
    if (Math.abs(this.now() - at) > 15 * 60_000)
      return { code: 'RequestTimeTooSkewed', message: 'date is more than 15 minutes from the server time' };
    const expected = createHmac('sha256', this.options.apiSecret)
      .update(date + salt)
      .digest('hex');
    const ok =
      expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
    if (!ok) return { code: 'SignatureDoesNotMatch', message: 'the signature does not match' };
    const now = this.now();
    for (const [s, t] of this.usedSignatures) if (t < now - 15 * 60_000) this.usedSignatures.delete(s);
    if (this.usedSignatures.has(signature))
      return { code: 'DuplicatedSignature', message: 'this signature was used in the last 15 minutes' };
    this.usedSignatures.set(signature, now);
    return null;
  }

  private async body(req: http.IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > 40 * 1024 * 1024) throw new Error('too large');
      chunks.push(c as Buffer);
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const auth = this.authenticate(req);
    if (auth) {
      this.stats.authFailures.push(auth.code);
      req.resume();
      return this.error(
        res,
        auth.code === 'InvalidAuthenticationInformation' ? 401 : 403,
        auth.code,
        auth.message,
      );
    }
    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = await this.body(req);
      } catch {
        return this.error(res, 400, 'ValidationError', 'the body is not JSON');
      }
    }
    if (req.method === 'POST' && url.pathname === '/messages/v4/send-many/detail')
      return this.sendMany(req, res, body);
    if (req.method === 'GET' && url.pathname === '/messages/v4/list') return this.list(res, url.searchParams);
    if (req.method === 'POST' && url.pathname === '/storage/v1/files') return this.upload(res, body);
    req.resume();
    this.error(res, 404, 'NotFound', `${req.method} ${url.pathname}`);
  }

  private overRate(n: number): boolean {
    if (!this.options.tps) return false;
    const now = Date.now();
    while (this.window.length && this.window[0]!.at <= now - 1000) this.window.shift();
    const used = this.window.reduce((s, w) => s + w.n, 0);
    if (used + n > this.options.tps) return true;
    this.window.push({ at: now, n });
    return false;
  }

  /** Per-message intake checks: a 1xxx code, or null when the message is taken. */
  private intake(m: Record<string, unknown>): string | null {
    const type = m.type as string;
    if (typeof m.text !== 'string' || !m.text) return '1010';
    if (type !== 'ATA' && (typeof m.from !== 'string' || !/^\d{8,11}$/.test(m.from))) return '1010';
    if (type === 'SMS' && m.subject !== undefined) return '1013';
    if (typeof m.subject === 'string' && !type.startsWith('RCS_') && eucKrBytes(m.subject) > 40)
      return '1014';
    if (type === 'SMS' && eucKrBytes(m.text) > 90) return '1031';
    if ((type === 'LMS' || type === 'MMS') && eucKrBytes(m.text) > 2000) return '1031';
    if (
      ['SMS', 'LMS', 'MMS'].includes(type) &&
      iconv.decode(iconv.encode(m.text, 'euc-kr'), 'euc-kr') !== m.text
    )
      return '1029';
    if (type === 'MMS' && (typeof m.imageId !== 'string' || !this.files.has(m.imageId))) return '1034';
    if (m.kakaoOptions !== undefined && type !== 'ATA' && type !== 'CTA') return '1033';
    if (type === 'ATA') {
      const k = m.kakaoOptions as Record<string, unknown> | undefined;
      if (!k || typeof k.pfId !== 'string' || !k.pfId) return '1041';
      if (typeof k.templateId !== 'string' || !k.templateId) return '1042';
      for (const b of (k.buttons as Record<string, unknown>[] | undefined) ?? []) {
        if (typeof b.buttonType !== 'string' || typeof b.buttonName !== 'string') return '1044';
        if (b.buttonType === 'WL' && typeof b.linkMo !== 'string') return '1045';
      }
      if (k.variables !== undefined) {
        for (const key of Object.keys(k.variables as object)) if (!/^#\{[^.}]+\}$/.test(key)) return '1011';
      }
    }
    if (type.startsWith('RCS_')) {
      const r = m.rcsOptions as Record<string, unknown> | undefined;
      if (!r || typeof r.brandId !== 'string' || !r.brandId) return '1010';
      if (
        (type === 'RCS_TPL' || type === 'RCS_ITPL' || type === 'RCS_LTPL') &&
        typeof r.templateId !== 'string'
      )
        return '1042';
      // RCS counts characters: titles <= 30 on LMS/MMS, none on SMS and templates; bodies per type
      const subject = m.subject;
      if (subject !== undefined && !(type === 'RCS_LMS' || type === 'RCS_MMS')) return '1013';
      if (typeof subject === 'string' && [...subject].length > 30) return '1014';
      const max = RCS_MAX_CHARS[type];
      if (max !== undefined && [...m.text].length > max) return '1031';
      // an RCS MMS names an image uploaded as type RCS (an MMS upload is not an RCS image)
      if (type === 'RCS_MMS' && (typeof m.imageId !== 'string' || this.files.get(m.imageId)?.type !== 'RCS'))
        return '1034';
    }
    const cf = m.customFields;
    if (cf !== undefined) {
      for (const [k, v] of Object.entries(cf as Record<string, unknown>))
        if (k.length > 30 || typeof v !== 'string' || v.length > 100) return '1032';
    }
    const code = TEST_NUMBER.exec(m.to as string)?.[1];
    if (code?.startsWith('1')) return code;
    return null;
  }

  /** POST /messages/v4/send-many/detail */
  private sendMany(req: http.IncomingMessage, res: http.ServerResponse, body: unknown): void {
    const n = ++this.stats.sendRequests;
    const sentMessages = (body as { messages?: unknown } | null)?.messages;
    for (const m of Array.isArray(sentMessages)
      ? (sentMessages as { customFields?: Record<string, string> }[])
      : []) {
      const key = m?.customFields?.umsKey;
      if (typeof key === 'string') this.submissions.set(key, (this.submissions.get(key) ?? 0) + 1);
    }
    const instead = this.options.sendAnswer(n);
    if (instead !== undefined) return this.send(res, 200, instead);
    if (this.options.failSendsWith)
      return this.error(
        res,
        this.options.failSendsWith,
        this.options.failSendsWith === 503 ? 'ServiceUnavailable' : 'InternalError',
        this.options.failSendsMessage,
      );
    const b = body as { messages?: unknown; allowDuplicates?: unknown; showMessageList?: unknown } | null;
    const invalid = (why: string): void => {
      this.stats.validationErrors++;
      this.error(res, 400, 'ValidationError', why);
    };
    if (!b || typeof b !== 'object' || !Array.isArray(b.messages))
      return invalid('messages must be an array');
    if (b.messages.length < 1 || b.messages.length > 10000)
      return invalid('1 to 10,000 messages per request');
    for (const [i, m] of (b.messages as unknown[]).entries()) {
      if (!m || typeof m !== 'object') return invalid(`messages[${i}] is not an object`);
      const o = m as Record<string, unknown>;
      if (typeof o.to !== 'string' || !/^\d{3,15}$/.test(o.to))
        return invalid(`messages[${i}].to must be digits`);
      // ums decides the type itself: the fake insists, so a client that forgets is caught
      if (o.autoTypeDetect !== false) return invalid(`messages[${i}].autoTypeDetect must be false`);
      if (typeof o.type !== 'string' || !TYPES.has(o.type))
        return invalid(`messages[${i}].type "${String(o.type)}" is not a message type`);
      if (o.customFields !== undefined && (typeof o.customFields !== 'object' || o.customFields === null))
        return invalid(`messages[${i}].customFields must be an object`);
    }
    if (this.overRate(b.messages.length)) {
      this.stats.throttled++;
      return this.error(res, 429, 'TooManyRequests', 'too many requests');
    }
    const groupId = id('G4V');
    const now = this.now();
    const failed: Record<string, unknown>[] = [];
    const list: Record<string, unknown>[] = [];
    const seen = new Set<string>();
    for (const raw of b.messages as Record<string, unknown>[]) {
      const to = raw.to as string;
      let intakeCode = this.intake(raw);
      if (!intakeCode && b.allowDuplicates !== true && seen.has(to)) intakeCode = '1026';
      if (!intakeCode && typeof raw.from === 'string' && this.unregisteredSenders.has(raw.from))
        intakeCode = '1062';
      if (!intakeCode && this.balance <= 0) intakeCode = '1030';
      if (!intakeCode) this.balance--;
      const failing = intakeCode ? undefined : this.failNext.get(to);
      if (failing) this.failNext.delete(to);
      seen.add(to);
      const code = TEST_NUMBER.exec(to)?.[1];
      const stored: StoredMessage = {
        messageId: id('M4V'),
        groupId,
        to,
        from: typeof raw.from === 'string' ? raw.from : null,
        type: raw.type as string,
        text: raw.text as string,
        subject: typeof raw.subject === 'string' ? raw.subject : null,
        imageId: typeof raw.imageId === 'string' ? raw.imageId : null,
        country: typeof raw.country === 'string' ? raw.country : '82',
        autoTypeDetect: raw.autoTypeDetect as boolean,
        customFields: (raw.customFields as Record<string, string>) ?? {},
        kakaoOptions: (raw.kakaoOptions as Record<string, unknown>) ?? null,
        rcsOptions: (raw.rcsOptions as Record<string, unknown>) ?? null,
        createdAt: now,
        intakeCode,
        finalCode: failing ?? (code && (code.startsWith('2') || code.startsWith('3')) ? code : '4000'),
        finalAt: now + this.options.reportDelayMs,
      };
      this.messages.push(stored);
      const item = {
        to,
        from: stored.from,
        type: stored.type,
        country: stored.country,
        messageId: stored.messageId,
        accountId: '12925149',
        customFields: stored.customFields,
      };
      if (intakeCode)
        failed.push({ ...item, statusCode: intakeCode, statusMessage: `intake failed (${intakeCode})` });
      else
        list.push({
          messageId: stored.messageId,
          statusCode: '2000',
          statusMessage: '정상 접수(이통사로 접수 예정)',
          customFields: stored.customFields,
          to,
        });
    }
    // The messages are Solapi's now, whatever becomes of this answer.
    if (this.options.dropAnswer(n)) {
      this.stats.dropped++;
      req.socket.destroy();
      return;
    }
    if (this.options.hangAnswer(n)) {
      this.stats.hung++;
      return;
    }
    const total = b.messages.length;
    this.send(res, 200, {
      groupInfo: {
        groupId,
        _id: groupId,
        status: 'SENDING',
        count: {
          total,
          registeredFailed: failed.length,
          registeredSuccess: total - failed.length,
          sentTotal: 0,
          sentFailed: 0,
          sentSuccess: 0,
          sentPending: 0,
          sentReplacement: 0,
          refund: 0,
        },
        allowDuplicates: b.allowDuplicates === true,
        dateCreated: new Date(now).toISOString(),
        dateUpdated: new Date(now).toISOString(),
      },
      failedMessageList: failed,
      ...(b.showMessageList === true && this.options.itemiseAccepted ? { messageList: list } : {}),
    });
  }

  /** GET /messages/v4/list: an object keyed by messageId, paged by startKey/nextKey. */
  private list(res: http.ServerResponse, q: URLSearchParams): void {
    this.stats.listRequests++;
    this.listQueries.push(q);
    const instead = this.options.listAnswer(this.stats.listRequests);
    if (instead !== undefined) return this.send(res, 200, instead);
    if (this.options.failListsWith)
      return this.error(res, this.options.failListsWith, 'ServiceUnavailable', 'failing on purpose');
    const limit = q.has('limit') ? Number(q.get('limit')) : 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > this.options.maxListLimit)
      return this.error(res, 400, 'ValidationError', `limit must be 1-${this.options.maxListLimit}`);
    const dateType = q.get('dateType') ?? 'CREATED';
    if (dateType !== 'CREATED' && dateType !== 'UPDATED')
      return this.error(res, 400, 'ValidationError', 'dateType is CREATED or UPDATED');
    const start = q.has('startDate') ? Date.parse(q.get('startDate')!) : -Infinity;
    const end = q.has('endDate') ? Date.parse(q.get('endDate')!) : Infinity;
    if (Number.isNaN(start) || Number.isNaN(end))
      return this.error(res, 400, 'ValidationError', 'startDate/endDate must be ISO 8601');
    const now = this.now();
    const timeOf = (m: StoredMessage): number =>
      dateType === 'CREATED'
        ? m.createdAt
        : m.intakeCode === null && now >= m.finalAt
          ? m.finalAt
          : m.createdAt;
    const rows = this.messages
      .filter(
        (m) =>
          (!q.has('groupId') || m.groupId === q.get('groupId')) &&
          (!q.has('messageId') || m.messageId === q.get('messageId')) &&
          (!q.has('to') || m.to === q.get('to')) &&
          (!q.has('statusCode') || this.statusOf(m, now) === q.get('statusCode')),
      )
      .map((m) => ({ m, t: timeOf(m) }))
      .filter((x) => x.t >= start && x.t <= end)
      .sort((a, b) => a.t - b.t || a.m.messageId.localeCompare(b.m.messageId));
    let from = 0;
    const startKey = q.get('startKey');
    if (startKey) {
      const [t, mid] = Buffer.from(startKey, 'base64url').toString('utf8').split('|');
      from = rows.findIndex((x) => x.t > Number(t) || (x.t === Number(t) && x.m.messageId >= (mid ?? '')));
      if (from < 0) from = rows.length;
    }
    const page = rows.slice(from, from + limit);
    const after = rows[from + limit];
    const messageList: Record<string, unknown> = {};
    for (const x of page) messageList[x.m.messageId] = this.view(x.m, now);
    this.send(res, 200, {
      startKey: startKey ?? null,
      limit,
      nextKey: after ? Buffer.from(`${after.t}|${after.m.messageId}`).toString('base64url') : null,
      messageList,
    });
  }

  /** POST /storage/v1/files {file: base64, type, name} -> {fileId} */
  private upload(res: http.ServerResponse, body: unknown): void {
    const instead = this.options.uploadAnswer();
    if (instead !== undefined) return this.send(res, 200, instead);
    const b = body as { file?: unknown; type?: unknown; name?: unknown } | null;
    if (!b || typeof b.file !== 'string' || !b.file)
      return this.error(res, 400, 'ValidationError', 'file (base64) is required');
    const type = typeof b.type === 'string' ? b.type : 'MMS';
    const content = Buffer.from(b.file, 'base64');
    if (type === 'MMS') {
      if (!(content[0] === 0xff && content[1] === 0xd8 && content[2] === 0xff))
        return this.error(res, 400, 'InvalidFile', 'MMS images must be JPEG');
      if (content.length > 200 * 1024)
        return this.error(res, 400, 'FileSizeExceeded', 'MMS images are at most 200 KB');
    }
    if (type === 'RCS') {
      const jpeg = content[0] === 0xff && content[1] === 0xd8 && content[2] === 0xff;
      const png = content
        .subarray(0, 8)
        .equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      if (!jpeg && !png) return this.error(res, 400, 'InvalidFile', 'RCS images must be JPEG or PNG');
      if (content.length > 1024 * 1024)
        return this.error(res, 400, 'FileSizeExceeded', 'RCS images are at most 1 MB');
    }
    this.stats.uploads++;
    const fileId = id('ST01FZ');
    const name = typeof b.name === 'string' ? b.name : 'file';
    this.files.set(fileId, {
      fileId,
      name,
      type,
      sha256: createHash('sha256').update(content).digest('hex'),
      bytes: content.length,
    });
    this.send(res, 200, {
      fileId,
      type,
      name,
      originalName: name,
      link: null,
      dateCreated: new Date(this.now()).toISOString(),
    });
  }
}

/**
 * The smallest honest JPEG: one 8x8 grey block, baseline, every coefficient zero, with one-code
 * Huffman tables. SOI, DQT, SOF0, DHT (DC), DHT (AC), SOS, two bits of scan data, EOI.
 */
export function tinyJpeg(shade = 1): Buffer {
  const dqt = [0xff, 0xdb, 0x00, 0x43, 0x00, ...new Array<number>(64).fill(shade & 0xff || 1)];
  const sof0 = [0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00];
  const dht = (tcth: number) => [0xff, 0xc4, 0x00, 0x14, tcth, 0x01, ...new Array<number>(15).fill(0), 0x00];
  const sos = [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00];
  return Buffer.from([0xff, 0xd8, ...dqt, ...sof0, ...dht(0x00), ...dht(0x10), ...sos, 0x3f, 0xff, 0xd9]);
}
