/**
 * Token buckets by id, in memory and bounded: at most `maxEntries` ids are tracked, the least
 * recently seen dropped first (an id dropped starts again with a full bucket, which only ever
 * errs towards letting a request through).
 */

interface Bucket {
  tokens: number;
  /** When `tokens` was computed (ms). */
  at: number;
}

export class TokenBuckets {
  /** In order of last use: a Map iterates in insertion order and every use re-inserts. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes a token from `id`'s bucket (refilled at `perSecond`, holding `burst`, at least 1):
   * returns 0 when one was taken, else the milliseconds until one will be there.
   */
  take(id: string, perSecond: number, burst: number, now: number): number {
    const size = Math.max(1, burst);
    const had = this.#buckets.get(id);
    let tokens = size;
    if (had) {
      this.#buckets.delete(id);
      tokens = Math.min(size, had.tokens + Math.max(0, now - had.at) * perSecond / 1000);
    } else if (this.#buckets.size >= this.maxEntries) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    if (tokens >= 1) {
      this.#buckets.set(id, { tokens: tokens - 1, at: now });
      return 0;
    }
    this.#buckets.set(id, { tokens, at: now });
    return Math.ceil((1 - tokens) * 1000 / perSecond);
  }
}
