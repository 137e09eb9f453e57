/**
 * Multipart uploads: records, part uploads, abort, listings and cleanup. Parts are blob files
 * named `${uploadId}.${partNumber}.${random}`, so all of them (and later the completed object)
 * share ONE reference entry ["blob", uploadId], set when the upload is created: the orphan sweep
 * keeps in-flight parts and the cleanup finds every file of an upload in one directory.
 * Completing lives in multipart_complete.ts; the timer-driven upkeep in multipart_maintenance.ts.
 */
import { deleteKeys } from "../meta/delete_keys.ts";
import { S3Error } from "../../s3/errors.ts";
import {
  blobRefKey,
  partKey,
  partPrefix,
  uploadCleanKey,
  uploadKey,
  uploadListKey,
  uploadListPrefix,
} from "../meta/keys.ts";
import { newBlobId } from "../blob/blob_store.ts";
import { writeVerifiedBlob } from "../objects/objects.ts";
import { newDataKey, openDataKey, sealedEtag } from "../objects/sealed.ts";
import type { CustomerKey, SseSpec, StoredEncryption } from "../../crypto/types.ts";
import { seekBatch, walkWithDelimiter } from "../listing/listing.ts";
import type { StorageCore } from "../core.ts";
import { type ChecksumAlgorithm, toHex } from "../objects/hashing.ts";
import type { ChecksumType } from "./multipart_checksum.ts";
import type {
  BucketRecord,
  ContentHeaders,
  ExpectedChecksum,
  ObjectRecord,
  PutObjectInput,
  StoredAcl,
} from "../types.ts";

export const MAX_PART_NUMBER = 10000;
export const MAX_PART_SIZE = 5 * 1024 ** 3;
export const MIN_PART_SIZE = 5 * 1024 ** 2;

export interface UploadRecord {
  v: 1;
  uploadId: string;
  bucketId: string;
  key: string;
  initiated: number;
  content: ContentHeaders;
  meta: Record<string, string>;
  tags?: Record<string, string>;
  storageClass: string;
  ownerId: string;
  checksum?: { algorithm: ChecksumAlgorithm; type: ChecksumType };
  retention?: ObjectRecord["retention"];
  legalHold?: boolean;
  /** The completed object's ACL; absent when private. */
  acl?: StoredAcl;
  /**
   * Set (to the time) while a CompleteMultipartUpload runs: part uploads wait instead of
   * committing, so the part list Complete read stays the one it publishes. Cleared at start-up.
   */
  sealed?: number;
  /**
   * How the upload's parts are encrypted (docs/decisions/0012): each part gets its own data key
   * of this mode; the completed object keeps this `enc` (its `dk`, the upload's own data key,
   * also checks the SSE-C key of each UploadPart).
   */
  enc?: StoredEncryption;
}

/** Value of ["mpul", ...]: what ListMultipartUploads shows beyond the key fields. */
export interface UploadListing {
  v: 1;
  ownerId: string;
  storageClass: string;
  checksum?: UploadRecord["checksum"];
}

export interface PartRecord {
  v: 1;
  n: number;
  blob: string;
  size: number;
  /** Quoted MD5 ETag. */
  etag: string;
  lastModified: number;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  /** Encrypted uploads: this part's data key, wrapped as `PartRef.dk`. */
  dk?: Uint8Array;
  /** What wrapped `dk`, when not the upload's `enc.kek` (`PartRef.kek`). */
  kek?: string;
}

export interface CreateUploadInput {
  key: string;
  content: ContentHeaders;
  meta: Record<string, string>;
  tags?: Record<string, string>;
  storageClass?: string;
  ownerId: string;
  checksum?: UploadRecord["checksum"];
  retention?: ObjectRecord["retention"];
  legalHold?: boolean;
  acl?: StoredAcl;
  /** Encrypt the parts so (resolved by the S3 layer); absent: plaintext. */
  sse?: SseSpec;
}

export interface UploadPartInput
  extends Pick<PutObjectInput, "body" | "contentLength" | "contentMd5"> {
  key: string;
  uploadId: string;
  partNumber: number;
  checksum?: ExpectedChecksum;
  /** The customer key of an SSE-C upload (each UploadPart must present it). */
  customer?: CustomerKey;
}

export interface ListPartsInput {
  /** Exclusive: parts with a greater number. */
  marker: number;
  maxParts: number;
}

export interface ListPartsPage {
  upload: UploadRecord;
  parts: PartRecord[];
  truncated: boolean;
}

export interface ListUploadsInput {
  prefix: string;
  delimiter: string;
  keyMarker: string;
  uploadIdMarker: string;
  maxUploads: number;
}

export interface UploadSummary extends UploadListing {
  key: string;
  uploadId: string;
  initiated: number;
}

export interface ListUploadsPage {
  uploads: UploadSummary[];
  commonPrefixes: string[];
  truncated: boolean;
  nextKeyMarker: string | null;
  nextUploadIdMarker: string | null;
}

/** How long a part upload waits for a running Complete before giving up (`OperationAborted`). */
const SEAL_WAIT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Upload ids are 32 hex characters: no ".", so `blobGroup` of a part blob is the upload id. */
export function newUploadId(): string {
  return newBlobId();
}

/** Whether `uploadId` has the form `newUploadId` gives (anything else names no upload). */
export function isUploadId(uploadId: string): boolean {
  return /^[0-9a-f]{32}$/.test(uploadId);
}

export async function createUpload(
  core: StorageCore,
  bucket: BucketRecord,
  input: CreateUploadInput,
): Promise<UploadRecord> {
  const enc = input.sse ? (await newDataKey(core, bucket.ns, input.sse)).enc : undefined;
  const rec: UploadRecord = {
    v: 1,
    uploadId: newUploadId(),
    bucketId: bucket.id,
    key: input.key,
    initiated: core.clock.now(),
    content: input.content,
    meta: input.meta,
    tags: input.tags,
    storageClass: input.storageClass ?? "STANDARD",
    ownerId: input.ownerId,
    checksum: input.checksum,
    retention: input.retention,
    legalHold: input.legalHold,
    acl: input.acl,
    enc,
  };
  const listing: UploadListing = {
    v: 1,
    ownerId: rec.ownerId,
    storageClass: rec.storageClass,
    checksum: rec.checksum,
  };
  const res = await core.meta.write()
    .check({ key: uploadKey(rec.uploadId), versionstamp: null })
    .set(uploadKey(rec.uploadId), rec)
    .set(uploadListKey(bucket.id, rec.key, rec.initiated, rec.uploadId), listing)
    .set(blobRefKey(rec.uploadId), { v: 1, bucketId: bucket.id, key: rec.key, kind: "upload" })
    .commit();
  if (!res.ok) throw new S3Error("OperationAborted");
  return rec;
}

/** The entry of an open upload of this bucket and key; `NoSuchUpload` otherwise. */
export async function getUploadEntry(
  core: StorageCore,
  bucket: BucketRecord,
  key: string,
  uploadId: string,
): Promise<Deno.KvEntry<UploadRecord>> {
  if (!isUploadId(uploadId)) {
    throw new S3Error("NoSuchUpload", { fields: { UploadId: uploadId } });
  }
  const e = await core.meta.get<UploadRecord>(uploadKey(uploadId));
  if (!e.value || e.value.bucketId !== bucket.id || e.value.key !== key) {
    throw new S3Error("NoSuchUpload", { fields: { UploadId: uploadId } });
  }
  return e as Deno.KvEntry<UploadRecord>;
}

/** `InvalidArgument` unless 1..10000 (the S3 wording for a bad partNumber). */
export function parsePartNumber(v: string | null): number {
  const n = v !== null && /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw new S3Error("InvalidArgument", {
      message: "Part number must be an integer between 1 and 10000, inclusive",
      fields: { ArgumentName: "partNumber", ArgumentValue: v ?? "" },
    });
  }
  return n;
}

/**
 * Streams one part into its own blob, verifies it, then commits the part record against the
 * upload entry and the part it replaces. The previous blob of that part number is removed after
 * the commit; when two uploads of one part race, the later commit wins and the other blob goes.
 */
export async function uploadPart(
  core: StorageCore,
  bucket: BucketRecord,
  input: UploadPartInput,
): Promise<PartRecord> {
  const up = (await getUploadEntry(core, bucket, input.key, input.uploadId)).value;
  let checksum = input.checksum;
  if (up.checksum) {
    if (checksum && checksum.algorithm !== up.checksum.algorithm) {
      throw new S3Error("InvalidRequest", {
        message:
          `Checksum Type mismatch occurred, expected checksum Type: ${up.checksum.algorithm.toLowerCase()}, actual checksum Type: ${checksum.algorithm.toLowerCase()}`,
      });
    }
    // The upload's algorithm is computed for every part: Complete needs all part digests.
    checksum ??= { algorithm: up.checksum.algorithm, expected: () => undefined };
  }
  const dk = up.enc ? await newPartKey(core, bucket.ns, up.enc, input.customer) : null;
  const w = await writeVerifiedBlob(core, {
    body: input.body,
    contentLength: input.contentLength,
    contentMd5: input.contentMd5,
    checksum,
    maxSize: MAX_PART_SIZE,
    blobId: `${input.uploadId}.${input.partNumber}.${newBlobId()}`,
    seal: dk ? { key: dk.key, seg: dk.enc.seg } : undefined,
  });
  const part: PartRecord = {
    v: 1,
    n: input.partNumber,
    blob: w.blob,
    size: w.size,
    etag: dk ? sealedEtag(dk.enc, dk.key, w.md5) : `"${toHex(w.md5)}"`,
    lastModified: core.clock.now(),
    checksum: w.checksum ? { algorithm: w.checksum.algorithm, value: w.checksum.value } : undefined,
  };
  if (dk) {
    part.dk = dk.enc.dk;
    if (dk.enc.kek !== up.enc!.kek) part.kek = dk.enc.kek;
  }
  try {
    await commitPart(core, bucket, input, part);
  } catch (e) {
    await core.blobs.remove(w.blob).catch(() => {});
    throw e;
  }
  return part;
}

/**
 * A new data key for a part of an upload encrypted as `enc`, of the same mode and key. An SSE-C
 * part must present the upload's customer key, checked against the upload's own data key.
 */
async function newPartKey(
  core: StorageCore,
  ns: string,
  enc: StoredEncryption,
  customer: CustomerKey | undefined,
) {
  let spec: SseSpec;
  if (enc.mode === "SSE-C") {
    // AWS answers a part without the upload's key, or with another one, with InvalidRequest.
    if (!customer) {
      throw new S3Error("InvalidRequest", {
        message:
          "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.",
      });
    }
    try {
      await openDataKey(core, enc, { ns, customer });
    } catch (e) {
      if (!(e instanceof S3Error) || e.code !== "AccessDenied") throw e;
      throw new S3Error("InvalidRequest", {
        message: "The provided encryption parameters did not match the ones used originally.",
      });
    }
    spec = { mode: "SSE-C", key: customer.key, keyMd5: customer.keyMd5 };
  } else if (enc.mode === "aws:kms") {
    spec = {
      mode: "aws:kms",
      keyId: enc.kmsKeyArn,
      context: enc.context,
      bucketKey: enc.bucketKey,
    };
  } else spec = { mode: "AES256" };
  return await newDataKey(core, ns, spec);
}

async function commitPart(
  core: StorageCore,
  bucket: BucketRecord,
  input: Pick<UploadPartInput, "key" | "uploadId" | "partNumber">,
  part: PartRecord,
): Promise<void> {
  const pKey = partKey(input.uploadId, input.partNumber);
  const deadline = core.clock.now() + SEAL_WAIT_MS;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const [ue, pe] = await core.meta.getMany<[UploadRecord, PartRecord]>([
      uploadKey(input.uploadId),
      pKey,
    ]);
    if (!ue.value || ue.value.bucketId !== bucket.id || ue.value.key !== input.key) {
      throw new S3Error("NoSuchUpload", { fields: { UploadId: input.uploadId } });
    }
    if (ue.value.sealed) {
      if (core.clock.now() > deadline) throw new S3Error("OperationAborted");
      await sleep(50);
      continue;
    }
    const res = await core.meta.groupWrite().check(ue, pe).set(pKey, part).commit();
    if (!res.ok) continue;
    if (pe.value && pe.value.blob !== part.blob) {
      await core.blobs.remove(pe.value.blob).catch((e) =>
        core.log.warn("replaced part blob removal failed", { error: String(e) })
      );
    }
    return;
  }
  throw new S3Error("OperationAborted");
}

/**
 * Aborts an upload: one commit removes the upload, its listing and its blob reference and leaves
 * a cleanup note; the cleanup then deletes part records and files (after a crash, the start-up
 * maintenance finishes it, and the sweep would find the unreferenced files anyway).
 */
export async function abortUpload(
  core: StorageCore,
  bucket: BucketRecord | null,
  key: string,
  uploadId: string,
): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const ue = bucket
      ? await getUploadEntry(core, bucket, key, uploadId)
      : await core.meta.get<UploadRecord>(uploadKey(uploadId));
    if (!ue.value) throw new S3Error("NoSuchUpload", { fields: { UploadId: uploadId } });
    const up = ue.value;
    const res = await core.meta.write()
      .check(ue)
      .delete(uploadKey(uploadId))
      .delete(uploadListKey(up.bucketId, up.key, up.initiated, uploadId))
      .delete(blobRefKey(uploadId))
      .set(uploadCleanKey(uploadId), { v: 1, keep: null, at: core.clock.now() })
      .commit();
    if (!res.ok) continue;
    await cleanupUpload(core, uploadId);
    return;
  }
  throw new S3Error("OperationAborted");
}

/** Bitmap of part numbers (bit n set = part n is used by the completed object). */
export function partBitmap(numbers: number[]): Uint8Array {
  const b = new Uint8Array((MAX_PART_NUMBER >> 3) + 1);
  for (const n of numbers) b[n >> 3] |= 1 << (n & 7);
  return b;
}

const hasBit = (b: Uint8Array, n: number) => (b[n >> 3] & (1 << (n & 7))) !== 0;

interface CleanupNote {
  v: 1;
  keep: Uint8Array | null;
  at: number;
  /** A runner owns the note: others skip it (a crash releases it: start-up ignores claims). */
  claimed?: boolean;
  /** Unused files are gone; from here on part records may be partly deleted. */
  filesDone?: boolean;
}

/**
 * Finishes a completed or aborted upload (idempotent, crash-safe): removes every file of the
 * upload that the object does not use (unlisted parts, replaced parts, blobs of crashed part
 * uploads), then the part records, then the cleanup note. Which files to keep is derived from
 * the part records, so it is only decided while all of them still exist (`filesDone` marks the
 * end of that phase) and by one runner at a time (`claimed`).
 */
export async function cleanupUpload(
  core: StorageCore,
  uploadId: string,
  opts: { startup?: boolean } = {},
): Promise<void> {
  const found = await core.meta.get<CleanupNote>(uploadCleanKey(uploadId));
  if (!found.value || (found.value.claimed && !opts.startup)) return;
  let note: CleanupNote = { ...found.value, claimed: true };
  const claim = await core.meta.write().check(found).set(found.key, note).commit();
  if (!claim.ok) return; // another runner claimed it
  let stamp = claim.versionstamp;
  try {
    const partKeys: Deno.KvKey[] = [];
    const keepBlobs = new Set<string>();
    for await (const e of core.meta.list<PartRecord>({ prefix: partPrefix(uploadId) })) {
      partKeys.push(e.key);
      if (note.keep && hasBit(note.keep, e.value.n)) keepBlobs.add(e.value.blob);
    }
    if (!note.filesDone) {
      for (const id of await core.blobs.listPrefix(`${uploadId}.`)) {
        if (!keepBlobs.has(id)) await core.blobs.remove(id);
      }
      note = { ...note, filesDone: true };
      const res = await core.meta.write().check({ key: found.key, versionstamp: stamp })
        .set(found.key, note).commit();
      if (!res.ok) return;
      stamp = res.versionstamp;
    }
    await deleteKeys(core.meta.writer, partKeys);
    await core.meta.write().check({ key: found.key, versionstamp: stamp })
      .delete(found.key).commit();
  } catch (e) {
    const { claimed: _, ...released } = note;
    await core.meta.write().check({ key: found.key, versionstamp: stamp })
      .set(found.key, released).commit().catch(() => {});
    throw e;
  }
}

export async function listParts(
  core: StorageCore,
  bucket: BucketRecord,
  key: string,
  uploadId: string,
  input: ListPartsInput,
): Promise<ListPartsPage> {
  const upload = (await getUploadEntry(core, bucket, key, uploadId)).value;
  const parts: PartRecord[] = [];
  if (input.maxParts <= 0 || input.marker >= MAX_PART_NUMBER) {
    return { upload, parts, truncated: false };
  }
  const iter = core.meta.list<PartRecord>(
    { prefix: partPrefix(uploadId), start: partKey(uploadId, input.marker + 1) },
    { limit: input.maxParts + 1 },
  );
  for await (const e of iter) parts.push(e.value);
  const truncated = parts.length > input.maxParts;
  if (truncated) parts.length = input.maxParts;
  return { upload, parts, truncated };
}

/**
 * ListMultipartUploads: key order, then initiation time; delimiter folding as in ListObjects.
 * Each seek reads small batches first (`seekBatch`), so folding N common prefixes costs about
 * N entries, not N pages.
 */
export async function listUploads(
  core: StorageCore,
  bucket: BucketRecord,
  input: ListUploadsInput,
): Promise<ListUploadsPage> {
  // upload-id-marker only counts together with key-marker: resume after that upload. When it is
  // gone (completed or aborted since the last page) its place is unknown; S3's rule then applies
  // literally: uploads of key-marker whose id sorts after upload-id-marker.
  let resume: Deno.KvKey | null = null;
  let idAfter: string | null = null;
  if (input.keyMarker && input.uploadIdMarker) {
    const m = /^[0-9a-f]{32}$/.test(input.uploadIdMarker)
      ? await core.meta.get<UploadRecord>(uploadKey(input.uploadIdMarker))
      : null;
    if (m?.value && m.value.bucketId === bucket.id && m.value.key === input.keyMarker) {
      resume = uploadListKey(bucket.id, m.value.key, m.value.initiated, m.value.uploadId);
    } else idAfter = input.uploadIdMarker;
  }
  const prefixKey = uploadListPrefix(bucket.id);
  const walkInput = {
    prefix: input.prefix,
    delimiter: input.delimiter,
    after: input.keyMarker,
    maxKeys: input.maxUploads,
  };
  const seek = async function* (start: string, inclusive: boolean) {
    let from: Deno.KvKey;
    if (!inclusive && resume && start === input.keyMarker) {
      from = [...resume, ""]; // just past the marker upload
    } else if (!inclusive && start === input.keyMarker && input.uploadIdMarker) {
      from = [...prefixKey, start, -1];
    } else from = [...prefixKey, inclusive ? start : start + "\0"];
    for (let batch = seekBatch(walkInput);; batch = Math.min(batch * 4, 1000)) {
      const iter = core.meta.list<UploadListing>(
        { prefix: prefixKey, start: from },
        { limit: batch, batchSize: batch },
      );
      let n = 0;
      for await (const e of iter) {
        n++;
        from = [...e.key, ""];
        const [, , key, initiated, uploadId] = e.key as [string, string, string, number, string];
        if (idAfter !== null && key === input.keyMarker && uploadId <= idAfter) continue;
        yield { ...e.value, key, initiated, uploadId };
      }
      if (n < batch) return;
    }
  };
  const uploads: UploadSummary[] = [];
  const commonPrefixes: string[] = [];
  let lastWasUpload = false;
  const r = await walkWithDelimiter(
    walkInput,
    seek,
    (u) => u.key,
    (u) => {
      uploads.push(u);
      lastWasUpload = true;
    },
    (p) => {
      commonPrefixes.push(p);
      lastWasUpload = false;
    },
  );
  return {
    uploads,
    commonPrefixes,
    truncated: r.truncated,
    nextKeyMarker: r.last,
    nextUploadIdMarker: lastWasUpload ? uploads[uploads.length - 1].uploadId : null,
  };
}
