/**
 * KV values that only this process changes, kept in memory: bucket records, bucket
 * configurations and the latest object record of recently read keys. One process owns the data
 * dir, and every commit that changes a cached entry is made by the module that owns the cache,
 * which forgets (or replaces) the entry once the commit has returned. `gen` moves on every
 * forget, so a read that started before a change does not store what it read. Writes never trust
 * these copies: they check the stored entries in their commit. Stored values are deep-frozen,
 * since every request that reads one shares it. The cache is bounded in bytes (as `heapBytes`
 * estimates them, key included), whatever the number of buckets or keys: values vary in size
 * (a record with metadata, tags or a part list is many times a plain one).
 */
import { heapBytes, MAP_ENTRY, stringBytes } from "./heap_size.ts";

export interface MemoCacheOptions {
  /** Estimated bytes kept, keys included; the oldest inserted go first (0 keeps nothing). */
  maxBytes: number;
  /** Whether a loaded value is kept (default: any value). `null` results are then not kept. */
  keep?: (v: unknown) => boolean;
}

interface Held<V> {
  value: V;
  bytes: number;
}

export class MemoCache<V> {
  #values = new Map<string, Held<V>>();
  #bytes = 0;
  #gen = 0;

  constructor(private readonly opts: MemoCacheOptions) {}

  /** The cached value, else `load()`'s (kept unless something changed meanwhile). */
  async get(id: string, load: () => Promise<V>): Promise<V> {
    const held = this.#values.get(id);
    if (held) return held.value;
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
    this.#drop(id);
  }

  /** Drops every entry whose id starts with `prefix`. */
  forgetPrefix(prefix: string): void {
    this.#gen++;
    for (const k of this.#values.keys()) if (k.startsWith(prefix)) this.#drop(k);
  }

  /** Replaces an entry with a value the caller just committed (and no longer changes). */
  put(id: string, v: V): void {
    this.forget(id);
    this.#store(id, v);
  }

  get size(): number {
    return this.#values.size;
  }

  /** Estimated bytes held, keys included (at most `maxBytes`). */
  get bytes(): number {
    return this.#bytes;
  }

  #drop(id: string): void {
    const held = this.#values.get(id);
    if (!held) return;
    this.#values.delete(id);
    this.#bytes -= held.bytes;
  }

  #store(id: string, v: V): void {
    const bytes = MAP_ENTRY + stringBytes(id) + heapBytes(v);
    const max = this.opts.maxBytes;
    if (bytes > max) return;
    this.#drop(id);
    this.#bytes += bytes;
    for (const [old, held] of this.#values) {
      if (this.#bytes <= max) break;
      this.#values.delete(old);
      this.#bytes -= held.bytes;
    }
    this.#values.set(id, { value: deepFreeze(v), bytes });
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
