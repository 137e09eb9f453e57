/**
 * CompleteMultipartUpload without copying bytes: the object record lists the part blobs (inline
 * when few, else in ["objparts", uploadId, chunk] entries) and one publishObject commit makes it
 * visible while removing the upload. A crash before that commit leaves the intact upload (its
 * seal is cleared at start-up); after it, the object, plus a cleanup note for leftovers.
 */
import { S3Error } from "../../s3/errors.ts";
import {
  objectPartsIndexKey,
  objectPartsKey,
  partPrefix,
  uploadCleanKey,
  uploadDoneKey,
  uploadKey,
  uploadListKey,
} from "../meta/keys.ts";
import { getObjectRecord, publishObject } from "../objects/objects.ts";
import { encodeSizes, type PartsIndex } from "../objects/parts.ts";
import { newMd5, toHex, verifyChecksum } from "../objects/hashing.ts";
import { multipartChecksum } from "./multipart_checksum.ts";
import {
  cleanupUpload,
  getUploadEntry,
  isUploadId,
  MIN_PART_SIZE,
  partBitmap,
  type PartRecord,
  type UploadRecord,
} from "./multipart.ts";
import type { StorageCore } from "../core.ts";
import type { ChecksumAlgorithm } from "../objects/hashing.ts";
import type {
  BucketRecord,
  ChangeOrigin,
  ObjectRecord,
  PartRef,
  ReplicationStatus,
  WriteConditions,
} from "../types.ts";

/** Part lists up to this many stay inline in the object record (well under the 64 KiB value). */
export const INLINE_PARTS = 200;
/** Parts per ["objparts", ...] chunk entry (~200 bytes each: well under a 64 KiB value). */
export const PARTS_PER_CHUNK = 200;
/** Chunk entries per commit before the publish (a commit carries at most 800 KiB). */
const CHUNKS_PER_COMMIT = 8;

export interface CompletePart {
  n: number;
  /** As sent; quotes optional. */
  etag: string;
  /** Per-part checksums the client listed (base64 by algorithm). */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

export interface CompleteUploadInput {
  key: string;
  uploadId: string;
  parts: CompletePart[];
  conditions?: WriteConditions;
  /** A whole-object checksum header sent with Complete, checked against the computed one. */
  expectedChecksum?: { algorithm: ChecksumAlgorithm; value: string };
  /** Smallest size of every part but the last (S3: 5 MiB). */
  minPartSize?: number;
  /** What caused the write, for the change feed (ObjectCreated:CompleteMultipartUpload if absent). */
  origin?: ChangeOrigin;
  /** Replication status of the completed object (types.ts PutObjectInput.replication). */
  replication?: ReplicationStatus;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bareEtag = (e: string) => e.trim().replace(/^"|"$/g, "");

/** Checks the part list against the uploaded parts; returns them in object order. */
export function validateCompleteParts(
  up: UploadRecord,
  listed: CompletePart[],
  stored: Map<number, PartRecord>,
  minPartSize = MIN_PART_SIZE,
): PartRecord[] {
  if (listed.length === 0) throw new S3Error("MalformedXML");
  for (let i = 1; i < listed.length; i++) {
    if (listed[i].n <= listed[i - 1].n) throw new S3Error("InvalidPartOrder");
  }
  const out: PartRecord[] = [];
  for (const [i, lp] of listed.entries()) {
    const p = stored.get(lp.n);
    const invalid = () =>
      new S3Error("InvalidPart", {
        fields: { UploadId: up.uploadId, PartNumber: String(lp.n), ETag: lp.etag },
      });
    if (!p || bareEtag(p.etag) !== bareEtag(lp.etag)) throw invalid();
    for (const [alg, value] of Object.entries(lp.checksums)) {
      if (p.checksum && p.checksum.algorithm === alg && p.checksum.value !== value) throw invalid();
    }
    if (i < listed.length - 1 && p.size < minPartSize) {
      throw new S3Error("EntityTooSmall", {
        fields: {
          ProposedSize: String(p.size),
          MinSizeAllowed: String(minPartSize),
          PartNumber: String(p.n),
          ETag: p.etag,
        },
      });
    }
    out.push(p);
  }
  return out;
}

/** S3's multipart ETag: MD5 of the concatenated binary part MD5s, then `-N`. */
export function multipartEtag(parts: { etag: string }[]): string {
  const md5 = newMd5();
  for (const p of parts) md5.update(hexBytes(bareEtag(p.etag)));
  return `"${toHex(md5.digest())}-${parts.length}"`;
}

function hexBytes(hex: string): Uint8Array {
  const b = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return b;
}

/** Marks the upload as completing (part uploads wait) and returns the sealed entry. */
async function seal(
  core: StorageCore,
  bucket: BucketRecord,
  input: CompleteUploadInput,
): Promise<Deno.KvEntry<UploadRecord>> {
  const deadline = core.clock.now() + 30_000;
  for (;;) {
    const ue = await getUploadEntry(core, bucket, input.key, input.uploadId);
    if (ue.value.sealed) {
      // Another Complete of this upload is running: it publishes (then NoSuchUpload) or fails.
      if (core.clock.now() > deadline) throw new S3Error("OperationAborted");
      await sleep(50);
      continue;
    }
    const sealed: UploadRecord = { ...ue.value, sealed: core.clock.now() };
    const res = await core.meta.write().check(ue).set(ue.key, sealed).commit();
    if (res.ok) return { key: ue.key, value: sealed, versionstamp: res.versionstamp };
  }
}

async function unseal(core: StorageCore, sealed: Deno.KvEntry<UploadRecord>): Promise<void> {
  const { sealed: _, ...open } = sealed.value;
  await core.meta.write().check(sealed).set(sealed.key, open).commit().catch(() => {});
}

/** The object record that lists the parts, and the chunk entries when they are not inline. */
export function buildMultipartRecord(
  up: UploadRecord,
  parts: PartRecord[],
  now: number,
): { rec: ObjectRecord; chunks: PartRef[][] } {
  const refs: PartRef[] = parts.map((p) => {
    const r: PartRef = { n: p.n, blob: p.blob, size: p.size, etag: p.etag };
    if (p.checksum && up.checksum && p.checksum.algorithm === up.checksum.algorithm) {
      r.checksum = p.checksum.value;
    }
    if (p.dk) r.dk = p.dk;
    if (p.kek) r.kek = p.kek;
    return r;
  });
  const rec: ObjectRecord = {
    v: 1,
    key: up.key,
    versionId: "null",
    blob: null,
    partsCount: parts.length,
    partsId: up.uploadId,
    size: parts.reduce((n, p) => n + p.size, 0),
    etag: multipartEtag(parts),
    lastModified: now,
    content: up.content,
    meta: up.meta,
    storageClass: up.storageClass,
    tags: up.tags,
    retention: up.retention,
    legalHold: up.legalHold,
    ownerId: up.ownerId,
    acl: up.acl,
  };
  if (up.enc) rec.enc = up.enc;
  if (up.checksum) {
    rec.checksum = {
      algorithm: up.checksum.algorithm,
      type: up.checksum.type,
      value: multipartChecksum(
        up.checksum.algorithm,
        up.checksum.type,
        refs.map((r) => ({ checksum: r.checksum ?? "", size: r.size })),
      ),
    };
  }
  const chunks: PartRef[][] = [];
  if (refs.length <= INLINE_PARTS) rec.parts = refs;
  else {
    for (let i = 0; i < refs.length; i += PARTS_PER_CHUNK) {
      chunks.push(refs.slice(i, i + PARTS_PER_CHUNK));
    }
    rec.partsChunks = chunks.length;
    rec.partSizes = encodeSizes(refs.map((r) => r.size));
  }
  return { rec, chunks };
}

/** What ["mpdone", uploadId] remembers of a completed upload. */
export interface UploadDone {
  v: 1;
  bucketId: string;
  key: string;
  versionId: string;
  etag: string;
  at: number;
}

/** How long a completed upload id still answers a retried Complete. */
export const DONE_TTL_MS = 24 * 3600 * 1000;

/**
 * A retried Complete of an upload that already completed into an object that is still there:
 * that object, as S3 answers it; otherwise null.
 */
async function alreadyCompleted(
  core: StorageCore,
  bucket: BucketRecord,
  input: CompleteUploadInput,
): Promise<ObjectRecord | null> {
  // A client's string that is no upload id may not even fit in a KV key.
  if (!isUploadId(input.uploadId)) return null;
  const done = (await core.meta.get<UploadDone>(uploadDoneKey(input.uploadId))).value;
  if (!done || done.bucketId !== bucket.id || done.key !== input.key) return null;
  const rec = await getObjectRecord(core, bucket, input.key, done.versionId).catch(() => null);
  return rec && rec.etag === done.etag ? rec : null;
}

export async function completeUpload(
  core: StorageCore,
  bucket: BucketRecord,
  input: CompleteUploadInput,
): Promise<ObjectRecord> {
  let sealed: Deno.KvEntry<UploadRecord>;
  try {
    sealed = await seal(core, bucket, input);
  } catch (e) {
    if (e instanceof S3Error && e.code === "NoSuchUpload") {
      const rec = await alreadyCompleted(core, bucket, input);
      if (rec) return rec;
    }
    throw e;
  }
  const up = sealed.value;
  let published = false;
  try {
    const stored = new Map<number, PartRecord>();
    for await (const e of core.meta.list<PartRecord>({ prefix: partPrefix(up.uploadId) })) {
      stored.set(e.value.n, e.value);
    }
    const parts = validateCompleteParts(up, input.parts, stored, input.minPartSize);
    const { rec, chunks } = buildMultipartRecord(up, parts, core.clock.now());
    if (input.replication) rec.replication = input.replication;
    const want = input.expectedChecksum;
    if (want && rec.checksum && want.algorithm === rec.checksum.algorithm) {
      // A composite value may carry its part count ("...-3"); the digest is what must match.
      const strip = (v: string) => v.replace(/-\d+$/, "");
      verifyChecksum(rec.checksum.algorithm, strip(want.value), strip(rec.checksum.value));
    }
    // Large part lists are written before the publish commit, which could not carry them all
    // (800 KiB per commit). Keyed by the upload id, nothing reads them until the record that
    // names them is published; if this Complete fails they are overwritten by the next one or
    // dropped by the maintenance once the upload is gone.
    if (chunks.length) {
      const idx = await core.meta.get<PartsIndex>(objectPartsIndexKey(up.uploadId));
      await core.meta.set(
        objectPartsIndexKey(up.uploadId),
        {
          v: 1,
          chunks: Math.max(idx.value?.chunks ?? 0, chunks.length),
          at: core.clock.now(),
        } satisfies PartsIndex,
      );
    }
    for (let i = 0; i < chunks.length; i += CHUNKS_PER_COMMIT) {
      const op = core.meta.write();
      for (let j = i; j < Math.min(chunks.length, i + CHUNKS_PER_COMMIT); j++) {
        op.set(objectPartsKey(up.uploadId, j), { v: 1, parts: chunks[j] });
      }
      const res = await op.commit();
      if (!res.ok) throw new S3Error("OperationAborted");
    }
    const keep = partBitmap(parts.map((p) => p.n));
    await publishObject(core, bucket, rec, {
      conditions: input.conditions,
      origin: input.origin ?? { event: "ObjectCreated:CompleteMultipartUpload" },
      checks: [sealed],
      extra: (op, final) => {
        op.delete(uploadKey(up.uploadId));
        op.set(
          uploadDoneKey(up.uploadId),
          {
            v: 1,
            bucketId: bucket.id,
            key: up.key,
            versionId: final.versionId,
            etag: final.etag,
            at: core.clock.now(),
          } satisfies UploadDone,
        );
        op.delete(uploadListKey(up.bucketId, up.key, up.initiated, up.uploadId));
        op.set(uploadCleanKey(up.uploadId), { v: 1, keep, at: core.clock.now() });
        op.noteStats({ bucketId: bucket.id, ns: bucket.ns, uploadId: up.uploadId });
      },
    });
    published = true;
    await cleanupUpload(core, up.uploadId).catch((e) =>
      core.log.warn("multipart cleanup failed; maintenance will retry", {
        uploadId: up.uploadId,
        error: String(e),
      })
    );
    return rec;
  } catch (e) {
    if (!published) {
      await unseal(core, sealed);
      // An abort that raced this Complete makes the publish checks fail: report it as such.
      const still = await core.meta.get(uploadKey(up.uploadId));
      if (!still.value) throw new S3Error("NoSuchUpload", { fields: { UploadId: up.uploadId } });
    }
    throw e;
  }
}
