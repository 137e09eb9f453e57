/**
 * Storage's side of encryption at rest (docs/decisions/0012-encryption-at-rest.md): data keys
 * for writes, ETags of encrypted objects, and reading the plaintext of sealed blobs, inline
 * rows and part lists. Storage never holds a master key: `core.keys` (an `ObjectKeys`) wraps and
 * opens data keys; this module only seals and opens segments with them.
 */
import { createHmac } from "node:crypto";
import { S3Error } from "../../s3/errors.ts";
import {
  openRange,
  sealedRangeOf,
  sealedSize,
  SegmentError,
  SegmentOpener,
  SegmentSealer,
  TAG_BYTES,
} from "../../crypto/segments.ts";
import type { NewDataKey, SseSpec, StoredEncryption } from "../../crypto/types.ts";
import type { BlobSealer } from "../blob/blob_store.ts";
import { bytesStream } from "../blob/hot_cache.ts";
import type { StorageCore } from "../core.ts";
import type { ByteRange, ObjectRecord, PartRef, ReadAccess } from "../types.ts";
import { toHex } from "./hashing.ts";
import { BlobGone } from "./objects.ts";
import type { PartSlice } from "./parts.ts";

/** The bytes a record's blob (or inline rows) holds: sealed when encrypted. */
export function storedSize(rec: { size: number; enc?: StoredEncryption }): number {
  return rec.enc ? sealedSize(rec.size, rec.enc.seg) : rec.size;
}

function keysOf(core: StorageCore) {
  if (!core.keys) {
    core.log.error("an encrypted object was read or written but storage has no ObjectKeys");
    throw new S3Error("InternalError");
  }
  return core.keys;
}

/** A new data key for a write in namespace `ns` as `spec` asks. */
export function newDataKey(core: StorageCore, ns: string, spec: SseSpec): Promise<NewDataKey> {
  return keysOf(core).newDataKey(ns, spec);
}

/** The plaintext data key of `enc` (a part's own `dk` and `kek` when given). */
export function openDataKey(
  core: StorageCore,
  enc: StoredEncryption,
  access: ReadAccess,
  part?: Pick<PartRef, "dk" | "kek">,
): Promise<Uint8Array> {
  const e = part?.dk ? { ...enc, dk: part.dk, kek: part.kek ?? enc.kek } : enc;
  return keysOf(core).openDataKey(access.ns, e, access.customer);
}

/** The `seal` option of a blob write under `key`. */
export function sealerFor(key: Uint8Array, seg: number): (id: string) => BlobSealer {
  return (id) => new SegmentSealer(key, id, seg);
}

/**
 * The ETag of an encrypted object or part: SSE-S3 the plaintext's MD5 (as AWS); SSE-KMS and
 * SSE-C the first 16 bytes of HMAC-SHA256(data key, MD5), so the ETag does not reveal the
 * content's digest (AWS's are not the MD5 either).
 */
export function sealedEtag(enc: StoredEncryption, dataKey: Uint8Array, md5: Uint8Array): string {
  if (enc.mode === "AES256") return `"${toHex(md5)}"`;
  const mac = createHmac("sha256", dataKey).update(md5).digest();
  return `"${toHex(new Uint8Array(mac.buffer, mac.byteOffset, 16))}"`;
}

/** A failed read of sealed bytes, as S3 answers it (never the bytes). */
function unreadable(core: StorageCore, blob: string, e: unknown): Error {
  if (!(e instanceof SegmentError)) return e as Error;
  core.log.error("stored object bytes failed authentication", { blob, error: e.message });
  return new S3Error("InternalError");
}

/** Sealed bytes read at once (and opened before the response starts) up to this size. */
const WHOLE_READ_MAX = 1024 * 1024;
/**
 * Segments read and opened per step when streaming a large blob (2 MiB: against 1 MiB, a 64 MiB
 * SSE GET took ~20% less CPU, the fixed cost per step halved; a stream holds ~3 steps).
 */
const STREAM_SEGMENTS = 32;

/** The plaintext of `range` of an inline record, from its sealed rows. */
export async function openSealedInline(
  core: StorageCore,
  rec: ObjectRecord,
  sealed: Uint8Array,
  range: ByteRange | undefined,
  access: ReadAccess,
): Promise<ReadableStream<Uint8Array>> {
  const enc = rec.enc!;
  const key = await openDataKey(core, enc, access);
  const r = range ?? { start: 0, end: rec.size - 1 };
  const sr = sealedRangeOf(rec.size, r, enc.seg);
  try {
    const plain = await openRange(
      key,
      rec.blob!,
      sealed.subarray(sr.start, sr.end + 1),
      rec.size,
      r,
      enc.seg,
    );
    return bytesStream(plain);
  } catch (e) {
    throw unreadable(core, rec.blob!, e);
  }
}

/** One sealed blob, or a slice of it, to read as plaintext. */
interface SealedSlice {
  blob: string;
  /** Plaintext size of the blob. */
  size: number;
  /** Plaintext range of it wanted. */
  range: ByteRange;
  key: Uint8Array;
  seg: number;
}

/**
 * Opens the sealed segments of one slice: small ones are read and opened before this returns
 * (a bad segment fails the request before its response starts), large ones stream, opened
 * `STREAM_SEGMENTS` at a time with the next read under way meanwhile.
 */
async function openSlice(
  core: StorageCore,
  sl: SealedSlice,
): Promise<ReadableStream<Uint8Array>> {
  try {
    return await openSliceFile(core, sl);
  } catch (e) {
    // Removed since the record was read: the object was replaced (the caller reads it again).
    if (e instanceof Deno.errors.NotFound) throw new BlobGone();
    throw e;
  }
}

async function openSliceFile(
  core: StorageCore,
  sl: SealedSlice,
): Promise<ReadableStream<Uint8Array>> {
  const sr = sealedRangeOf(sl.size, sl.range, sl.seg);
  const total = sealedSize(sl.size, sl.seg);
  const n = sr.end - sr.start + 1;
  const whole = sr.start === 0 && sr.end === total - 1;
  if (n <= WHOLE_READ_MAX) {
    const stream = await core.blobs.open(sl.blob, whole ? undefined : sr, total);
    const sealed = new Uint8Array(await new Response(stream).arrayBuffer());
    try {
      return bytesStream(await openRange(sl.key, sl.blob, sealed, sl.size, sl.range, sl.seg));
    } catch (e) {
      throw unreadable(core, sl.blob, e);
    }
  }
  const file = await Deno.open(core.blobs.pathOf(sl.blob), { read: true });
  await file.seek(sr.start, Deno.SeekMode.Start);
  const opener = new SegmentOpener(sl.key, sl.blob, sl.size, sl.range, sl.seg);
  const step = STREAM_SEGMENTS * (sl.seg + TAG_BYTES);
  let left = n;
  const readStep = async (): Promise<Uint8Array | null> => {
    if (left <= 0) return null;
    const buf = new Uint8Array(Math.min(step, left));
    let got = 0;
    while (got < buf.byteLength) {
      const r = await file.read(buf.subarray(got));
      if (r === null || r === 0) break;
      got += r;
    }
    left -= buf.byteLength;
    if (got < buf.byteLength) left = 0;
    return got === buf.byteLength ? buf : buf.subarray(0, got);
  };
  // The read ahead may fail after the reader has gone (the file closed on cancel): nobody awaits
  // it then, so its rejection is marked handled here; `pull` still sees it when it awaits.
  const readAhead = () => {
    const p = readStep();
    p.catch(() => {});
    return p;
  };
  let next: Promise<Uint8Array | null> | null = readAhead();
  const close = () => {
    try {
      file.close();
    } catch { /* closed */ }
  };
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        for (;;) {
          const chunk = await next;
          if (chunk === null) {
            close();
            opener.finish();
            ctrl.close();
            return;
          }
          next = readAhead();
          // Each step reads into a new buffer of its own: opened in place.
          const out = await opener.push(chunk, true);
          for (const p of out) ctrl.enqueue(p);
          if (out.length) return;
        }
      } catch (e) {
        close();
        ctrl.error(unreadable(core, sl.blob, e));
      }
    },
    cancel() {
      close();
    },
  });
}

/** Plaintext of a sealed single-blob object. */
export async function openSealedBlob(
  core: StorageCore,
  rec: ObjectRecord,
  range: ByteRange | undefined,
  access: ReadAccess,
): Promise<ReadableStream<Uint8Array>> {
  const enc = rec.enc!;
  const key = await openDataKey(core, enc, access);
  return await openSlice(core, {
    blob: rec.blob!,
    size: rec.size,
    range: range ?? { start: 0, end: rec.size - 1 },
    key,
    seg: enc.seg,
  });
}

/**
 * Plaintext of the slices of a sealed multipart object (parts.ts picks those a read covers):
 * each part its own blob and data key, opened one after another.
 */
export async function openSealedParts(
  core: StorageCore,
  enc: StoredEncryption,
  wanted: PartSlice[],
  access: ReadAccess,
): Promise<ReadableStream<Uint8Array>> {
  const open = async (i: number) => {
    const w = wanted[i];
    const key = await openDataKey(core, enc, access, w.part);
    const range = w.range ?? { start: 0, end: w.size - 1 };
    return openSlice(core, { blob: w.blob, size: w.size, range, key, seg: enc.seg });
  };
  // The first part is opened now, so a wrong key or a missing blob fails before any byte.
  let idx = 0;
  let cur: ReadableStreamDefaultReader<Uint8Array> | null = wanted.length
    ? (await open(0)).getReader()
    : null;
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        for (;;) {
          if (!cur) {
            ctrl.close();
            return;
          }
          const r = await cur.read();
          if (!r.done) {
            ctrl.enqueue(r.value);
            return;
          }
          idx++;
          cur = idx < wanted.length ? (await open(idx)).getReader() : null;
        }
      } catch (e) {
        cur = null;
        ctrl.error(e);
      }
    },
    cancel() {
      cur?.cancel().catch(() => {});
    },
  });
}

/**
 * Plaintext of a whole sealed blob (a record's, or one part's) read from `raw`, its bytes as
 * stored: the integrity scrubber's uncached read, where a flipped byte fails the segment.
 */
export async function openSealedStored(
  core: StorageCore,
  rec: ObjectRecord,
  part: PartRef | undefined,
  raw: ReadableStream<Uint8Array>,
  access: ReadAccess,
): Promise<ReadableStream<Uint8Array>> {
  const enc = rec.enc!;
  let key: Uint8Array;
  try {
    key = await openDataKey(core, enc, access, part);
  } catch (e) {
    await raw.cancel().catch(() => {});
    throw e;
  }
  const blob = part ? part.blob : rec.blob!;
  const size = part ? part.size : rec.size;
  const opener = new SegmentOpener(key, blob, size, { start: 0, end: size - 1 }, enc.seg);
  const reader = raw.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) {
            opener.finish();
            ctrl.close();
            return;
          }
          const out = await opener.push(value);
          for (const p of out) ctrl.enqueue(p);
          if (out.length) return;
        }
      } catch (e) {
        reader.cancel().catch(() => {});
        ctrl.error(unreadable(core, blob, e));
      }
    },
    cancel() {
      return reader.cancel();
    },
  });
}
