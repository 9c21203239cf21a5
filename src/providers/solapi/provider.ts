import { z } from 'zod';
import { RequestLog } from '../requestLog.js';
import { sideStoreOf } from '../sideFiles.js';
import type {
  KeyReader,
  LookupHint,
  MessageOutcome,
  OutboundMessage,
  Provider,
  ProviderContext,
  ReportBatch,
  SubmitResult,
} from '../types.js';
import { SolapiClient } from './client.js';
import { parseSolapiConfig, type SolapiConfig } from './config.js';
import { ImageCache } from './images.js';
import { SolapiListing } from './listing.js';
import { type SolapiOutbound, SubmitAbort, toSolapi } from './message.js';
import { ReportPoller } from './reportPoller.js';
import { classifySendFailure, groupOutcome, readSendAnswer } from './sendAnswer.js';

/** POST /storage/v1/files */
const uploadAnswerSchema = z.object({ fileId: z.string().min(1) });

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
  private readonly listing: SolapiListing;
  private readonly poller: ReportPoller;
  private readonly readKey: KeyReader;

  constructor(
    readonly name: string,
    private readonly cfg: SolapiConfig,
    ctx: ProviderContext,
  ) {
    this.maxBatch = cfg.batchSize;
    this.tps = ctx.tps ?? cfg.tps;
    this.maxSubmits = cfg.maxSubmits;
    this.readKey = ctx.readKey ?? (() => null);
    this.client = new SolapiClient(cfg.baseUrl, cfg.apiKey, cfg.apiSecret);
    const side = sideStoreOf(ctx);
    this.log = new RequestLog(side.log(`solapi-${name}-requests.jsonl`), this.readKey);
    this.images = new ImageCache(side.state(`solapi-${name}-images.json`));
    this.listing = new SolapiListing(this.client, name, cfg.pageSize, cfg.timeoutMs);
    this.poller = new ReportPoller(
      this.client,
      this.listing,
      this.log,
      cfg.pageSize,
      side.state(`solapi-${name}-poll.json`),
    );
  }

  async submit(batch: OutboundMessage[]): Promise<SubmitResult> {
    let messages: SolapiOutbound[];
    try {
      messages = await Promise.all(
        batch.map((m) =>
          toSolapi(m, this.readKey(m.key)?.campaignId ?? m.key, (campaign, file, fileType) =>
            this.imageId(campaign, file, fileType),
          ),
        ),
      );
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
    const answer = readSendAnswer(batch, res.body);
    if (answer.kind === 'unreadable') return answer.result;
    const { outcomes, missing, groupId } = answer;
    if (missing.length) {
      // Not itemised in the answer: ask the group. Found -> accepted; absent -> never taken, send again.
      try {
        const found = await this.listing.accepted({ groupId }, new Set(missing));
        const index = new Map(batch.map((m, i) => [m.key, i]));
        for (const k of missing) outcomes[index.get(k)!] = groupOutcome(found.get(k));
      } catch {
        /* left without an outcome: the engine records them unknown, `ums resume` looks them up */
      }
    }
    return { kind: 'results', outcomes: outcomes as MessageOutcome[] };
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

  /** Which of these keys Solapi holds (see SolapiListing.lookup). */
  lookup(keys: string[], hint?: LookupHint): Promise<Map<string, { providerId: string }>> {
    return this.listing.lookup(keys, this.log, hint);
  }

  /** Delivery reports by polling the message list (see ReportPoller). */
  pollReports(): Promise<ReportBatch> {
    return this.poller.poll();
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
