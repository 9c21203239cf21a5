import type { AddressInfo } from 'node:net';
import iconv from 'iconv-lite';
// The package with its text filters off, as ums uses it: short_message arrives as raw bytes.
import { type PDU, type Server, type Session, smpp } from '../../src/providers/smpp/codec.js';

/**
 * A local SMSC on the `smpp` package's server (127.0.0.1, a random port), strict where a carrier is
 * and checking what ums sends on its own terms (its own UDH and character checks, not ums's code):
 * binds, counts submit_sm per second in parts, checks data_coding and UDH, reassembles
 * concatenated messages per recipient, throttles with 0x58 over its rate, sends receipts (in
 * several styles) and MO messages, and drops the connection mid-window on demand.
 */

export type ReceiptStyle = 'tlv' | 'text-dec' | 'text-odd';

export interface FakeSmscOptions {
  systemId?: string;
  /** more system_ids taken (with the same password): an account's several binds */
  systemIds?: string[];
  password?: string;
  /** throttle (ESME_RTHROTTLED) submit_sm beyond this many parts in any 1,000 ms; 0 = no limit */
  tps?: number;
  /** pause before each submit_sm_resp */
  respondDelayMs?: number;
  /** how submit_sm_resp writes message ids */
  idFormat?: 'hex' | 'dec';
  /** data_coding values taken; others are refused with ESME_RINVDCS and recorded as violations */
  dataCodings?: number[];
  /** receipts for accepted parts, after this delay; styles rotate per message */
  receipts?: { delayMs: number; styles?: ReceiptStyle[] } | false;
  /** destination -> command_status to refuse its submit_sm with */
  refuse?: Record<string, number>;
  /** destinations whose receipts say UNDELIV (for every part, or only the last part of a long message) */
  undeliverable?: string[];
  failLastPartOnly?: boolean;
  /** destroy the connection when this many submit_sm have arrived (the last ones unanswered) */
  dropAfterSubmits?: number;
  /** never answer enquire_link (a dead link that still looks open) */
  silentEnquireLink?: boolean;
  /**
   * submit_sm (1-based count) answered with bytes the codec cannot read (a PDU header claiming
   * 4 GB) instead of submit_sm_resp; the message is taken all the same
   */
  garbageAnswer?: (n: number) => boolean;
  /** pause before each bind_transceiver_resp (a slow bind: what the client queues meanwhile has not left) */
  bindDelayMs?: number;
}

export interface Arrival {
  at: number;
  to: string;
  parts: number;
  status: number;
  /** the bind it came on */
  systemId: string;
  /** source and destination as written: TON/NPI/address */
  source: [number, number, string];
  dest: [number, number, string];
}

export interface WholeMessage {
  to: string;
  text: string;
  parts: number;
  dataCoding: number;
  ids: string[];
}

interface Assembly {
  total: number;
  got: Map<number, { bytes: Buffer; id: string }>;
  dataCoding: number;
}

export class FakeSmsc {
  readonly binds: { systemId: string; interfaceVersion: number; ok: boolean }[] = [];
  readonly arrivals: Arrival[] = [];
  readonly messages: WholeMessage[] = [];
  readonly violations: string[] = [];
  readonly receiptAnswers: { id: string; status: number; at: number }[] = [];
  receiptsSent = 0;
  enquireLinks = 0;
  private readonly assemblies = new Map<string, Assembly>();
  private readonly accepted: { at: number; parts: number }[] = [];
  private nextId = 0x1a2b00;
  private bound: Session[] = [];
  private readonly sessionIds = new Map<Session, string>();
  private readonly killed = new Set<string>();
  private readonly pendingReceipts: (() => void)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private submitCount = 0;
  private dropAt: number | null;
  private lastPort = 0;

  private constructor(
    private readonly server: Server,
    readonly opts: FakeSmscOptions,
  ) {
    this.dropAt = opts.dropAfterSubmits ?? null;
  }

  static async start(opts: FakeSmscOptions = {}): Promise<FakeSmsc> {
    let smsc: FakeSmsc | null = null;
    const server = smpp.createServer((session) => smsc!.accept(session));
    smsc = new FakeSmsc(server, opts);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return smsc;
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? this.lastPort;
  }

  /** The SMSC down: stop listening (connection refused) and drop every connection. */
  async stopListening(): Promise<void> {
    this.lastPort = this.port;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.dropAll();
    await closed;
  }

  /** Back up, on the same port. */
  async listenAgain(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.lastPort, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Whole messages per recipient, counted. */
  receivedPerRecipient(): Map<string, number> {
    const n = new Map<string, number>();
    for (const m of this.messages) n.set(m.to, (n.get(m.to) ?? 0) + 1);
    return n;
  }

  /** Drop the connection at the `n`th submit_sm from now on (counting all so far). */
  dropAfter(n: number): void {
    this.dropAt = this.submitCount + n;
  }

  /**
   * The bind of `systemId` goes down for good: its connection is destroyed (what was in flight on it
   * unanswered), and it cannot bind again (each attempt's connection is closed).
   */
  kill(systemId: string): void {
    this.killed.add(systemId);
    for (const [session, id] of this.sessionIds) if (id === systemId) session.destroy();
  }

  /** Destroy every connection now. */
  dropAll(): void {
    for (const s of [...this.server.sessions]) s.destroy();
    this.bound = [];
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * The most parts that arrived in any window of `ms` (all submit_sm, throttled ones included);
   * `from`: only arrivals from that index on.
   */
  maxPartsInWindow(ms = 1000, from = 0): number {
    const a = this.arrivals.slice(from);
    let best = 0;
    let sum = 0;
    for (let i = 0, j = 0; i < a.length; i++) {
      sum += a[i]!.parts;
      while (a[j]!.at <= a[i]!.at - ms) sum -= a[j++]!.parts;
      best = Math.max(best, sum);
    }
    return best;
  }

  /** Whole messages per recipient. */
  received(): Map<string, WholeMessage[]> {
    const by = new Map<string, WholeMessage[]>();
    for (const m of this.messages) by.set(m.to, [...(by.get(m.to) ?? []), m]);
    return by;
  }

  /** Send an MO message to a bound session; resolves with deliver_sm_resp's command_status. */
  sendMo(from: string, text: string, dataCoding = 0x0e, fromTon = 0): Promise<number> {
    const bytes =
      dataCoding === 0x08
        ? Buffer.from(text, 'utf16le').swap16()
        : dataCoding === 0x0e
          ? iconv.encode(text, 'cp949')
          : Buffer.from(text, 'latin1');
    return this.deliver({
      source_addr_ton: fromTon,
      source_addr: from,
      destination_addr: '0212345678',
      esm_class: 0,
      data_coding: dataCoding,
      short_message: bytes,
    });
  }

  /** Send a delivery receipt as written; resolves with deliver_sm_resp's command_status. */
  sendReceipt(text: string, tlvs: Record<string, unknown> = {}, from = '01000000000'): Promise<number> {
    return this.deliver({
      source_addr: from,
      destination_addr: '0212345678',
      esm_class: 0x04,
      data_coding: 0,
      short_message: Buffer.from(text, 'latin1'),
      ...tlvs,
    });
  }

  private deliver(fields: Record<string, unknown>, timeoutMs = 5000): Promise<number> {
    return new Promise((resolve) => {
      const go = (): void => {
        const session = this.bound[0];
        if (!session) {
          this.pendingReceipts.push(go);
          return;
        }
        const timer = setTimeout(() => resolve(-1), timeoutMs);
        session.send(new smpp.PDU('deliver_sm', fields), (resp: PDU) => {
          clearTimeout(timer);
          resolve(resp.command_status);
        });
      };
      go();
    });
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private accept(session: Session): void {
    session.on('error', () => session.destroy());
    session.on('close', () => {
      this.bound = this.bound.filter((s) => s !== session);
      this.sessionIds.delete(session);
    });
    session.on('bind_transceiver', (pdu: PDU) => {
      const ids = [this.opts.systemId ?? 'ums', ...(this.opts.systemIds ?? [])];
      if (this.killed.has(String(pdu.system_id))) {
        session.destroy();
        return;
      }
      const ok = ids.includes(String(pdu.system_id)) && pdu.password === (this.opts.password ?? 'secret');
      this.binds.push({
        systemId: String(pdu.system_id),
        interfaceVersion: Number(pdu.interface_version),
        ok,
      });
      if (pdu.interface_version !== 0x34)
        this.violations.push(`bind with interface_version ${String(pdu.interface_version)}`);
      const answer = (): void => {
        if (session.socket.destroyed) return;
        session.send(pdu.response(ok ? { system_id: 'fake' } : { command_status: 0x0e }));
        if (!ok) return;
        this.bound.push(session);
        this.sessionIds.set(session, String(pdu.system_id));
        for (const go of this.pendingReceipts.splice(0)) go();
      };
      if (this.opts.bindDelayMs) this.later(this.opts.bindDelayMs, answer);
      else answer();
    });
    session.on('enquire_link', (pdu: PDU) => {
      this.enquireLinks++;
      if (!this.opts.silentEnquireLink) session.send(pdu.response());
    });
    session.on('unbind', (pdu: PDU) => session.send(pdu.response(), undefined, () => session.destroy()));
    session.on('submit_sm', (pdu: PDU) => this.onSubmit(session, pdu));
  }

  private onSubmit(session: Session, pdu: PDU): void {
    const now = performance.now();
    const to = String(pdu.destination_addr);
    const dc = Number(pdu.data_coding);
    const esm = Number(pdu.esm_class);
    const short = Buffer.isBuffer(pdu.short_message) ? pdu.short_message : Buffer.alloc(0);
    const payload = Buffer.isBuffer(pdu.message_payload) ? pdu.message_payload : null;
    const parts = payload && payload.length > 140 ? Math.ceil(payload.length / 134) : 1;
    const arrival: Arrival = {
      at: now,
      to,
      parts,
      status: 0,
      systemId: this.sessionIds.get(session) ?? '',
      source: [Number(pdu.source_addr_ton), Number(pdu.source_addr_npi), String(pdu.source_addr)],
      dest: [Number(pdu.dest_addr_ton), Number(pdu.dest_addr_npi), to],
    };
    this.arrivals.push(arrival);
    this.submitCount++;
    if (!this.bound.includes(session)) this.violations.push('submit_sm before bind');

    let status = 0;
    const allowed = this.opts.dataCodings ?? [0x08, 0x0e];
    if (!allowed.includes(dc)) {
      this.violations.push(`data_coding 0x${dc.toString(16)} to ${to}`);
      status = 0x104;
    }
    if (!status && this.opts.tps) {
      while (this.accepted.length && this.accepted[0]!.at <= now - 1000) this.accepted.shift();
      const used = this.accepted.reduce((n, x) => n + x.parts, 0);
      if (used + parts > this.opts.tps) status = 0x58;
    }
    if (!status && this.opts.refuse?.[to] !== undefined) status = this.opts.refuse[to]!;
    arrival.status = status;
    const id = this.nextId++;
    const idText = this.opts.idFormat === 'dec' ? String(id) : id.toString(16);
    if (!status) {
      this.accepted.push({ at: now, parts });
      this.take(to, dc, esm, short, payload, pdu, idText);
    }

    if (this.dropAt !== null && this.submitCount >= this.dropAt) {
      // It reached us, and its answer is lost with the connection: ums must not send it again.
      this.dropAt = null;
      session.destroy();
      return;
    }
    const garbage = this.opts.garbageAnswer?.(this.submitCount) ?? false;
    const answer = (): void => {
      if (garbage) {
        const bytes = Buffer.alloc(16);
        bytes.writeUInt32BE(0xffffffff, 0); // command_length: over any PDU's maximum
        bytes.writeUInt32BE(0x80000004, 4); // submit_sm_resp
        bytes.writeUInt32BE(Number(pdu.sequence_number), 12);
        session.socket.write(bytes);
        return;
      }
      session.send(status ? pdu.response({ command_status: status }) : pdu.response({ message_id: idText }));
    };
    if (this.opts.respondDelayMs) this.later(this.opts.respondDelayMs, answer);
    else answer();
  }

  /** Check one accepted part and add it to its message. */
  private take(
    to: string,
    dc: number,
    esm: number,
    short: Buffer,
    payload: Buffer | null,
    pdu: PDU,
    id: string,
  ): void {
    let ref: number | null = null;
    let total = 1;
    let seq = 1;
    let body = short;
    if (payload) {
      if (short.length) this.violations.push(`both short_message and message_payload to ${to}`);
      body = payload;
    } else if (esm & 0x40) {
      const udhl = short[0]!;
      const ie = short.subarray(1, 1 + udhl);
      if (ie[0] === 0x00 && ie[1] === 0x03 && udhl === 5) [ref, total, seq] = [ie[2]!, ie[3]!, ie[4]!];
      else if (ie[0] === 0x08 && ie[1] === 0x04 && udhl === 6)
        [ref, total, seq] = [(ie[2]! << 8) | ie[3]!, ie[4]!, ie[5]!];
      else this.violations.push(`unknown UDH ${short.subarray(0, 1 + udhl).toString('hex')} to ${to}`);
      body = short.subarray(1 + udhl);
    } else if (pdu.sar_msg_ref_num !== undefined) {
      [ref, total, seq] = [
        Number(pdu.sar_msg_ref_num),
        Number(pdu.sar_total_segments),
        Number(pdu.sar_segment_seqnum),
      ];
    }
    if (short.length > 140) this.violations.push(`short_message of ${short.length} octets to ${to}`);
    if (seq < 1 || seq > total || total < 1) this.violations.push(`part ${seq} of ${total} to ${to}`);
    const broken = splitCharacter(body, dc);
    if (broken) this.violations.push(`part ${seq}/${total} to ${to}: ${broken}`);
    if (ref === null || total === 1) {
      this.complete(to, dc, [{ bytes: body, id }]);
      return;
    }
    const key = `${to}|${ref}|${total}`;
    const a = this.assemblies.get(key) ?? { total, got: new Map(), dataCoding: dc };
    this.assemblies.set(key, a);
    if (a.dataCoding !== dc) this.violations.push(`parts of one message to ${to} in two data codings`);
    if (a.got.has(seq)) this.violations.push(`part ${seq}/${total} to ${to} twice (ref ${ref})`);
    a.got.set(seq, { bytes: body, id });
    if (a.got.size === total) {
      this.assemblies.delete(key);
      this.complete(
        to,
        dc,
        [...a.got.entries()].sort((x, y) => x[0] - y[0]).map(([, v]) => v),
      );
    }
  }

  private complete(to: string, dc: number, parts: { bytes: Buffer; id: string }[]): void {
    const bytes = Buffer.concat(parts.map((p) => p.bytes));
    const text =
      dc === 0x08
        ? bytes.swap16().toString('utf16le')
        : dc === 0x0e
          ? iconv.decode(bytes, 'cp949')
          : bytes.toString('latin1');
    const index = this.messages.length;
    this.messages.push({ to, text, parts: parts.length, dataCoding: dc, ids: parts.map((p) => p.id) });
    const r = this.opts.receipts;
    if (!r) return;
    const styles = r.styles ?? ['tlv', 'text-dec', 'text-odd'];
    const style = styles[index % styles.length]!;
    const failed = this.opts.undeliverable?.includes(to) ?? false;
    parts.forEach((p, i) => {
      const partFailed = failed && (!this.opts.failLastPartOnly || i === parts.length - 1);
      this.later(r.delayMs, () => {
        this.receiptsSent++;
        void this.deliver(receiptFields(p.id, to, partFailed, style, this.opts.idFormat ?? 'hex')).then(
          (status) => this.receiptAnswers.push({ id: p.id, status, at: performance.now() }),
        );
      });
    });
  }
}

/** A receipt as carriers write them, in one of a few styles. */
function receiptFields(
  id: string,
  to: string,
  failed: boolean,
  style: ReceiptStyle,
  idFormat: 'hex' | 'dec',
): Record<string, unknown> {
  const dec = idFormat === 'hex' ? String(parseInt(id, 16)) : id;
  const stat = failed ? 'UNDELIV' : 'DELIVRD';
  const err = failed ? '001' : '000';
  const date = '2401151230';
  const text =
    style === 'text-odd'
      ? `ID: ${dec}   Sub:001 DLVRD:001  Submit_Date:${date} Done Date: 240115123059 STAT: ${stat.toLowerCase()} Err:${err}  text:`
      : `id:${dec} sub:001 dlvrd:${failed ? '000' : '001'} submit date:${date} done date:${date} stat:${stat} err:${err} text:`;
  const fields: Record<string, unknown> = {
    source_addr: to,
    destination_addr: '0212345678',
    esm_class: 0x04,
    data_coding: 0,
    short_message: Buffer.from(text, 'latin1'),
  };
  if (style === 'tlv') Object.assign(fields, { receipted_message_id: id, message_state: failed ? 5 : 2 });
  return fields;
}

/** Why a part's bytes cut a character in two, or null. */
function splitCharacter(bytes: Buffer, dc: number): string | null {
  if (dc === 0x08) {
    if (bytes.length % 2) return 'odd UCS-2 length';
    const first = bytes.length ? bytes.readUInt16BE(0) : 0;
    const last = bytes.length ? bytes.readUInt16BE(bytes.length - 2) : 0;
    if (first >= 0xdc00 && first <= 0xdfff) return 'starts with the second half of a surrogate pair';
    if (last >= 0xd800 && last <= 0xdbff) return 'ends with the first half of a surrogate pair';
    return null;
  }
  if (dc === 0x0e) {
    for (let i = 0; i < bytes.length; ) {
      const b = bytes[i]!;
      if (b < 0x80) {
        i++;
        continue;
      }
      if (b < 0xa1 || b > 0xfe) return `byte 0x${b.toString(16)} at ${i} is not KS C 5601`;
      const t = bytes[i + 1];
      if (t === undefined) return 'ends with the first byte of a KS C 5601 character';
      if (t < 0xa1 || t > 0xfe)
        return `byte pair ${b.toString(16)}${t.toString(16)} at ${i} is not KS C 5601`;
      i += 2;
    }
  }
  return null;
}
