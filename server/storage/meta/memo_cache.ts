/**
 * KV values that only this process changes, kept in memory: bucket records, bucket
 * configurations and the latest object record of recently read keys. One process owns the data
 * dir, and every commit that changes a cached entry is made by the module that owns the cache,
 * which forgets (or replaces) the entry once the commit has returned. `gen` moves on every
 * forget, so a read that started before a change does not store what it read. Writes never trust
 * these copies: they check the stored entries in their commit. Stored values are deep-frozen,
 * since every request that reads one shares it.
 */

export interface MemoCacheOptions {
  /** Entries kept; the oldest inserted go first. Unbounded when absent. */
  maxEntries?: number;
  /** Whether a loaded value is kept (default: any value). `null` results are then not kept. */
  keep?: (v: unknown) => boolean;
}

export class MemoCache<V> {
  #values = new Map<string, V>();
  #gen = 0;

  constructor(private readonly opts: MemoCacheOptions = {}) {}

  /** The cached value, else `load()`'s (kept unless something changed meanwhile). */
  async get(id: string, load: () => Promise<V>): Promise<V> {
    if (this.#values.has(id)) return this.#values.get(id)!;
    const gen = this.#gen;
    const v = await load();
    if (gen === this.#gen && (this.opts.keep?.(v) ?? true)) this.#store(id, v);
    return v;
  }

  has(id: string): boolean {
    return this.#values.has(id);
  }

  /** Drops one entry (and makes reads in progress not store theirs). */
  forget(id: string): void {
    this.#gen++;
    this.#values.delete(id);
  }

  /** Drops every entry whose id starts with `prefix`. */
  forgetPrefix(prefix: string): void {
    this.#gen++;
    for (const k of this.#values.keys()) if (k.startsWith(prefix)) this.#values.delete(k);
  }

  /** Replaces an entry with a value the caller just committed (and no longer changes). */
  put(id: string, v: V): void {
    this.forget(id);
    this.#store(id, v);
  }

  get size(): number {
    return this.#values.size;
  }

  #store(id: string, v: V): void {
    const max = this.opts.maxEntries;
    if (max === 0) return;
    if (max !== undefined && this.#values.size >= max) {
      this.#values.delete(this.#values.keys().next().value!);
    }
    this.#values.set(id, deepFreeze(v));
  }
}

/** Freezes plain data in place, bytes excepted (a frozen typed array cannot be made). */
export function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object" && !Object.isFrozen(v) && !ArrayBuffer.isView(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
