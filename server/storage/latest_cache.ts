/**
 * The latest object records of recently read keys, in memory: a GET or HEAD of a cached key needs
 * no KV read (every KV call queues on Deno KV's one SQLite thread). One process owns the data
 * dir and every commit that changes an `["obj", bucket, key]` entry is made in versions.ts,
 * which calls `forgetLatest` when it returns (before the replaced blob is freed, so a reader
 * that finds its blob gone and re-reads never gets the replaced record back). `gen` moves on
 * every forget: a read that started before a commit finished does not store what it read.
 * Writes never trust these copies: they check the stored entries in their commit. Only present
 * records are kept (a miss also needs the version head, and costs a KV read as before).
 */
import { stateOf, StateSlot, type StorageCore } from "./core.ts";
import { MemoCache } from "./memo_cache.ts";
import type { ObjectRecord } from "./types.ts";

/** Entries kept per storage core; the oldest inserted go first (~0.5-1 KiB each). */
const MAX_ENTRIES = 20_000;

const LATEST = new StateSlot(() =>
  new MemoCache<ObjectRecord | null>({ maxEntries: MAX_ENTRIES, keep: (v) => v !== null })
);

const idOf = (bucketId: string, key: string) => `${bucketId}\n${key}`;

/** The latest record of a key from memory, else from `load()` (kept if nothing changed). */
export function cachedLatest(
  core: StorageCore,
  bucketId: string,
  key: string,
  load: () => Promise<ObjectRecord | null>,
): Promise<ObjectRecord | null> {
  return stateOf(core, LATEST).get(idOf(bucketId, key), load);
}

/** Called after every commit that may have changed the key's `obj` entry. */
export function forgetLatest(core: StorageCore, bucketId: string, key: string): void {
  stateOf(core, LATEST).forget(idOf(bucketId, key));
}

/**
 * Called instead of `forgetLatest` after a commit that made `rec` the key's latest record (a
 * copy is kept: the caller's object stays its own).
 */
export function rememberLatest(
  core: StorageCore,
  bucketId: string,
  key: string,
  rec: ObjectRecord,
): void {
  stateOf(core, LATEST).put(idOf(bucketId, key), copyRecord(rec));
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

/** Whether the key's latest record is cached (the key exists, as far as this process knows). */
export function hasLatest(core: StorageCore, bucketId: string, key: string): boolean {
  return stateOf(core, LATEST).has(idOf(bucketId, key));
}
