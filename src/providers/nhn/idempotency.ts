import { createHash } from 'node:crypto';
import type { SideLog } from '../types.js';

/** A batch by the set of journal keys it carries (order does not matter). */
function batchId(keys: string[]): string {
  return createHash('sha256')
    .update([...keys].sort().join('\n'))
    .digest('hex')
    .slice(0, 40);
}

/**
 * The idempotency key of an AlimTalk request for this set of journal keys and this generation:
 * generation 0 is derived from the keys alone; each definite answer moves the set to the next.
 */
export function idempotencyKey(keys: string[], generation = 0): string {
  const id = batchId(keys);
  if (!generation) return `ums-${id}`;
  return `ums-${createHash('sha256').update(`${id}\n#${generation}`).digest('hex').slice(0, 40)}`;
}

/**
 * Which idempotency key a request for a set of journal keys carries. NHN refuses a key it saw in
 * the last 10 minutes (-1005), whatever became of that request, so:
 * - a retry after an AMBIGUOUS outcome (no answer, 5xx, -1005, an answer ums cannot read) sends
 *   the same key: if NHN took the first one it refuses the repeat, and the look-up settles it;
 * - after a DEFINITE answer (taken, refused, 429, unavailable) NHN holds none of what it refused, so
 *   the next request for the same set (the engine retrying a retryable refusal, `ums resume` after
 *   a blocked channel was fixed) is a new request and gets a new key.
 * The journal does not know about keys (providers never import it), so the generation of each set
 * that had a definite answer is kept in a side log beside the request log (a file, or on a
 * PostgreSQL journal the journal's side log, which every worker reads): one short line per definite
 * answer, appended whole, so a kill -9 at any instant leaves it usable.
 */
export class IdempotencyKeys {
  private readonly generations = new Map<string, number>();

  constructor(private readonly log: SideLog) {
    this.reload();
  }

  /**
   * Read the generations again: another worker's answers (one that died, whose rows this one now
   * sends) are known from here on. Generations only grow, so the larger one is kept.
   */
  reload(): void {
    for (const line of this.log.lines()) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as { b?: unknown; g?: unknown };
        if (typeof r.b === 'string' && typeof r.g === 'number' && Number.isInteger(r.g))
          this.generations.set(r.b, Math.max(r.g, this.generations.get(r.b) ?? 0));
      } catch {
        /* a line cut by a crash: that answer's generation was not moved on */
      }
    }
  }

  /** The key the next request for these journal keys carries. */
  keyFor(keys: string[]): string {
    return idempotencyKey(keys, this.generations.get(batchId(keys)) ?? 0);
  }

  /**
   * NHN answered a request for these keys definitely: the next request for the same set is a new
   * one. Best effort: if it cannot be written, a later resend of the same set within 10 minutes
   * meets -1005, is looked up and ends `unknown` at worst, never sent twice.
   */
  answered(keys: string[]): void {
    const b = batchId(keys);
    const g = (this.generations.get(b) ?? 0) + 1;
    this.generations.set(b, g);
    try {
      this.log.append(`\n${JSON.stringify({ b, g, t: Date.now() })}\n`);
    } catch {
      /* see above */
    }
  }

  close(): void {
    this.log.close();
  }
}
