export interface BackoffOptions {
  /** the first pause (ms) */
  initialMs: number;
  /** the longest pause (ms) */
  maxMs: number;
  /** each pause is the one before times this; default 2 */
  factor?: number;
  /** each pause is spread by up to this fraction either way (0.25: 75% to 125%); default 0 */
  jitter?: number;
}

/**
 * The one exponential backoff: initialMs, then times factor each time, at most maxMs, until reset().
 * Jitter spreads the pause returned, never the growth.
 */
export class Backoff {
  private base = 0;

  constructor(private readonly opts: BackoffOptions) {}

  /** The last pause next() grew to, before jitter (0 before it and after reset()). */
  get currentMs(): number {
    return this.base;
  }

  /** The pause before the next try; each call grows it. */
  next(): number {
    this.base = Math.min(
      this.opts.maxMs,
      this.base ? this.base * (this.opts.factor ?? 2) : this.opts.initialMs,
    );
    const jitter = this.opts.jitter ?? 0;
    return jitter ? this.base * (1 - jitter + Math.random() * 2 * jitter) : this.base;
  }

  /** It worked: the next pause is initialMs again. */
  reset(): void {
    this.base = 0;
  }
}
