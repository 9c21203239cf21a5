import { Backoff } from '../../time/backoff.js';
import { RateWindow } from '../../time/rate.js';
import { sleep } from '../../time/sleep.js';
import { isCredentialError, type PDU, type Session, STATUS, smpp, statusHex, statusName } from './codec.js';

export interface LinkOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType: string;
  /** requests in flight on the connection */
  window: number;
  /**
   * A cap, not a pacer: the parts written in any 1,000 ms + capGuardMs never exceed it (0 or unset:
   * no cap). The lane paces (delivery/laneRate.ts); with several binds the provider spreads the lane
   * over them, and this only holds back a continuation part a full bind must still carry.
   */
  capTps?: number;
  capGuardMs?: number;
  enquireLinkMs: number;
  requestTimeoutMs: number;
  unavailableAfterMs: number;
  /** first and longest pause between reconnects (ms) */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

/** What became of one request. */
export type RequestResult =
  | { kind: 'resp'; status: number; messageId: string }
  /** it never left: no bound connection (or the credentials are refused: `fatal`) */
  | { kind: 'unsent'; fatal: boolean; reason: string }
  /** it left, and the connection closed before its answer */
  | { kind: 'lost'; reason: string }
  /** it left, and no answer came within requestTimeoutMs */
  | { kind: 'timeout'; reason: string }
  /** the PDU could not be encoded */
  | { kind: 'invalid'; reason: string };

/** A deliver_sm (or data_sm) from the SMSC; `respond` answers it on the connection it came on. */
export type DeliverHandler = (pdu: PDU, respond: (status: number) => void) => void;

/** A request not answered yet; one waiting (not written) may move to another link: takeQueued(). */
export interface Pending {
  command: string;
  params: Record<string, unknown>;
  cost: number;
  resolve: (r: RequestResult) => void;
  /** written: when it times out (performance.now()) */
  deadline?: number;
}

type State = 'idle' | 'connecting' | 'binding' | 'bound' | 'closed';

/**
 * One SMPP connection (one bind): a transceiver bind (interface_version 0x34), enquire_link
 * keepalive, a time limit on every request, a window of requests in flight, an optional cap, and
 * reconnect + rebind with backoff. Requests wait in order for a bound connection; what was in flight when the connection
 * dropped is answered `lost`, never sent again here.
 */
export class SmppLink {
  private state: State = 'idle';
  private session: Session | null = null;
  private readonly queue: Pending[] = [];
  private readonly inflight = new Map<number, Pending>();
  /** the bind's cap (no pacing: the lane paces); null: none */
  private readonly cap: RateWindow | null;
  private seq = 0;
  private bindSeq = -1;
  private enquireSeq = -1;
  private fatal: string | null = null;
  private lastError = 'not connected yet';
  private downSince: number | null = null;
  private readonly backoff: Backoff;
  private timers: {
    connect?: NodeJS.Timeout;
    bind?: NodeJS.Timeout;
    reconnect?: NodeJS.Timeout;
    down?: NodeJS.Timeout;
    pump?: NodeJS.Timeout;
    enquire?: NodeJS.Timeout;
    enquireAnswer?: NodeJS.Timeout;
    /** at the oldest request's deadline (one timer for them all, not one each: bench/smpp.js) */
    expire?: NodeJS.Timeout;
  } = {};
  private unbound: (() => void) | null = null;
  /** successful binds so far (a rebind after a drop counts) */
  binds = 0;
  /** connections that dropped while bound */
  drops = 0;

  constructor(
    private readonly opts: LinkOptions,
    private readonly onDeliver: DeliverHandler,
    /** called when this link has bound, and when it dropped (queued requests may then move) */
    private readonly onState: (link: SmppLink) => void = () => {},
  ) {
    this.cap = opts.capTps
      ? new RateWindow(opts.capTps, { windowMs: 1000 + (opts.capGuardMs ?? 5), spacingMs: 0, catchUpMs: 0 })
      : null;
    this.backoff = new Backoff({
      initialMs: opts.backoffMinMs ?? 100,
      maxMs: opts.backoffMaxMs ?? 30_000,
      jitter: 0.25,
    });
  }

  get bound(): boolean {
    return this.state === 'bound';
  }

  /** the credentials were refused: this link never binds again */
  get refused(): boolean {
    return this.fatal !== null;
  }

  /** requests written and not answered, plus those waiting */
  get load(): number {
    return this.inflight.size + this.queue.length;
  }

  /** A request of `cost` parts would be written at once: bound, nothing waiting, window and cap room. */
  hasRoom(cost: number): boolean {
    return (
      this.bound &&
      this.queue.length === 0 &&
      this.inflight.size < this.opts.window &&
      (this.cap?.wait(cost, performance.now()) ?? 0) === 0
    );
  }

  /** A request given now would be written at once (the cap aside): bound, nothing waiting, window room. */
  get writesNow(): boolean {
    return this.bound && this.queue.length === 0 && this.inflight.size < this.opts.window;
  }

  /** A request given now would be answered `unsent` at once, without being written. */
  get answersNow(): boolean {
    return (
      this.fatal !== null ||
      this.state === 'closed' ||
      (!this.bound && this.downSince !== null && Date.now() - this.downSince >= this.opts.unavailableAfterMs)
    );
  }

  /**
   * Parts of one-part requests this link would write at once: window room, and the cap's room
   * (several binds); 0 while it is not bound or requests wait here.
   */
  room(): number {
    if (!this.bound || this.queue.length > 0) return 0;
    const window = this.opts.window - this.inflight.size;
    return Math.max(0, Math.min(window, this.cap?.room(performance.now()) ?? window));
  }

  /** The window of a bound link (what it could ever write at once); 0 while it is not bound. */
  get capacity(): number {
    return this.bound ? this.opts.window : 0;
  }

  /** ms until the cap lets `cost` parts go (0: now, or no cap). */
  capWait(cost: number): number {
    return this.cap?.wait(cost, performance.now()) ?? 0;
  }

  /** Whether the cap alone holds `cost` parts back now. */
  capped(cost: number): boolean {
    return (this.cap?.wait(cost, performance.now()) ?? 0) > 0;
  }

  /** The requests waiting here (none of them written): taken away, for another link to carry. */
  takeQueued(): Pending[] {
    return this.queue.splice(0);
  }

  /** Carry a request another link took in and did not write. */
  adopt(p: Pending): void {
    if (this.fatal) {
      p.resolve({ kind: 'unsent', fatal: true, reason: this.fatal });
      return;
    }
    this.queue.push(p);
    this.start();
    this.pump();
  }

  /** Connect and bind (once; reconnects happen by themselves). */
  start(): void {
    if (this.state !== 'idle' || this.timers.reconnect || this.fatal) return;
    this.markDown();
    this.connect();
  }

  /** Resolves when bound, or with the reason it is not after `ms`. */
  async waitBound(ms: number): Promise<string | null> {
    this.start();
    const deadline = Date.now() + ms;
    while (!this.bound) {
      if (this.fatal) return this.fatal;
      if (this.state === 'closed') return 'closed';
      if (Date.now() >= deadline) return this.lastError;
      await sleep(10);
    }
    return null;
  }

  /** Send one request when the window, the rate and the connection allow; `cost` is in parts. */
  request(command: string, params: Record<string, unknown>, cost: number): Promise<RequestResult> {
    if (this.fatal) return Promise.resolve({ kind: 'unsent', fatal: true, reason: this.fatal });
    if (this.state === 'closed')
      return Promise.resolve({ kind: 'unsent', fatal: false, reason: 'the connection is closed' });
    this.start();
    if (
      !this.bound &&
      this.downSince !== null &&
      Date.now() - this.downSince >= this.opts.unavailableAfterMs
    ) {
      return Promise.resolve({ kind: 'unsent', fatal: false, reason: this.downReason() });
    }
    return new Promise((resolve) => {
      this.queue.push({ command, params, cost, resolve });
      this.pump();
    });
  }

  /** Unbind politely, then close; whatever still waits is answered `unsent`. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const session = this.session;
    const wasBound = this.bound;
    this.state = 'closed';
    for (const t of Object.values(this.timers)) if (t) clearTimeout(t);
    this.timers = {};
    this.failQueued('the connection is closing');
    if (session && wasBound) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.unbound = () => {
          clearTimeout(timer);
          resolve();
        };
        if (!this.write(session, new smpp.PDU('unbind', { sequence_number: this.nextSeq() }))) resolve();
      });
    }
    session?.destroy();
    this.session = null;
    this.failInflight('the connection was closed');
  }

  private nextSeq(): number {
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    return this.seq;
  }

  /** Encode and write one PDU; false when the socket can no longer be written (nothing left). */
  private write(session: Session, pdu: PDU | Buffer): boolean {
    if (!session.socket.writable) return false;
    session.socket.write(Buffer.isBuffer(pdu) ? pdu : pdu.toBuffer());
    return true;
  }

  private connect(): void {
    delete this.timers.reconnect;
    if (this.state === 'closed' || this.fatal) return;
    this.state = 'connecting';
    const session = smpp.connect({ host: this.opts.host, port: this.opts.port });
    this.session = session;
    session.socket.setNoDelay(true);
    this.timers.connect = setTimeout(() => {
      this.lastError = `no connection to ${this.opts.host}:${this.opts.port} within ${this.opts.requestTimeoutMs} ms`;
      session.destroy();
    }, this.opts.requestTimeoutMs);
    session.on('connect', () => {
      clearTimeout(this.timers.connect);
      if (session === this.session) this.bind(session);
    });
    session.on('pdu', (pdu: PDU) => this.onPdu(session, pdu));
    session.on('error', (err: NodeJS.ErrnoException) => {
      this.lastError = `${err.code ? `${err.code}: ` : ''}${err.message}`;
      session.destroy();
    });
    session.on('close', () => this.onClose(session));
  }

  private bind(session: Session): void {
    this.state = 'binding';
    this.bindSeq = this.nextSeq();
    const pdu = new smpp.PDU('bind_transceiver', {
      sequence_number: this.bindSeq,
      system_id: this.opts.systemId,
      password: this.opts.password,
      system_type: this.opts.systemType,
      interface_version: 0x34,
    });
    this.timers.bind = setTimeout(() => {
      this.lastError = `no answer to bind_transceiver within ${this.opts.requestTimeoutMs} ms`;
      session.destroy();
    }, this.opts.requestTimeoutMs);
    if (!this.write(session, pdu)) session.destroy();
  }

  private onPdu(session: Session, pdu: PDU): void {
    if (session !== this.session) return;
    if (pdu.isResponse()) {
      const seq = pdu.sequence_number;
      if (seq === this.bindSeq && this.state === 'binding') {
        this.onBindResp(session, pdu);
        return;
      }
      if (seq === this.enquireSeq) {
        clearTimeout(this.timers.enquireAnswer);
        this.enquireSeq = -1;
        return;
      }
      const p = this.inflight.get(seq);
      if (p) {
        this.inflight.delete(seq);
        if (!this.inflight.size) this.stopExpiry();
        const id = pdu.message_id;
        p.resolve({ kind: 'resp', status: pdu.command_status, messageId: typeof id === 'string' ? id : '' });
        this.pump();
        return;
      }
      if (pdu.command === 'unbind_resp') this.unbound?.();
      return; // a late answer to a request we gave up on
    }
    switch (pdu.command) {
      case 'enquire_link':
        this.write(session, pdu.response());
        return;
      case 'unbind':
        this.lastError = 'the SMSC unbound';
        session.send(pdu.response(), undefined, () => session.destroy());
        return;
      case 'deliver_sm':
      case 'data_sm': {
        if (this.state !== 'bound') {
          this.write(session, pdu.response({ command_status: 0x04 })); // ESME_RINVBNDSTS
          return;
        }
        let answered = false;
        this.onDeliver(pdu, (status) => {
          if (answered || session !== this.session) return; // that connection is gone: the SMSC sends it again
          answered = true;
          this.write(
            session,
            status === STATUS.OK ? pdu.response() : pdu.response({ command_status: status }),
          );
        });
        return;
      }
      case 'alert_notification':
      case 'outbind':
        return; // no answer is defined
      default:
        this.write(
          session,
          new smpp.PDU('generic_nack', { sequence_number: pdu.sequence_number, command_status: 0x03 }),
        );
    }
  }

  private onBindResp(session: Session, pdu: PDU): void {
    clearTimeout(this.timers.bind);
    const status = pdu.command_status;
    if (status !== STATUS.OK) {
      const why = `bind_transceiver refused: ${statusHex(status)} ${statusName(status)}`;
      this.lastError = why;
      if (isCredentialError(status)) {
        this.fatal = `${why} (check systemId and password)`;
        this.failQueued(this.fatal, true);
      }
      session.destroy();
      return;
    }
    this.state = 'bound';
    this.lastError = 'the SMSC closed the connection'; // until an error says more
    this.binds++;
    this.backoff.reset();
    this.downSince = null;
    clearTimeout(this.timers.down);
    this.scheduleEnquire(session);
    this.pump();
    this.onState(this);
  }

  private scheduleEnquire(session: Session): void {
    this.timers.enquire = setTimeout(() => {
      if (session !== this.session || !this.bound) return;
      if (this.enquireSeq === -1) {
        this.enquireSeq = this.nextSeq();
        this.timers.enquireAnswer = setTimeout(() => {
          this.lastError = `no answer to enquire_link within ${this.opts.requestTimeoutMs} ms`;
          session.destroy();
        }, this.opts.requestTimeoutMs);
        if (!this.write(session, new smpp.PDU('enquire_link', { sequence_number: this.enquireSeq })))
          session.destroy();
      }
      this.scheduleEnquire(session);
    }, this.opts.enquireLinkMs);
  }

  private onClose(session: Session): void {
    if (session !== this.session) return;
    this.session = null;
    for (const k of ['connect', 'bind', 'enquire', 'enquireAnswer', 'pump'] as const) {
      clearTimeout(this.timers[k]);
      delete this.timers[k]; // a stale `pump` would keep pump() from ever running again after the rebind
    }
    this.enquireSeq = -1;
    if (this.state === 'bound') this.drops++;
    this.failInflight(`the connection to the SMSC dropped (${this.lastError})`);
    if (this.state === 'closed') return;
    this.state = 'idle';
    this.markDown();
    if (!this.fatal) this.timers.reconnect = setTimeout(() => this.connect(), this.backoff.next());
    this.onState(this);
  }

  /** Not bound from now: requests still waiting when unavailableAfterMs has passed are answered unsent. */
  private markDown(): void {
    if (this.downSince !== null) return;
    this.downSince = Date.now();
    clearTimeout(this.timers.down);
    this.timers.down = setTimeout(() => {
      if (!this.bound) this.failQueued(this.downReason());
    }, this.opts.unavailableAfterMs);
  }

  private downReason(): string {
    const s = Math.round((Date.now() - (this.downSince ?? Date.now())) / 100) / 10;
    return `no bound SMPP connection for ${s} s (${this.lastError})`;
  }

  private failQueued(reason: string, fatal = false): void {
    for (const p of this.queue.splice(0)) p.resolve({ kind: 'unsent', fatal, reason });
  }

  private failInflight(reason: string): void {
    this.stopExpiry();
    for (const p of this.inflight.values()) p.resolve({ kind: 'lost', reason });
    this.inflight.clear();
  }

  /**
   * Requests unanswered by their deadline are answered `timeout` (the SMSC may have them: the
   * engine looks them up or leaves them unknown, never sends them blindly); the timer then waits
   * for the next oldest. The map holds them in the order they were written, so the oldest is first.
   */
  private expireAt(deadline: number): NodeJS.Timeout {
    const t = setTimeout(
      () => {
        delete this.timers.expire;
        const now = performance.now();
        let expired = false;
        for (const [seq, p] of this.inflight) {
          if (p.deadline! > now) {
            this.timers.expire = this.expireAt(p.deadline!);
            break;
          }
          this.inflight.delete(seq);
          expired = true;
          p.resolve({
            kind: 'timeout',
            reason: `no answer to ${p.command} within ${this.opts.requestTimeoutMs} ms`,
          });
        }
        if (expired) this.pump();
      },
      Math.max(0, deadline - performance.now()),
    );
    // a request waiting for its answer holds the socket, which keeps the process alive anyway
    t.unref();
    return t;
  }

  private stopExpiry(): void {
    clearTimeout(this.timers.expire);
    delete this.timers.expire;
  }

  private pump(): void {
    const session = this.session;
    if (!session || this.state !== 'bound' || this.timers.pump) return;
    // PDUs written in one go leave in one segment (the socket has no Nagle delay to do it)
    if (!session.socket.writableCorked) {
      session.socket.cork();
      process.nextTick(() => session.socket.uncork());
    }
    while (this.queue.length && this.inflight.size < this.opts.window) {
      const p = this.queue[0]!;
      const now = performance.now();
      const wait = this.cap?.wait(p.cost, now) ?? 0;
      if (wait > 0) {
        this.timers.pump = setTimeout(() => {
          delete this.timers.pump;
          this.pump();
        }, wait);
        return;
      }
      const seq = this.nextSeq();
      let bytes: Buffer;
      try {
        bytes = new smpp.PDU(p.command, { ...p.params, sequence_number: seq }).toBuffer();
      } catch (err) {
        // a field the codec cannot encode fails this request, not the connection
        this.queue.shift();
        p.resolve({ kind: 'invalid', reason: (err as Error).message });
        continue;
      }
      if (!this.write(session, bytes)) return; // the socket is going: onClose follows, the request waits
      this.queue.shift();
      this.cap?.take(p.cost, now);
      this.inflight.set(seq, p);
      p.deadline = now + this.opts.requestTimeoutMs;
      this.timers.expire ??= this.expireAt(p.deadline);
    }
  }
}
