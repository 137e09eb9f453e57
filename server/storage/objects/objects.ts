/**
 * Object writes, reads and deletes. A write streams into a blob while hashing, then one atomic
 * KV commit publishes it (checked against the entry it replaces); the replaced blob is removed
 * after the commit. A crash at any point leaves the old or the new object, never a mix.
 */
import { S3Error } from "../../s3/errors.ts";
import { objectKey } from "../meta/keys.ts";
import { inlineRowCount, readInlineRows } from "./inline.ts";
import type { MetaWrite } from "../meta/store.ts";
import { bytesStream } from "../blob/hot_cache.ts";
import { blobsOf, type StorageCore } from "../core.ts";
import {
  deleteVersioned,
  getObjectRecord as getVersionedRecord,
  publishVersion,
} from "../versions/versions.ts";
import { openParts } from "./parts.ts";
import {
  newDataKey,
  openSealedBlob,
  openSealedInline,
  openSealedStored,
  sealedEtag,
  sealerFor,
  storedSize,
} from "./sealed.ts";
import {
  type Hasher,
  newChecksumHasher,
  newMd5,
  parseContentMd5,
  toBase64,
  toHex,
  verifyChecksum,
  verifyMd5,
} from "./hashing.ts";
import type {
  BucketRecord,
  ByteRange,
  ChangeOrigin,
  DeleteObjectOptions,
  ObjectRecord,
  PartRef,
  PutObjectInput,
  ReadAccess,
  StoredChecksum,
  WriteConditions,
} from "../types.ts";

export const MAX_PUT_SIZE = 5 * 1024 ** 3;
/**
 * PutObject bodies up to this size (declared length) are stored in KV with their record
 * (`["blobd", id]`, `rec.inline`) instead of a file: one commit publishes metadata and bytes
 * together, and a small object costs no file creation, rename or unlink.
 */
export const INLINE_MAX = 16 * 1024;

/** `If-Match` / `If-None-Match` on writes against the current record (412 when they fail). */
export function checkWriteConditions(
  cur: ObjectRecord | null,
  c: WriteConditions | undefined,
): void {
  if (!c) return;
  if (c.ifNoneMatch !== undefined) {
    if (c.ifNoneMatch.trim() === "*") {
      if (cur) throw new S3Error("PreconditionFailed", { fields: { Condition: "If-None-Match" } });
    } else if (cur && etagListMatches(c.ifNoneMatch, cur.etag)) {
      throw new S3Error("PreconditionFailed", { fields: { Condition: "If-None-Match" } });
    }
  }
  if (c.ifMatch !== undefined) {
    if (!cur) throw new S3Error("NoSuchKey");
    if (!etagListMatches(c.ifMatch, cur.etag)) {
      throw new S3Error("PreconditionFailed", { fields: { Condition: "If-Match" } });
    }
  }
}

/** Whether a comma-separated If-Match / If-None-Match list names this ETag (or is `*`). */
export function etagListMatches(header: string, etag: string): boolean {
  const bare = etag.replace(/^"|"$/g, "");
  return header.split(",").some((t) => {
    const v = t.trim().replace(/^W\//, "");
    return v === "*" || v.replace(/^"|"$/g, "") === bare;
  });
}

export interface PublishOptions {
  conditions?: WriteConditions;
  /** Blob groups whose reference entries this commit takes over (multipart parts). */
  adoptRefs?: Deno.KvKey[];
  /**
   * Extra mutations that must commit together with the object (e.g. removing an upload). Gets
   * the record with its final `versionId` (assigned at commit time): anything keyed by version
   * must be written here, not before.
   */
  extra?: (op: MetaWrite, rec: ObjectRecord) => void;
  /** Entries that must be unchanged for the commit (e.g. the multipart upload record). */
  checks?: Deno.KvEntryMaybe<unknown>[];
  /** The bytes of an `inline` record, stored by the same commit. */
  inlineData?: Uint8Array;
  /** What caused the write, for the change feed (ObjectCreated:Put when absent). */
  origin?: ChangeOrigin;
}

/**
 * Publishes a fully written object record as the newest version of its key (see versions.ts:
 * Enabled buckets keep the previous version, others replace the `null` version). Sets
 * `rec.versionId`; returns the record it replaced (whose blobs have already been removed).
 */
export function publishObject(
  core: StorageCore,
  bucket: BucketRecord,
  rec: ObjectRecord,
  opts: PublishOptions = {},
): Promise<ObjectRecord | null> {
  return publishVersion(core, bucket, rec, opts);
}

/** Removes the files of a record that is no longer referenced. Failures are left to the sweep. */
export async function removeBlobs(core: StorageCore, rec: ObjectRecord): Promise<void> {
  // Inline bytes went with the commit that dropped the record; only the cached copy is left.
  if (rec.inline && rec.blob) core.blobs.hot.delete(rec.blob);
  for (const b of blobsOf(rec)) {
    await core.blobs.remove(b, rec.blob ? rec.size : undefined).catch((e) =>
      core.log.warn("blob removal failed; the sweep will retry", { blob: b, error: String(e) })
    );
  }
}

/** Writes a body into a new blob and verifies Content-MD5 and the additional checksum. */
export async function writeVerifiedBlob(
  core: StorageCore,
  input: Pick<PutObjectInput, "body" | "contentLength" | "contentMd5" | "checksum" | "maxSize"> & {
    /** Caller-chosen blob id (multipart parts); default random. */
    blobId?: string;
    /** Keep a body of at most this declared length in memory (returned as `data`), no file. */
    inlineMax?: number;
    /** Encrypt the bytes under this data key (`seg1`, segments of `seg` bytes). */
    seal?: { key: Uint8Array; seg: number };
  },
): Promise<
  { blob: string; size: number; md5: Uint8Array; checksum?: StoredChecksum; data?: Uint8Array }
> {
  const expectedMd5 = parseContentMd5(input.contentMd5);
  const md5 = newMd5();
  const hashers: Hasher[] = [md5];
  let ck: Hasher | null = null;
  if (input.checksum) {
    ck = newChecksumHasher(input.checksum.algorithm);
    hashers.push(ck);
  }
  const staged = await core.blobs.write(input.body, {
    hashers,
    maxSize: input.maxSize ?? MAX_PUT_SIZE,
    id: input.blobId,
    expectedSize: input.contentLength,
    inlineMax: input.inlineMax,
    seal: input.seal ? sealerFor(input.seal.key, input.seal.seg) : undefined,
  });
  try {
    const digest = md5.digest();
    verifyMd5(expectedMd5, digest);
    let checksum: StoredChecksum | undefined;
    if (ck && input.checksum) {
      const value = toBase64(ck.digest());
      verifyChecksum(input.checksum.algorithm, input.checksum.expected(), value);
      checksum = { algorithm: input.checksum.algorithm, value, type: "FULL_OBJECT" };
    }
    return { blob: staged.id, size: staged.size, md5: digest, checksum, data: staged.data };
  } catch (e) {
    await core.blobs.remove(staged.id);
    throw e;
  }
}

/**
 * The record without its absent optional fields (the publish commit stores it so): V8
 * serialization keeps a property set to `undefined` (name and tag), ~45 bytes per stored record
 * of a plain PUT (checksum, tags, retention, legalHold), a tenth of a small object's `obj` row.
 */
export function withoutUndefined<T extends object>(rec: T): T {
  for (const k of Object.keys(rec) as (keyof T)[]) if (rec[k] === undefined) delete rec[k];
  return rec;
}

/** PutObject: stream, verify, publish. */
export async function putObject(
  core: StorageCore,
  bucket: BucketRecord,
  input: PutObjectInput,
): Promise<ObjectRecord> {
  const cur = input.conditions
    ? (await core.meta.get<ObjectRecord>(objectKey(bucket.id, input.key))).value
    : null;
  // Fail fast on a precondition before reading the body; re-checked atomically on publish.
  checkWriteConditions(cur, input.conditions);
  // The data key comes first: a key service that refuses fails the write before its body is read.
  const dk = input.sse ? await newDataKey(core, bucket.ns, input.sse) : null;
  // Inline or not by the plaintext size; the rows then hold the sealed bytes.
  const inlineMax = core.tuning.on("inline-small") ? INLINE_MAX : undefined;
  const w = await writeVerifiedBlob(core, {
    ...input,
    inlineMax,
    seal: dk ? { key: dk.key, seg: dk.enc.seg } : undefined,
  });
  const rec: ObjectRecord = {
    v: 1,
    key: input.key,
    versionId: "null",
    blob: w.blob,
    ...(w.data ? { inline: true as const } : {}),
    size: w.size,
    etag: dk ? sealedEtag(dk.enc, dk.key, w.md5) : `"${toHex(w.md5)}"`,
    lastModified: core.clock.now(),
    content: input.content,
    meta: input.meta,
    checksum: w.checksum,
    storageClass: input.storageClass ?? "STANDARD",
    tags: input.tags,
    retention: input.retention,
    legalHold: input.legalHold,
    ownerId: input.ownerId,
    acl: input.acl,
    enc: dk?.enc,
    replication: input.replication,
  };
  const rows = w.data ? inlineRowCount(w.data.length) : undefined;
  if (rows !== undefined) rec.inlineRows = rows;
  try {
    await publishObject(core, bucket, rec, {
      conditions: input.conditions,
      inlineData: w.data,
      origin: input.origin,
    });
  } catch (e) {
    await core.blobs.remove(w.blob);
    throw e;
  }
  return rec;
}

/**
 * The current record of a key (`NoSuchKey` when absent, with `x-amz-delete-marker` when the
 * latest is a marker), or the given version (`NoSuchVersion`; 405 for a delete marker).
 */
export function getObjectRecord(
  core: StorageCore,
  bucket: BucketRecord,
  key: string,
  versionId?: string | null,
): Promise<ObjectRecord> {
  return getVersionedRecord(core, bucket, key, versionId);
}

/**
 * Opens the bytes of a record (the plaintext of an encrypted one: `access` names its bucket's
 * namespace and the SSE-C key). If an overwrite removed the blob between reading the record and
 * opening it, the caller re-reads the record (`BlobGone`).
 */
export async function openObject(
  core: StorageCore,
  rec: ObjectRecord,
  range?: ByteRange,
  access: ReadAccess = { ns: "" },
): Promise<ReadableStream<Uint8Array>> {
  if (rec.inline && rec.blob) {
    const data = await readInline(core, rec);
    if (!data) throw new BlobGone();
    if (rec.enc) return await openSealedInline(core, rec, data, range, access);
    return bytesStream(range ? data.subarray(range.start, range.end + 1) : data);
  }
  if (rec.blob && rec.enc) return await openSealedBlob(core, rec, range, access);
  if (rec.blob) {
    try {
      return await core.blobs.open(rec.blob, range, rec.size);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new BlobGone();
      throw e;
    }
  }
  if (rec.size === 0 && !rec.parts?.length && !rec.partsChunks) {
    return new ReadableStream({ start: (c) => c.close() });
  }
  return await openParts(core, rec, range, access);
}

/**
 * The bytes of a record, or of one of its parts, as stored: from KV or the blob file, past every
 * memory cache, so that what was written to the disk is what gets re-verified (the integrity
 * scrubber). A multipart object is read part by part. `BlobGone` when the bytes went with the
 * version.
 */
export async function openStored(
  core: StorageCore,
  rec: ObjectRecord,
  part?: PartRef,
  access: ReadAccess = { ns: "" },
): Promise<ReadableStream<Uint8Array>> {
  const raw = await openStoredRaw(core, rec, part);
  return rec.enc ? await openSealedStored(core, rec, part, raw, access) : raw;
}

/** The bytes of a record or part exactly as stored (sealed when encrypted), past every cache. */
async function openStoredRaw(
  core: StorageCore,
  rec: ObjectRecord,
  part?: PartRef,
): Promise<ReadableStream<Uint8Array>> {
  if (!part && rec.inline && rec.blob) {
    const data = await readInlineRows(core.meta, { ...rec, size: storedSize(rec) });
    if (!data) throw new BlobGone();
    return bytesStream(data);
  }
  const blob = part ? part.blob : rec.blob;
  if (!blob) {
    throw new Error(
      `Cannot open the stored bytes of "${rec.key}": read a multipart object by part`,
    );
  }
  try {
    return (await Deno.open(core.blobs.pathOf(blob), { read: true })).readable;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new BlobGone();
    throw e;
  }
}

/** The bytes of an inline blob: from the hot cache, else from KV (null once dropped). */
async function readInline(core: StorageCore, rec: ObjectRecord): Promise<Uint8Array | null> {
  if (!rec.blob) return null;
  const hot = core.blobs.hot.get(rec.blob);
  if (hot) return hot;
  const data = await readInlineRows(core.meta, { ...rec, size: storedSize(rec) });
  if (data) core.blobs.hot.set(rec.blob, data);
  return data;
}

/** Signals that a blob vanished under a reader because the object was replaced. */
export class BlobGone extends Error {
  constructor() {
    super("blob replaced during read");
  }
}

/**
 * DeleteObject: a delete marker on versioned buckets, removal of a version for good with
 * `versionId` (locks permitting), removal of the object otherwise. Idempotent; returns the
 * marker created or the record removed (see versions.ts).
 */
export function deleteObject(
  core: StorageCore,
  bucket: BucketRecord,
  key: string,
  opts: DeleteObjectOptions = {},
): Promise<ObjectRecord | null> {
  return deleteVersioned(core, bucket, key, opts);
}
