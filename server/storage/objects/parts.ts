/**
 * Reading objects whose bytes are an ordered list of part blobs (multipart layout). Completing
 * an upload never copies bytes: the object record lists the part blobs (inline when few, else in
 * ["objparts", partsId, chunk] entries) and a read streams them one after another.
 */
import { S3Error } from "../../s3/errors.ts";
import { blobRefKey, objectPartsIndexKey, objectPartsKey } from "../meta/keys.ts";
import type { StorageCore } from "../core.ts";
import { BlobGone } from "./objects.ts";
import { openSealedParts } from "./sealed.ts";
import type { ByteRange, ObjectRecord, PartRef, ReadAccess } from "../types.ts";

/** The part list of a multipart record, loading the chunks when it is not inline. */
export async function loadParts(core: StorageCore, rec: ObjectRecord): Promise<PartRef[]> {
  if (rec.parts) return rec.parts;
  if (!rec.partsChunks || !rec.partsId) return [];
  const keys = Array.from({ length: rec.partsChunks }, (_, i) => objectPartsKey(rec.partsId!, i));
  const out: PartRef[] = [];
  for (let i = 0; i < keys.length; i += 10) {
    const entries = await core.meta.getMany<{ v: 1; parts: PartRef[] }[]>(keys.slice(i, i + 10));
    for (const e of entries) {
      // A chunk vanishes only when the object was replaced or deleted under the reader.
      if (!e.value) throw new BlobGone();
      out.push(...e.value.parts);
    }
  }
  return out;
}

/** Value of ["objpartsidx", partsId]. */
export interface PartsIndex {
  v: 1;
  /** The most chunk entries ever written for this part list. */
  chunks: number;
  at: number;
}

/**
 * Frees a chunked part list (part files, chunk entries, index entry) once nothing references
 * its group: right after the commit that deleted or replaced its object, and from the multipart
 * maintenance for what a crash left behind. Returns the chunk entries dropped (0 when the group
 * is still referenced or already freed). Idempotent; the index entry goes last, so a failure
 * half way leaves it for the maintenance to finish.
 */
export async function freePartsGroup(core: StorageCore, partsId: string): Promise<number> {
  const [ref, idx] = await core.meta.getMany<[unknown, PartsIndex]>([
    blobRefKey(partsId),
    objectPartsIndexKey(partsId),
  ]);
  if (ref.value || !idx.value) return 0;
  for (const id of await core.blobs.listPrefix(`${partsId}.`)) await core.blobs.remove(id);
  const op = core.meta.write().check(idx).delete(idx.key);
  for (let c = 0; c < idx.value.chunks; c++) op.delete(objectPartsKey(partsId, c));
  return (await op.commit()).ok ? idx.value.chunks : 0;
}

/** Largest single read while streaming parts. */
const READ_CHUNK = 256 * 1024;

/** Part sizes in order as unsigned LEB128 varints (sizes reach 5 GiB, beyond 32-bit ops). */
export function encodeSizes(sizes: number[]): Uint8Array {
  const out: number[] = [];
  for (let v of sizes) {
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
  }
  return new Uint8Array(out);
}

export function decodeSizes(b: Uint8Array): number[] {
  const out: number[] = [];
  let v = 0;
  let mul = 1;
  for (const byte of b) {
    v += (byte & 0x7f) * mul;
    if (byte & 0x80) mul *= 0x80;
    else {
      out.push(v);
      v = 0;
      mul = 1;
    }
  }
  return out;
}

/** Part sizes of a multipart record without loading chunks (null for single-blob objects). */
export function partSizesOf(rec: ObjectRecord): number[] | null {
  if (rec.parts) return rec.parts.map((p) => p.size);
  if (rec.partSizes) return decodeSizes(rec.partSizes);
  return null;
}

/** The bytes of one part a read covers: all of it, or `range` of it. */
export interface PartSlice {
  part: PartRef;
  blob: string;
  size: number;
  range?: ByteRange;
}

/** Streams the parts of a multipart object in order, honouring a byte range across parts. */
export async function openParts(
  core: StorageCore,
  rec: ObjectRecord,
  range?: ByteRange,
  access: ReadAccess = { ns: "" },
): Promise<ReadableStream<Uint8Array>> {
  const parts = await loadParts(core, rec);
  const start = range?.start ?? 0;
  const end = range?.end ?? rec.size - 1;
  // The slices of each part blob that the range covers, in order (no range: the whole part).
  const slices: PartSlice[] = [];
  let off = 0;
  for (const p of parts) {
    const pStart = off, pEnd = off + p.size - 1;
    off += p.size;
    if (p.size === 0 || pEnd < start) continue;
    if (pStart > end) break;
    const s = Math.max(start, pStart) - pStart;
    const e = Math.min(end, pEnd) - pStart;
    const whole = s === 0 && e === p.size - 1;
    slices.push({
      part: p,
      blob: p.blob,
      size: p.size,
      range: whole ? undefined : { start: s, end: e },
    });
  }
  if (rec.enc) return await openSealedParts(core, rec.enc, slices, access);
  if (slices.length === 1) {
    // One part (partNumber reads, small ranges): the blob store's own stream is the fast path.
    try {
      return await core.blobs.open(slices[0].blob, slices[0].range, slices[0].size);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new BlobGone();
      throw e;
    }
  }
  // Each slice is read straight from its file in chunks of up to READ_CHUNK bytes (fewer, larger
  // reads than a file's default stream), with one chunk read ahead while the previous is sent.
  const open = async (i: number): Promise<{ file: Deno.FsFile; left: number }> => {
    const sl = slices[i];
    let file: Deno.FsFile;
    try {
      file = await Deno.open(core.blobs.pathOf(sl.blob), { read: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new BlobGone();
      throw e;
    }
    if (sl.range?.start) await file.seek(sl.range.start, Deno.SeekMode.Start);
    return { file, left: sl.range ? sl.range.end - sl.range.start + 1 : sl.size };
  };
  let idx = 0;
  // The first blob is opened now so a replaced object surfaces as BlobGone before any byte.
  let cur: { file: Deno.FsFile; left: number } | null = slices.length ? await open(0) : null;
  const closeCur = () => {
    try {
      cur?.file.close();
    } catch { /* closed */ }
  };
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      for (;;) {
        if (!cur) {
          ctrl.close();
          return;
        }
        if (cur.left > 0) {
          const buf = new Uint8Array(Math.min(cur.left, READ_CHUNK));
          const n = await cur.file.read(buf);
          if (n === null || n === 0) {
            closeCur();
            cur = null;
            ctrl.error(new Error("Cannot read part blob: file is shorter than its record"));
            return;
          }
          cur.left -= n;
          ctrl.enqueue(n === buf.length ? buf : buf.subarray(0, n));
          return;
        }
        closeCur();
        idx++;
        cur = idx < slices.length ? await open(idx) : null;
      }
    },
    cancel() {
      closeCur();
      cur = null;
    },
  }, { highWaterMark: 2 });
}

/**
 * The byte range of `partNumber` in an object (the n-th part in the completed order). A
 * single-blob object has exactly one part. Throws `InvalidPartNumber` when out of range.
 */
export function partRange(
  rec: ObjectRecord,
  partNumber: string,
): { range: ByteRange | null; partsCount: number | null } {
  const n = /^\d+$/.test(partNumber) ? Number(partNumber) : NaN;
  if (!(n >= 1 && n <= 10000)) {
    throw new S3Error("InvalidArgument", {
      message: "Part number must be an integer between 1 and 10000, inclusive",
      fields: { ArgumentName: "partNumber", ArgumentValue: partNumber },
    });
  }
  const sizes = partSizesOf(rec);
  if (!sizes) {
    if (n !== 1) {
      throw new S3Error("InvalidPartNumber", {
        fields: { PartNumberRequested: partNumber, ActualPartCount: "1" },
      });
    }
    return { range: rec.size === 0 ? null : { start: 0, end: rec.size - 1 }, partsCount: null };
  }
  if (n > sizes.length) {
    throw new S3Error("InvalidPartNumber", {
      fields: { PartNumberRequested: partNumber, ActualPartCount: String(sizes.length) },
    });
  }
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += sizes[i];
  const size = sizes[n - 1];
  return {
    range: size === 0 ? null : { start, end: start + size - 1 },
    partsCount: sizes.length,
  };
}
