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
import { parseSmppConfig, type SmppConfig } from './config.js';
import { type RequestResult, SmppLink } from './link.js';
import { decodeShortMessage, isOptOutText, senderNumber, stripUdh } from './mo.js';
import { canonicalId, interpretReceipt } from './receipt.js';
import { countParts, type PartPdu, type SegmentOptions, segment } from './segment.js';

/** How often a continuation part refused for rate is tried again (its message's first part is already out). */
const PART_RETRIES = 6;

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
 * SMPP 3.4 over one transceiver connection. One message per submit() (maxBatch 1), so a dropped
 * connection makes exactly the messages whose submit_sm was in flight ambiguous; ums encodes and
 * splits the text itself. There is no lookup: SMPP cannot ask the SMSC what it holds, so the engine
 * reports such messages `unknown` instead of sending them again.
 */
export class SmppProvider implements Provider {
  readonly maxBatch = 1;
  readonly tps: number;
  readonly reportWaitMs: number;
  readonly window: number;
  readonly maxSubmits: number;
  private readonly link: SmppLink;
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
    this.tps = ctx.tps ?? cfg.tps;
    this.window = cfg.window;
    this.maxSubmits = cfg.maxSubmits;
    this.reportWaitMs = cfg.reportWaitMs;
    this.seg = { coding: cfg.dataCoding, mode: cfg.longMessages, udhRefBits: cfg.udhRefBits };
    this.link = new SmppLink(
      {
        host: cfg.host,
        port: cfg.port,
        systemId: cfg.systemId,
        password: cfg.password,
        systemType: cfg.systemType,
        window: cfg.window,
        tps: this.tps,
        rateGuardMs: cfg.rateGuardMs,
        enquireLinkMs: cfg.enquireLinkMs,
        requestTimeoutMs: cfg.requestTimeoutMs,
        unavailableAfterMs: cfg.unavailableAfterMs,
        backoffMaxMs: cfg.reconnectMaxMs,
      },
      (pdu, respond) => this.onDeliver(pdu, respond),
    );
  }

  get stats(): SmppStats {
    return { binds: this.link.binds, drops: this.link.drops, ...this.counts };
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
    let seg;
    try {
      seg = segment(messageText(m), this.segOptions(m), this.ref);
    } catch (err) {
      return { kind: 'rejected', code: 'too_long', message: (err as Error).message, retryable: false };
    }
    const common = {
      service_type: this.cfg.serviceType,
      ...this.address('source', m.from ?? this.cfg.sourceAddr ?? ''),
      ...this.address('dest', m.to),
      registered_delivery: this.cfg.registeredDelivery ? 1 : 0,
      data_coding: seg.dataCoding,
    };
    const [first, ...rest] = seg.pdus;
    const r = await this.link.request('submit_sm', params(common, first!), first!.cost);
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
      const answers = await Promise.all(rest.map((p) => this.sendPart(common, p)));
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
  private async sendPart(common: Record<string, unknown>, pdu: PartPdu): Promise<RequestResult> {
    const backoff = new Backoff({ initialMs: 100, maxMs: 5000 });
    for (let attempt = 0; ; attempt++) {
      const r = await this.link.request('submit_sm', params(common, pdu), pdu.cost);
      if (r.kind !== 'resp' || r.status === STATUS.OK || attempt >= PART_RETRIES) return r;
      if (!isThrottle(r.status) && !isTemporary(r.status)) return r;
      await sleep(backoff.next());
    }
  }

  private address(which: 'source' | 'dest', addr: string): Record<string, unknown> {
    const ton = which === 'source' ? this.cfg.sourceTon : this.cfg.destTon;
    const npi = which === 'source' ? this.cfg.sourceNpi : this.cfg.destNpi;
    const prefix = which === 'source' ? 'source_addr' : 'dest_addr';
    const field = which === 'source' ? 'source_addr' : 'destination_addr';
    if (addr.startsWith('+')) return { [`${prefix}_ton`]: 1, [`${prefix}_npi`]: 1, [field]: addr.slice(1) };
    if (addr && !/^\d+$/.test(addr)) return { [`${prefix}_ton`]: 5, [`${prefix}_npi`]: 0, [field]: addr }; // alphanumeric sender
    return { [`${prefix}_ton`]: ton, [`${prefix}_npi`]: npi, [field]: addr };
  }

  subscribeReports(handler: (batch: ReportBatch) => Promise<void>): void {
    this.reportHandler = handler;
    this.link.start();
  }

  subscribeInbound(handler: (messages: InboundMessage[]) => Promise<void>): void {
    this.inboundHandler = handler;
    this.link.start();
  }

  /**
   * For `ums report --sync`: bind, collect the receipts the SMSC kept for us until it goes quiet
   * (`quietMs`, at most `maxMs`); their deliver_sm are answered when the batch is acked.
   */
  async pollReports(quietMs = 1000, maxMs = 10_000): Promise<ReportBatch> {
    const got: Waiting<DeliveryReport>[] = (this.collector ??= []); // from the bind on: the SMSC sends at once
    const problem = await this.link.waitBound(this.cfg.unavailableAfterMs);
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
    await this.link.close();
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
