import { Backoff } from '../../time/backoff.js';
import { sleep } from '../../time/sleep.js';
import type {
  DeliveryReport,
  InboundMessage,
  MessageOutcome,
  OutboundMessage,
  Provider,
  ProviderContext,
  ReportBatch,
  SubmitResult,
} from '../types.js';
import { isTemporary, isThrottle, type PDU, STATUS, statusHex, statusName } from './codec.js';
import { parseSmppConfig, type SmppConfig, smppBinds } from './config.js';
import { type RequestResult, SmppLink } from './link.js';
import { decodeShortMessage, isOptOutText, senderNumber, stripUdh } from './mo.js';
import { canonicalId, interpretReceipt } from './receipt.js';
import { countParts, type PartPdu, type SegmentOptions, segment } from './segment.js';

/** How often a continuation part refused for rate is tried again (its message's first part is already out). */
const PART_RETRIES = 6;
/** How often the lane asks again whether a submit_sm would leave at once (while binding, windows full). */
const WRITABLE_POLL_MS = 5;

type Settled = MessageOutcome | Exclude<SubmitResult, { kind: 'results' }>;

interface Waiting<T> {
  item: T;
  respond: (status: number) => void;
}

export interface SmppStats {
  binds: number;
  drops: number;
  receipts: number;
  intermediate: number;
  unreadable: number;
  inbound: number;
}

/**
 * SMPP 3.4 over one or several transceiver connections (binds). One message per submit() (maxBatch
 * 1), so a dropped connection makes exactly the messages whose submit_sm was in flight ambiguous;
 * ums encodes and splits the text itself. There is no lookup: SMPP cannot ask the SMSC what it
 * holds, so the engine reports such messages `unknown` instead of sending them again.
 *
 * The lane paces (its TPS is the binds' sum); each message goes to the bind that can write it now
 * and has carried the least for its TPS (a weighted round robin), so each bind stays within its own
 * rate and window. With several binds each has a cap at its TPS; when none has room, the message is
 * answered `throttled` without being written (the lane slows). A bind that drops hands the requests
 * it had not written to the others; the ones in flight are lost (ambiguous), as with one bind.
 */
export class SmppProvider implements Provider {
  readonly maxBatch = 1;
  readonly tps: number;
  readonly reportWaitMs: number;
  readonly window: number;
  readonly maxSubmits: number;
  private readonly links: SmppLink[];
  /** parts given to each link, for the weighted round robin */
  private readonly carried: number[];
  private readonly weights: number[];
  /** several binds: the first message waits until each has bound or failed (so one is not given all) */
  private settled: Promise<unknown> | null = null;
  private allSettled = false;
  private readonly seg: SegmentOptions;
  private ref = Math.floor(Math.random() * 0x10000);
  private reportHandler: ((batch: ReportBatch) => Promise<void>) | null = null;
  private inboundHandler: ((messages: InboundMessage[]) => Promise<void>) | null = null;
  private collector: Waiting<DeliveryReport>[] | null = null;
  private readonly reports = new Drain<DeliveryReport>();
  private readonly inbound = new Drain<InboundMessage>();
  private readonly counts = { receipts: 0, intermediate: 0, unreadable: 0, inbound: 0 };

  constructor(
    readonly name: string,
    private readonly cfg: SmppConfig,
    ctx: ProviderContext,
  ) {
    const binds = smppBinds(cfg);
    const unlimited = binds.some((b) => b.tps <= 0);
    const sum = unlimited ? 0 : binds.reduce((n, b) => n + b.tps, 0);
    // rateGuardMs above the lane's own 5 ms of clock skew: the lane runs that much below tps
    const guard = 1005 / (1000 + Math.max(5, cfg.rateGuardMs));
    this.tps = (ctx.tps ?? sum) * guard;
    this.window = binds.reduce((n, b) => n + b.window, 0);
    this.maxSubmits = cfg.maxSubmits;
    this.reportWaitMs = cfg.reportWaitMs;
    this.seg = { coding: cfg.dataCoding, mode: cfg.longMessages, udhRefBits: cfg.udhRefBits };
    // --tps moves every bind's share with it
    const scale = ctx.tps !== undefined && sum > 0 ? ctx.tps / sum : 1;
    this.weights = binds.map((b) => (unlimited ? 1 : b.tps));
    this.carried = binds.map(() => 0);
    this.links = binds.map(
      (b) =>
        new SmppLink(
          {
            host: b.host,
            port: b.port,
            systemId: b.systemId,
            password: b.password,
            systemType: cfg.systemType,
            window: b.window,
            // one bind: the lane's pacer is the only limit; several: each bind is capped at its share
            capTps: binds.length > 1 && !unlimited && this.tps > 0 ? b.tps * scale : 0,
            capGuardMs: cfg.rateGuardMs,
            enquireLinkMs: cfg.enquireLinkMs,
            requestTimeoutMs: cfg.requestTimeoutMs,
            unavailableAfterMs: cfg.unavailableAfterMs,
            backoffMaxMs: cfg.reconnectMaxMs,
          },
          (pdu, respond) => this.onDeliver(pdu, respond),
          (link) => this.onLinkState(link),
        ),
    );
  }

  get stats(): SmppStats {
    return {
      binds: this.links.reduce((n, l) => n + l.binds, 0),
      drops: this.links.reduce((n, l) => n + l.drops, 0),
      ...this.counts,
    };
  }

  /** Per bind: successful binds and drops. */
  get bindStats(): { binds: number; drops: number; bound: boolean }[] {
    return this.links.map((l) => ({ binds: l.binds, drops: l.drops, bound: l.bound }));
  }

  /**
   * A link bound or dropped: what waits (unwritten) on a link that is not bound goes to a bound one.
   * A rebound link starts level with the others in the round robin, not owed all it missed.
   */
  private onLinkState(changed: SmppLink): void {
    const up = this.links.filter((l) => l.bound);
    if (changed.bound && up.length > 1) {
      const i = this.links.indexOf(changed);
      const level = Math.min(
        ...up
          .filter((l) => l !== changed)
          .map((l) => this.carried[this.links.indexOf(l)]! / this.weights[this.links.indexOf(l)]!),
      );
      this.carried[i] = level * this.weights[i]!;
    }
    if (!up.length) return;
    for (const l of this.links) {
      if (l.bound) continue;
      for (const p of l.takeQueued()) {
        const to = up.reduce((a, b) => (b.load < a.load ? b : a));
        to.adopt(p);
      }
    }
  }

  /**
   * The link for a request of `cost` parts: `prefer` when it can carry it (a message's continuation
   * part stays with its first), else a bound link with room, least carried for its weight, else the
   * least loaded bound link whose cap has room (it waits for its window); `capped` when every bound
   * link's cap is full (with `mustGo`: the least loaded, whose cap then holds it back).
   */
  private pick(cost: number, mustGo: boolean, prefer?: SmppLink): SmppLink | 'capped' {
    if (this.links.length === 1) return this.links[0]!;
    if (prefer?.bound) return prefer;
    let best: SmppLink | null = null;
    let bestScore = Infinity;
    this.links.forEach((l, i) => {
      if (!l.hasRoom(cost)) return;
      const score = (this.carried[i]! + cost) / this.weights[i]!;
      if (score < bestScore) [best, bestScore] = [l, score];
    });
    if (best) return best;
    const bound = this.links.filter((l) => l.bound);
    if (bound.length) {
      // a bind whose window is full but whose cap is not waits for its window, as one bind does
      const open = bound.filter((l) => !l.capped(cost));
      if (!open.length && !mustGo) return 'capped';
      return (open.length ? open : bound).reduce((a, b) => (b.load < a.load ? b : a));
    }
    // none bound: the first that may still bind waits for it (or answers unavailable)
    return this.links.find((l) => !l.refused) ?? this.links[0]!;
  }

  private request(link: SmppLink, params: Record<string, unknown>, cost: number): Promise<RequestResult> {
    this.carried[this.links.indexOf(link)]! += cost;
    return link.request('submit_sm', params, cost);
  }

  /**
   * Whether `parts` submit_sm given now leave at once: the binds' windows and caps have room for
   * them (or every bind would answer `unsent` at once). Else the lane waits (until the soonest cap
   * frees, or a few ms) and claims nothing meanwhile, so a kill while a bind is being answered
   * leaves those messages planned, not `unknown`.
   */
  writable(parts = 1): Promise<void> | null {
    for (const l of this.links) l.start();
    if (this.links.every((l) => l.answersNow)) return null;
    if (this.links.length > 1) {
      this.settled ??= Promise.all(
        this.links.map((l) => l.waitBound(Math.min(2000, this.cfg.requestTimeoutMs))),
      ).then(() => (this.allSettled = true));
      if (!this.allSettled) return sleep(WRITABLE_POLL_MS);
    }
    // Each bind's cap counts from its own writes, a moment after the lane's stamp: at the instant
    // the lane's second frees room, a bind's may not have yet. Claimed then, the message found every
    // cap full and came back `throttled`, a congestion event of our own making that cost the lane
    // its rate for the ceiling's hold (bench/smpp.js binds: 965/s of 1,000).
    let room = 0;
    let capacity = 0;
    let soonest = WRITABLE_POLL_MS;
    for (const l of this.links) {
      room += l.room();
      capacity += l.capacity;
      const cap = l.writesNow ? l.capWait(1) : 0;
      if (cap > 0) soonest = Math.min(soonest, Math.max(1, cap)); // a cap frees at a known instant
    }
    // Against the windows of the binds that are up (one refused never binds: a 2-part message over
    // the other's window of 1 waited for ever); a long message's parts beyond them wait in the link,
    // as they always have.
    return capacity > 0 && room >= Math.min(parts, capacity) ? null : sleep(soonest);
  }

  /** Parts on the wire: what the lane's rate must count. */
  countParts(message: OutboundMessage): number {
    return countParts(messageText(message), this.segOptions(message));
  }

  async submit(batch: OutboundMessage[]): Promise<SubmitResult> {
    const settled = await Promise.all(batch.map((m) => this.send(m)));
    const outcomes: MessageOutcome[] = [];
    for (const s of settled) {
      if (s.kind === 'accepted' || s.kind === 'rejected' || s.kind === 'throttled') outcomes.push(s);
      else if (batch.length === 1 || s.kind === 'ambiguous')
        return s; // (maxBatch is 1: a batch-wide answer is this message's)
      else outcomes.push({ kind: 'throttled' });
    }
    return { kind: 'results', outcomes };
  }

  private segOptions(m: OutboundMessage): SegmentOptions {
    return m.to.startsWith('+') ? { ...this.seg, coding: 'ucs2' } : this.seg;
  }

  private async send(m: OutboundMessage): Promise<Settled> {
    if ((m.channel !== 'sms' && m.channel !== 'lms') || m.images?.length) {
      return {
        kind: 'rejected',
        code: 'channel',
        message: `SMPP carries SMS and LMS text, not ${m.images?.length ? 'images' : m.channel}`,
        retryable: false,
      };
    }
    this.ref = (this.ref + 1) & 0xffff;
    let seg: ReturnType<typeof segment>;
    try {
      seg = segment(messageText(m), this.segOptions(m), this.ref);
    } catch (err) {
      return { kind: 'rejected', code: 'too_long', message: (err as Error).message, retryable: false };
    }
    const source = this.address(m.from ?? this.cfg.sourceAddr ?? '', this.cfg.sourceTon, this.cfg.sourceNpi);
    const dest = this.address(m.to, this.cfg.destTon, this.cfg.destNpi);
    // written out field by field: objects of one shape all the way to the codec (computed keys and
    // spreads made its field loops megamorphic: bench/smpp.js's profile)
    const common = {
      service_type: this.cfg.serviceType,
      source_addr_ton: source.ton,
      source_addr_npi: source.npi,
      source_addr: source.addr,
      dest_addr_ton: dest.ton,
      dest_addr_npi: dest.npi,
      destination_addr: dest.addr,
      registered_delivery: this.cfg.registeredDelivery ? 1 : 0,
      data_coding: seg.dataCoding,
    };
    const [first, ...rest] = seg.pdus;
    if (this.links.length > 1) {
      this.settled ??= Promise.all(
        this.links.map((l) => l.waitBound(Math.min(2000, this.cfg.requestTimeoutMs))),
      ).then(() => (this.allSettled = true));
      if (!this.allSettled) await this.settled;
    }
    const link = this.pick(first!.cost, false);
    if (link === 'capped') return { kind: 'throttled' }; // nothing written: every bind is at its rate
    const r = await this.request(link, params(common, first!), first!.cost);
    switch (r.kind) {
      case 'unsent':
        return r.fatal ? { kind: 'fatal', message: r.reason } : { kind: 'unavailable', message: r.reason };
      case 'lost':
      case 'timeout':
        return { kind: 'ambiguous', message: r.reason };
      case 'invalid':
        return { kind: 'rejected', code: 'encode', message: r.reason, retryable: false };
    }
    if (r.status !== STATUS.OK) {
      if (isThrottle(r.status)) return { kind: 'throttled' };
      return {
        kind: 'rejected',
        code: statusHex(r.status),
        message: statusName(r.status),
        retryable: isTemporary(r.status),
      };
    }
    const ids = [canonicalId(r.messageId, this.cfg.idFormat)];
    if (rest.length) {
      const answers = await Promise.all(rest.map((p) => this.sendPart(common, p, link)));
      const total = seg.pdus.length;
      const refused = answers.findIndex((a) => a.kind === 'resp' && a.status !== STATUS.OK);
      if (refused >= 0) {
        const a = answers[refused] as { status: number };
        return {
          kind: 'rejected',
          code: statusHex(a.status),
          message: `${statusName(a.status)} (part ${refused + 2} of ${total}; the parts before it were accepted)`,
          retryable: false,
        };
      }
      const broken = answers.findIndex((a) => a.kind !== 'resp');
      if (broken >= 0) {
        const a = answers[broken] as { kind: string; reason: string };
        if (a.kind === 'invalid')
          return { kind: 'rejected', code: 'encode', message: a.reason, retryable: false };
        const accepted = answers.filter((x) => x.kind === 'resp').length + 1;
        return {
          kind: 'ambiguous',
          message: `${accepted} of ${total} parts accepted, then part ${broken + 2}: ${a.reason}`,
        };
      }
      for (const a of answers)
        ids.push(canonicalId((a as { messageId: string }).messageId, this.cfg.idFormat));
    }
    return { kind: 'accepted', providerId: ids[0]!, partIds: ids };
  }

  /** A continuation part: rate and temporary refusals are retried here, since the message is already partly out. */
  private async sendPart(
    common: Record<string, unknown>,
    pdu: PartPdu,
    first: SmppLink,
  ): Promise<RequestResult> {
    const backoff = new Backoff({ initialMs: 100, maxMs: 5000 });
    for (let attempt = 0; ; attempt++) {
      const link = this.pick(pdu.cost, true, first) as SmppLink;
      const r = await this.request(link, params(common, pdu), pdu.cost);
      if (r.kind !== 'resp' || r.status === STATUS.OK || attempt >= PART_RETRIES) return r;
      if (!isThrottle(r.status) && !isTemporary(r.status)) return r;
      await sleep(backoff.next());
    }
  }

  /** An address's TON/NPI: international (+...), alphanumeric (a sender name), else as configured. */
  private address(addr: string, ton: number, npi: number): { ton: number; npi: number; addr: string } {
    if (addr.startsWith('+')) return { ton: 1, npi: 1, addr: addr.slice(1) };
    if (addr && !/^\d+$/.test(addr)) return { ton: 5, npi: 0, addr }; // alphanumeric sender
    return { ton, npi, addr };
  }

  subscribeReports(handler: (batch: ReportBatch) => Promise<void>): void {
    this.reportHandler = handler;
    for (const l of this.links) l.start();
  }

  subscribeInbound(handler: (messages: InboundMessage[]) => Promise<void>): void {
    this.inboundHandler = handler;
    for (const l of this.links) l.start();
  }

  /**
   * For `ums report --sync`: bind, collect the receipts the SMSC kept for us until it goes quiet
   * (`quietMs`, at most `maxMs`); their deliver_sm are answered when the batch is acked.
   */
  async pollReports(quietMs = 1000, maxMs = 10_000): Promise<ReportBatch> {
    const got: Waiting<DeliveryReport>[] = (this.collector ??= []); // from the bind on: the SMSC sends at once
    // receipts may come on any bind: every link binds; one that cannot is an error only if none can
    const problems = await Promise.all(this.links.map((l) => l.waitBound(this.cfg.unavailableAfterMs)));
    const problem = problems.every((p) => p !== null) ? problems[0] : null;
    if (problem) {
      this.collector = null;
      throw new Error(`${this.name}: cannot bind to ${this.cfg.host}:${this.cfg.port}: ${problem}`);
    }
    const start = Date.now();
    let seen = -1;
    while (Date.now() - start < maxMs && got.length < 1000) {
      if (got.length === seen) break;
      seen = got.length;
      await sleep(quietMs);
    }
    this.collector = null;
    return {
      reports: got.map((w) => w.item),
      ack: async () => {
        for (const w of got) w.respond(STATUS.OK);
      },
    };
  }

  /** Let receipts and MO being committed finish (within requestTimeoutMs), then unbind. */
  async close(): Promise<void> {
    const settled = new AbortController(); // ends the pause once both are idle
    await Promise.race([
      Promise.all([this.reports.idle(), this.inbound.idle()]),
      sleep(this.cfg.requestTimeoutMs, settled.signal),
    ]);
    settled.abort();
    await Promise.all(this.links.map((l) => l.close()));
  }

  private onDeliver(pdu: PDU, respond: (status: number) => void): void {
    const esm = num(pdu.esm_class) ?? 0;
    const coding = num(pdu.data_coding) ?? 0;
    const short = bytesOf(pdu.short_message);
    const payload = bytesOf(pdu.message_payload);
    const body = stripUdh(short.length ? short : payload, esm);
    const type = esm & 0x3c;
    if (type === 0x04) {
      this.counts.receipts++;
      const got = interpretReceipt(
        {
          text: coding === 0x08 ? decodeShortMessage(body, 0x08) : body.toString('latin1'),
          receiptedMessageId: printable(pdu.receipted_message_id),
          messageState: num(pdu.message_state),
          networkErrorCode: Buffer.isBuffer(pdu.network_error_code) ? pdu.network_error_code : null,
          sourceAddr: senderNumber(String(pdu.source_addr ?? ''), num(pdu.source_addr_ton) ?? 0),
        },
        this.cfg.idFormat,
        this.cfg.receiptUtcOffset,
      );
      if (got.kind !== 'final') {
        // on the way (ENROUTE) or with neither stat nor message_state: nothing a journal row can say
        this.counts[got.kind === 'intermediate' ? 'intermediate' : 'unreadable']++;
        respond(STATUS.OK);
        return;
      }
      if (this.reportHandler)
        this.reports.push({ item: got.report, respond }, (items) => this.deliverReports(items));
      else if (this.collector) this.collector.push({ item: got.report, respond });
      else respond(STATUS.RX_T_APPN); // nobody stores it now: the SMSC keeps it and sends it again
      return;
    }
    if (type !== 0) {
      respond(STATUS.OK); // SME/user acknowledgements, intermediate notifications: not ours to keep
      return;
    }
    this.counts.inbound++;
    const text = decodeShortMessage(body, coding);
    const message: InboundMessage = {
      from: senderNumber(String(pdu.source_addr ?? ''), num(pdu.source_addr_ton) ?? 0),
      to: String(pdu.destination_addr ?? ''),
      text,
      receivedAt: new Date().toISOString(),
      providerId: null,
      optOut: isOptOutText(text, this.cfg.optoutWords),
    };
    if (!this.inboundHandler) {
      respond(STATUS.RX_T_APPN); // not stored: the SMSC keeps it and sends it again
      return;
    }
    const handler = this.inboundHandler;
    this.inbound.push({ item: message, respond }, async (items) => {
      try {
        await handler(items.map((w) => w.item));
        for (const w of items) w.respond(STATUS.OK);
      } catch {
        for (const w of items) w.respond(STATUS.RX_T_APPN);
      }
    });
  }

  /** deliver_sm_resp only after the journal has them: in ack(), which the handler calls after its commit. */
  private async deliverReports(items: Waiting<DeliveryReport>[]): Promise<void> {
    const handler = this.reportHandler!;
    let acked = false;
    try {
      await handler({
        reports: items.map((w) => w.item),
        ack: async () => {
          acked = true;
          for (const w of items) w.respond(STATUS.OK);
        },
      });
    } catch {
      /* not stored: answered below, so the SMSC sends them again */
    }
    if (!acked) for (const w of items) w.respond(STATUS.RX_T_APPN);
  }
}

/**
 * Items handed to an async consumer in batches, one batch at a time, in arrival order: receipts
 * that arrive together are committed in one transaction.
 */
class Drain<T> {
  private readonly queue: Waiting<T>[] = [];
  private running: Promise<void> | null = null;

  push(w: Waiting<T>, consume: (items: Waiting<T>[]) => Promise<void>): void {
    this.queue.push(w);
    this.running ??= (async () => {
      await new Promise((r) => setImmediate(r));
      while (this.queue.length) await consume(this.queue.splice(0, 500));
      this.running = null;
    })();
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }
}

/** The text a phone shows: an LMS subject goes first, on its own line (SMPP has no subject field). */
export function messageText(m: OutboundMessage): string {
  return m.subject ? `${m.subject}\n${m.text}` : m.text;
}

function params(common: Record<string, unknown>, p: PartPdu): Record<string, unknown> {
  return { ...common, esm_class: p.esm_class, short_message: p.short_message, ...p.tlvs };
}

function num(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

function bytesOf(v: unknown): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.alloc(0);
}

/** A C-string TLV some SMSCs send without its NUL: keep the printable id only. */
function printable(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const m = /^[\x21-\x7e]+/.exec(v.trim());
  return m ? m[0] : null;
}

export function createSmppProvider(
  name: string,
  config: Record<string, unknown>,
  ctx: ProviderContext,
): Provider {
  return new SmppProvider(name, parseSmppConfig(name, config), ctx);
}
