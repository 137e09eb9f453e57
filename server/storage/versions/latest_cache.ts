/**
 * The latest object records of recently read keys, in memory: a GET or HEAD of a cached key needs
 * no KV read (every KV call queues on Deno KV's one SQLite thread). One process owns the data
 * dir and every commit that changes an `["obj", bucket, key]` entry is made in versions.ts,
 * which calls `forget` when it returns (before the replaced blob is freed, so a reader
 * that finds its blob gone and re-reads never gets the replaced record back). `gen` moves on
 * every forget: a read that started before a commit finished does not store what it read.
 * Writes never trust these copies: they check the stored entries in their commit. Only present
 * records are kept (a miss also needs the version head, and costs a KV read as before).
 *
 * Records are kept as JSON bytes in a ring of reused segments (meta/byte_ring.ts, decision 0026),
 * not as object trees: a tree cost ~650 bytes of V8 heap, and with records stored on every PUT
 * and read miss, the ones dropped stayed resident until V8 collected them (the record cache's 32
 * MiB kept ~150 MiB resident at 100,000 objects). A hit parses its bytes (~2 µs for a plain
 * record) and gets its own copy.
 */
import { ByteRing } from "../meta/byte_ring.ts";
import { fromBase64, toBase64 } from "../objects/hashing.ts";
import type { ObjectRecord } from "../types.ts";

const idOf = (bucketId: string, key: string) => `${bucketId}\n${key}`;

/** The largest record kept (a record with a long part list may be larger: it is read from KV). */
const MAX_RECORD = 64 * 1024;
/** First byte of a record that holds bytes (encryption keys, part sizes): base64 in JSON. */
const WITH_BYTES = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Whether plain data holds a typed array anywhere (JSON cannot carry one as it is). */
function hasBytes(v: unknown): boolean {
  if (v === null || typeof v !== "object") return false;
  if (ArrayBuffer.isView(v)) return true;
  if (Array.isArray(v)) return v.some(hasBytes);
  for (const k in v) if (hasBytes((v as Record<string, unknown>)[k])) return true;
  return false;
}

/** A record as the bytes kept. */
export function packRecord(rec: ObjectRecord): Uint8Array {
  if (!hasBytes(rec)) return encoder.encode(JSON.stringify(rec));
  const json = JSON.stringify(
    rec,
    (_k, v) => v instanceof Uint8Array ? { $b: toBase64(v) } : v,
  );
  const out = new Uint8Array(1 + json.length * 3);
  out[0] = WITH_BYTES;
  return out.subarray(0, 1 + encoder.encodeInto(json, out.subarray(1)).written);
}

/** The record of bytes made by `packRecord`. */
export function unpackRecord(b: Uint8Array): ObjectRecord {
  if (b[0] !== WITH_BYTES) return JSON.parse(decoder.decode(b));
  return JSON.parse(decoder.decode(b.subarray(1)), (_k, v) => {
    if (v && typeof v === "object" && typeof v.$b === "string" && Object.keys(v).length === 1) {
      return fromBase64(v.$b) ?? v;
    }
    return v;
  });
}

export class LatestCache {
  readonly #ring: ByteRing;
  #gen = 0;

  /**
   * `maxBytes`: bytes of memory for the records kept, ids included (a plain record of a 1 KiB
   * object is ~290 bytes of JSON; metadata, tags and part lists add theirs).
   */
  constructor(maxBytes: number) {
    this.#ring = new ByteRing(maxBytes, MAX_RECORD);
  }

  /** Bytes held (the ring's segments and entries). */
  get bytes(): number {
    return this.#ring.bytes;
  }

  get size(): number {
    return this.#ring.size;
  }

  /** The latest record of a key: a copy of the cached one, else `load()`'s (kept when present). */
  async get(
    bucketId: string,
    key: string,
    load: () => Promise<ObjectRecord | null>,
  ): Promise<ObjectRecord | null> {
    const id = idOf(bucketId, key);
    const held = this.#ring.view(id);
    if (held) return unpackRecord(held);
    const gen = this.#gen;
    const rec = await load();
    if (rec !== null && gen === this.#gen) this.#ring.set(id, packRecord(rec));
    return rec;
  }

  /** Drops a key's record (a commit changed it, or its outcome is unknown). */
  forget(bucketId: string, key: string): void {
    this.#gen++;
    this.#ring.delete(idOf(bucketId, key));
  }

  /** Caches the record a commit just made the key's latest (the caller may change it after). */
  remember(bucketId: string, key: string, rec: ObjectRecord): void {
    this.forget(bucketId, key);
    this.#ring.set(idOf(bucketId, key), packRecord(rec));
  }

  /** Whether the key's latest record is cached (so the key is known to exist). */
  has(bucketId: string, key: string): boolean {
    return this.#ring.has(idOf(bucketId, key));
  }
}
