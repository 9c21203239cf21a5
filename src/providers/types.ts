import type { z } from 'zod';
import type { RcsKind } from '../campaign/rcs.js';
import type { Channel } from '../campaign/types.js';

export interface KakaoOptions {
  pfId: string;
  /** the template as this provider knows it: Solapi's templateId (KA01TP…), NHN's templateCode */
  templateId: string;
  /** `{"#{name}": "value"}` as Kakao takes them */
  variables: Record<string, string>;
  buttons: Record<string, string>[];
  /** true: the provider must not fall back to SMS by itself (ums sends the fallback leg, or none) */
  disableSms: boolean;
}

export interface RcsOptions {
  brandId: string;
  /** what planning decided the message is (RCS SMS, LMS, MMS, text or image template) */
  kind: RcsKind;
  templateId: string | null;
  variables: Record<string, string>;
  buttons: Record<string, string>[];
  disableSms: boolean;
  /** an ad (the template's `ad: true`): the provider is told so */
  commercial: boolean;
}

/**
 * A message as a provider receives it. `key` is the journal's key: opaque to a provider (it carries
 * it and gives it back in reports and look-ups, never takes it apart).
 */
export interface OutboundMessage {
  key: string;
  to: string;
  from: string | null;
  channel: Channel;
  subject: string | null;
  text: string;
  parts: number;
  kakao?: KakaoOptions;
  rcs?: RcsOptions;
  /** absolute paths of the MMS or RCS MMS images, checked at planning */
  images?: string[];
}

/** A message a recipient sent us (SMPP MO): stored in the inbox; opt-out words add to the suppression list. */
export interface InboundMessage {
  from: string;
  to: string;
  text: string;
  receivedAt: string;
  providerId: string | null;
  /** the text asks to be left alone (an opt-out word the provider is configured with) */
  optOut?: boolean;
}

/** What the provider said about one message of a batch. */
export type MessageOutcome =
  /** `partIds`: a message the provider split (SMPP) has one id per part, part 1 first; providerId is part 1's */
  | { kind: 'accepted'; providerId: string; partIds?: string[] }
  /** refused: `retryable` ones may be submitted again later; `optedOut` means the number asked to be left alone */
  | {
      kind: 'rejected';
      code: string;
      message: string;
      retryable: boolean;
      optedOut?: boolean;
      stopsRun?: string;
    }
  /** this message was refused for rate (SMPP ESME_RTHROTTLED): slow the lane, send it again */
  | { kind: 'throttled' };

/** What came back for a whole submission. */
export type SubmitResult =
  | { kind: 'results'; outcomes: MessageOutcome[] }
  /** nothing was accepted because of rate (HTTP 429): slow the lane and resubmit the same messages */
  | { kind: 'throttled'; message: string }
  /** nothing was accepted (503, connection refused before the request left): retry with backoff */
  | { kind: 'unavailable'; message: string }
  /** the request left and no answer came: any message may or may not be with the provider */
  | { kind: 'ambiguous'; message: string }
  /** the provider refuses us (bad credentials): stop the run, mark nothing failed */
  | { kind: 'fatal'; message: string };

export interface DeliveryReport {
  /** our key, when the provider echoes it */
  key: string | null;
  providerId: string | null;
  /** other spellings of providerId to try after it, in order (SMPP: a decimal id where submit_sm_resp was hex) */
  altProviderIds?: string[];
  /** the recipient the report is about, when the provider says (SMPP: the receipt's source address) */
  to?: string | null;
  status: 'delivered' | 'failed';
  code: string;
  text: string;
  /** when the carrier says it happened (ISO 8601) */
  at: string | null;
}

/** Reports handed over for storing; `ack` after they are committed (the provider may then forget them). */
export interface ReportBatch {
  reports: DeliveryReport[];
  ack(): Promise<void>;
}

export interface Provider {
  readonly name: string;
  /** most messages one submit() may carry */
  readonly maxBatch: number;
  /** the account's rate in parts per second (the lane's ceiling) */
  readonly tps: number;
  /** requests the provider wants in flight at once (default: the config's window, else 4) */
  readonly window?: number;
  /** how long a run should wait at its end for pushed reports (ms) */
  readonly reportWaitMs?: number;
  /** most submissions of one message that may have reached the provider, across runs (config `maxSubmits`; default 5) */
  readonly maxSubmits?: number;
  /**
   * Resolves `ambiguous` once any byte of the request may have left; an answer of a shape the
   * provider does not know is `ambiguous` too, never "not taken"; nothing left: `unavailable`. It
   * should not throw: a throw is taken as ambiguous (looked up, never resent blindly).
   */
  submit(batch: OutboundMessage[]): Promise<SubmitResult>;
  /**
   * null when requests of `parts` parts in all (1 when not given), submitted now, are written at
   * once (or answered at once without being written); else a promise that resolves soon, when that
   * may have changed (the lane asks again). The lane claims (`sending`) nothing while this says
   * wait: a kill then leaves no message `sending` that was never written (a connection still
   * binding, every bind's window or cap full).
   */
  writable?(parts?: number): Promise<void> | null;
  /**
   * Which of these keys the provider holds (accepted), by our key: resolves ambiguity. A key missing
   * from the map is a definite "not there"; when the provider cannot tell (no answer, an answer of a
   * shape it does not know), this throws. `hint`: the keys may have been sent by another worker
   * (another machine, `ums resume --join`) since then, whatever this machine's records say.
   */
  lookup?(keys: string[], hint?: LookupHint): Promise<Map<string, { providerId: string }>>;
  /** Push: the provider calls `handler` as reports arrive, and keeps them until acked. */
  subscribeReports?(handler: (batch: ReportBatch) => Promise<void>): void;
  /** Parts this message costs against the lane's TPS when the provider splits it (SMPP); default: planned parts. */
  countParts?(message: OutboundMessage): number;
  /** Push of messages recipients sent us; the handler commits them before it resolves. */
  subscribeInbound?(handler: (messages: InboundMessage[]) => Promise<void>): void;
  /** Poll: reports not yet acked. */
  pollReports?(): Promise<ReportBatch>;
  close(): Promise<void>;
}

/**
 * An append-only log a provider keeps beside the journal so that it can reconcile (a request log,
 * NHN's idempotency generations, the simulator's carrier log): a file in `stateDir` (SQLite), or rows of the journal (PostgreSQL),
 * which every worker of a campaign reaches.
 */
export interface SideLog {
  /** what errors name: the file, or the log's name in the journal */
  readonly where: string;
  /** Everything appended so far, in order, as lines (a line cut by a crash is there as it was cut). */
  lines(): string[];
  /** Durably add `text` (whole lines, each ending in a newline) before returning: all or nothing. */
  append(text: string): void;
  /**
   * The lines other processes appended since this log was last read (lines() or fresh()): a log in
   * the journal is shared by every worker of a campaign; a file has one writer, and none.
   */
  fresh(): string[];
  /** whether other processes append to it too (a PostgreSQL journal's): then fresh() is worth asking */
  readonly shared: boolean;
  close(): void;
}

/** One value a provider keeps beside the journal (Solapi's poll checkpoint and image uploads, NHN's state). */
export interface SideState {
  /** the value last put, or null */
  get(): string | null;
  put(value: string): void;
}

/** Where a provider's side logs and state live, by name (per provider instance: `sim-<name>.jsonl`…). */
export interface SideStore {
  log(name: string): SideLog;
  state(name: string): SideState;
}

export interface ProviderContext {
  /** folder of the journal, where a provider may keep state of its own */
  stateDir: string;
  /**
   * Where the logs and checkpoints a provider reconciles with live (request logs, poll checkpoints,
   * idempotency generations, image uploads, the simulator's carrier log): the journal's when it is on PostgreSQL; without it, files in `stateDir`.
   */
  side?: SideStore;
  /** override of the configured tps (--tps) */
  tps?: number;
  /** the wall clock (injectable: UMS_NOW) */
  now?: () => Date;
  /**
   * What a message key stands for, read by the journal's side: a provider keeps per-campaign state
   * (Solapi: its request log by row range, image uploads) without knowing how keys are written.
   * Without it, every key is taken whole.
   */
  readKey?: KeyReader;
}

/** A journal key's campaign and row, or null for a key not of the journal's making. */
export type KeyReader = (key: string) => { campaignId: string; row: number } | null;

/** The images a provider type takes (DOMAIN.md); a channel left out takes none. */
export interface ProviderImageLimits {
  /** MMS: jpg only */
  mms?: { count: number; bytes: number; width: number; height: number };
  /** RCS MMS, per card (one card per message: carousels are not planned): jpg or png */
  rcs?: { count: number; bytes: number };
}

/** What a provider type takes, as planning checks it before anything is sent (DOMAIN.md). */
export interface ProviderLimits {
  /** the images it takes, per channel (none: it cannot send MMS or RCS images) */
  images: ProviderImageLimits;
  /** longest AlimTalk text in characters (absent: it does not send AlimTalk) */
  alimtalkChars?: number;
  /** longest RCS text per planned kind, in characters (absent: it does not send RCS) */
  rcsChars?: Readonly<Record<RcsKind, number>>;
}

/** One POST to a provider's webhook, as its module judges it. */
export interface WebhookRequest {
  /** the path's segments after `/hooks/<provider name>` (percent-decoded) */
  segments: string[];
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What a webhook body holds; `refused`: elements refused alone (0-based index, why), the rest kept. */
export type WebhookParse =
  | {
      ok: true;
      /** elements the body carried */
      messages: number;
      reports: DeliveryReport[];
      /** messages recipients sent (opt-out words flagged): stored in the inbox */
      inbound: InboundMessage[];
      /** numbers the provider says opted out (an 080 unsubscribe): added to the opt-out list */
      optOuts?: string[];
      refused: { index: number; reason: string }[];
    }
  | { ok: false; reason: string };

/** A provider's webhook bound to one configured provider's settings. */
export interface WebhookEndpoint {
  /** what it receives, in the listener's lines: `Solapi delivery reports` */
  receives: string;
  /** the URL's rest after `/hooks/<provider name>` as a person reads it, the secret only named: `/<webhookSecret>` */
  pathSuffix: string;
  /** said once when the listener starts (a secret not set) */
  warnings: string[];
  /** true when anyone who can reach the port may post (no secret configured) */
  open: boolean;
  /** the request carries the configured secret (checked in constant time) */
  authorize(req: WebhookRequest): boolean;
  /** the body (never thrown at: a body of another shape is `ok: false`) */
  parse(body: Buffer): WebhookParse;
}

export interface ProviderWebhook {
  /** the settings it reads: an unset `${VAR}` in them stops `ums listen` before it binds */
  settings: readonly string[];
  /** bound to `providers.<name>`: an InputError `providers.<name>.<key>: …` on a bad setting */
  endpoint(name: string, config: Record<string, unknown>): WebhookEndpoint;
}

/**
 * One provider type: everything ums knows about it lives in its folder and reaches the rest of ums
 * through this (src/providers/registry.ts lists them). Adding a provider = one folder exporting one
 * module from its index.ts, one line in the registry, and the contract suite passing.
 */
export interface ProviderModule {
  /** the `type:` of its config entries */
  type: string;
  /** its settings (`providers.<name>`), checked without connecting; its messages never quote a value */
  configSchema: z.ZodType;
  limits: ProviderLimits;
  /**
   * A provider from checked settings. Loads the implementation only when called: every `ums`
   * command starts without the SMPP codec or the HTTP client it does not need.
   */
  create(name: string, config: Record<string, unknown>, ctx: ProviderContext): Promise<Provider>;
  /** pushed reports (or replies) over HTTP, served by `ums listen` at `/hooks/<provider name>` */
  webhook?: ProviderWebhook;
  /** false when its settings ask the carrier for no delivery reports (absent: it always gets them) */
  asksForReports?: (config: Record<string, unknown>) => boolean;
  /** the parts per second its settings, as checked (defaults filled), give a lane (0: unlimited); absent: their `tps` */
  tps?: (config: Record<string, unknown>) => number;
}

/** What a look-up is told about keys this process did not send: another worker may have, since `sentSince` (ms). */
export interface LookupHint {
  sentSince: number;
}
