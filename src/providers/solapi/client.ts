import { causeCodes, notSent } from '../httpFailure.js';
import { authorizationHeader } from './auth.js';

/** What became of one HTTP request, in the terms retries and ambiguity need. */
export type HttpOutcome =
  | { kind: 'ok'; status: number; body: unknown }
  | { kind: 'error'; status: number; errorCode: string; errorMessage: string }
  /** the connection was never made: the request did not leave */
  | { kind: 'not-sent'; message: string }
  /** the request may have left and no (whole) answer came */
  | { kind: 'no-answer'; message: string };

/**
 * Solapi over Node's fetch, one attempt per call (the engine owns retries, so it can tell a
 * request that never left from one whose answer was lost). Every call is signed afresh.
 * The server's clock is learned from each answer's Date header: lookups use it to turn our
 * send times into Solapi's, and signatures use it once it is more than 30 s off ours.
 */
export class SolapiClient {
  /** server clock minus ours (ms), once an answer has told us */
  skewMs: number | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly apiSecret: string,
  ) {}

  /** Our estimate of the server's clock now. */
  serverNow(): number {
    return Date.now() + (this.skewMs ?? 0);
  }

  private signingDate(): Date {
    const skew = this.skewMs ?? 0;
    return new Date(Date.now() + (Math.abs(skew) > 30_000 ? skew : 0));
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    timeoutMs: number,
  ): Promise<HttpOutcome> {
    // A URL that cannot be built is a request that never left.
    let url: URL;
    try {
      url = new URL(this.baseUrl.replace(/\/+$/, '') + path);
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`${url.protocol} is not http(s)`);
    } catch (err) {
      return {
        kind: 'not-sent',
        message: `cannot build the request URL from baseUrl (${this.scrub((err as Error).message)})`,
      };
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          Authorization: authorizationHeader(this.apiKey, this.apiSecret, this.signingDate()),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          Accept: 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      return this.failure(err, timeoutMs);
    }
    const date = Date.parse(res.headers.get('date') ?? '');
    if (!Number.isNaN(date)) this.skewMs = date - Date.now();
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      return this.failure(err, timeoutMs);
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = undefined;
    }
    if (res.ok) {
      if (parsed === undefined)
        return { kind: 'no-answer', message: `HTTP ${res.status} with a body that is not JSON` };
      return { kind: 'ok', status: res.status, body: parsed };
    }
    const e = (parsed && typeof parsed === 'object' ? parsed : {}) as {
      errorCode?: unknown;
      errorMessage?: unknown;
    };
    return {
      kind: 'error',
      status: res.status,
      errorCode: typeof e.errorCode === 'string' ? e.errorCode : `HTTP${res.status}`,
      errorMessage: this.scrub(typeof e.errorMessage === 'string' ? e.errorMessage : text.slice(0, 200)),
    };
  }

  private failure(err: unknown, timeoutMs: number): HttpOutcome {
    const name = (err as { name?: string })?.name;
    if (name === 'TimeoutError' || name === 'AbortError')
      return { kind: 'no-answer', message: `no answer within ${timeoutMs} ms` };
    const codes = causeCodes(err);
    const cause = (err as { cause?: { message?: unknown } } | null)?.cause?.message;
    const detail = this.scrub(
      [...new Set(codes)].join(', ') ||
        (typeof cause === 'string' ? cause : '') ||
        (err as Error)?.message ||
        String(err),
    );
    if (notSent(err, codes))
      return { kind: 'not-sent', message: `cannot connect to ${this.host()} (${detail})` };
    return { kind: 'no-answer', message: `the connection broke before the answer (${detail})` };
  }

  private host(): string {
    try {
      return new URL(this.baseUrl).host;
    } catch {
      return 'the baseUrl';
    }
  }

  /** Never let the credentials into a message, whatever the server echoes. */
  scrub(text: string): string {
    let out = text;
    for (const s of [this.apiSecret, this.apiKey]) if (s) out = out.split(s).join('***');
    return out;
  }
}
