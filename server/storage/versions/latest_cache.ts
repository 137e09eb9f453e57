/**
 * The latest object records of recently read keys, in memory: a GET or HEAD of a cached key needs
 * no KV read (every KV call queues on Deno KV's one SQLite thread). One process owns the data
 * dir and every commit that changes an `["obj", bucket, key]` entry is made in versions.ts,
 * which calls `forget` when it returns (before the replaced blob is freed, so a reader
 * that finds its blob gone and re-reads never gets the replaced record back). `gen` moves on
 * every forget: a read that started before a commit finished does not store what it read.
 * Writes never trust these copies: they check the stored entries in their commit. Only present
 * records are kept (a miss also needs the version head, and costs a KV read as before).
 */
import { MemoCache } from "../meta/memo_cache.ts";
import type { ObjectRecord } from "../types.ts";

const idOf = (bucketId: string, key: string) => `${bucketId}\n${key}`;

export class LatestCache {
  readonly #records: MemoCache<ObjectRecord | null>;

  /**
   * `maxBytes`: estimated bytes of the records kept, keys included; the oldest inserted go first
   * (a plain record of a 1 KiB object is ~650 bytes; metadata, tags and part lists add theirs).
   */
  constructor(maxBytes: number) {
    this.#records = new MemoCache({ maxBytes, keep: (v) => v !== null });
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.#records.bytes;
  }

  get size(): number {
    return this.#records.size;
  }

  /** The latest record of a key: cached, else `load()`'s (kept when present). */
  get(
    bucketId: string,
    key: string,
    load: () => Promise<ObjectRecord | null>,
  ): Promise<ObjectRecord | null> {
    return this.#records.get(idOf(bucketId, key), load);
  }

  /** Drops a key's record (a commit changed it, or its outcome is unknown). */
  forget(bucketId: string, key: string): void {
    this.#records.forget(idOf(bucketId, key));
  }

  /**
   * Caches the record a commit just made the key's latest (a copy: the caller's object may be
   * changed afterwards, and the cached one is frozen).
   */
  remember(bucketId: string, key: string, rec: ObjectRecord): void {
    this.#records.put(idOf(bucketId, key), copyRecord(rec));
  }

  /** Whether the key's latest record is cached (so the key is known to exist). */
  has(bucketId: string, key: string): boolean {
    return this.#records.has(idOf(bucketId, key));
  }
}

/**
 * A deep copy of plain data (objects, arrays, bytes, primitives): what records are made of.
 * About ten times quicker than `structuredClone`, which serializes and parses; anything that is
 * not plain data (a class instance) still goes through `structuredClone`.
 */
export function copyRecord<T>(v: T): T {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(copyRecord) as T;
  if (v instanceof Uint8Array) return v.slice() as T;
  if (Object.getPrototypeOf(v) !== Object.prototype) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = copyRecord((v as Record<string, unknown>)[k]);
  return out as T;
}
