import { causeCodes, notSent } from '../httpFailure.js';

/** What became of one HTTP request to NHN, in the terms retries and ambiguity need. */
export type NhnHttp =
  /** an answer: HTTP status and the JSON body (null when it was not JSON) */
  | { kind: 'answer'; status: number; body: unknown }
  /** the connection was never made: the request did not leave */
  | { kind: 'not-sent'; message: string }
  /** the request may have left and no (whole) answer came */
  | { kind: 'no-answer'; message: string };

/**
 * NHN Cloud over Node's fetch, one attempt per call (the engine owns retries). Every request carries
 * X-Secret-Key; the appKey is in the path. Nothing it returns ever contains either.
 */
export class NhnClient {
  constructor(
    private readonly appKey: string,
    private readonly secretKey: string,
  ) {}

  async request(
    method: 'GET' | 'POST',
    base: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    headers: Record<string, string> = {},
  ): Promise<NhnHttp> {
    let url: URL;
    try {
      url = new URL(base.replace(/\/+$/, '') + path);
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`${url.protocol} is not http(s)`);
    } catch (err) {
      return {
        kind: 'not-sent',
        message: `cannot build the request URL (${this.scrub((err as Error).message)})`,
      };
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          'X-Secret-Key': this.secretKey,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json;charset=UTF-8' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      return this.failure(err, timeoutMs, url.host);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      return this.failure(err, timeoutMs, url.host);
    }
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    return { kind: 'answer', status: res.status, body: parsed };
  }

  private failure(err: unknown, timeoutMs: number, host: string): NhnHttp {
    const name = (err as { name?: string })?.name;
    if (name === 'TimeoutError' || name === 'AbortError')
      return { kind: 'no-answer', message: `no answer within ${timeoutMs} ms` };
    const found = causeCodes(err);
    const cause = (err as { cause?: { message?: unknown } } | null)?.cause?.message;
    const detail = this.scrub(
      [...new Set(found)].join(', ') ||
        (typeof cause === 'string' ? cause : '') ||
        (err as Error)?.message ||
        String(err),
    );
    if (notSent(err, found)) return { kind: 'not-sent', message: `cannot connect to ${host} (${detail})` };
    return { kind: 'no-answer', message: `the connection broke before the answer (${detail})` };
  }

  /** Never let the credentials into a message, whatever the server echoes. */
  scrub(text: string): string {
    let out = text;
    for (const s of [this.secretKey, this.appKey]) if (s) out = out.split(s).join('***');
    return out;
  }
}
