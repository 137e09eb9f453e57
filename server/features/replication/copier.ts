/**
 * Copies one queued change to its destination with `@aws-sdk/client-s3`: an object version read
 * through the Backend (decrypted at the source) is uploaded with `@aws-sdk/lib-storage`, one
 * PutObject for small objects and a multipart upload of 8 MiB parts for large ones (memory bound:
 * part size times parts in flight); a delete marker becomes a DeleteObject. Every request
 * carries the replica header, so a MaxIOFS destination stores REPLICA and does not replicate the
 * copy back (two-way replication without loops).
 */
import {
  DeleteObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ObjectLockLegalHoldStatus,
  type ObjectLockMode,
  type PutObjectCommandInput,
  S3Client,
  type StorageClass,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { Destination } from "./destinations.ts";
import type { ObjectRecord } from "../../storage/types.ts";
import type { OpenBytes } from "../../storage/types.ts";
import { REPLICA_HEADER } from "../../s3/ops/replication.ts";
import { isS3Error } from "../../s3/errors.ts";
import type { LeanSender } from "./lean_sender.ts";

/**
 * How a copy reaches its destination: the SDK's client (multipart uploads of large versions,
 * metadata-only changes, listings), and the lean sender of small requests when there is one.
 */
export interface Sender {
  client: S3Client;
  lean?: LeanSender;
}

export const PART_SIZE = 8 * 1024 * 1024;
/** Parts of one object in flight at once. */
export const PART_QUEUE = 2;

/** An error the destination answered (its S3 code when it gave one). */
export class CopyError extends Error {
  override name = "CopyError";
  constructor(
    message: string,
    readonly code: string | null,
    /** Not retried soon (credentials, a missing bucket): the backoff is four times longer. */
    readonly permanent: boolean,
    /** Never mended by a retry: the task is dead-lettered at once. */
    readonly final = false,
  ) {
    super(message);
  }
}

/** A client for a destination, with the replica header on every request. */
export function destinationClient(dest: Destination, secretKey: string): S3Client {
  const client = new S3Client({
    endpoint: dest.endpoint,
    region: dest.region,
    forcePathStyle: dest.pathStyle,
    credentials: { accessKeyId: dest.accessKey, secretAccessKey: secretKey },
    // The queue retries with its own backoff; a request is tried once here.
    maxAttempts: 1,
    // Checksums only where the source has one (the copy passes its algorithm).
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  client.middlewareStack.add(
    (next) => (args) => {
      const req = args.request as { headers?: Record<string, string> };
      if (req.headers) req.headers[REPLICA_HEADER] = "true";
      return next(args);
    },
    { step: "build", name: "maxiofsReplicaHeader" },
  );
  return client;
}

/** The request fields that carry a record's metadata, content headers, tags and lock. */
export function putParams(
  dest: Destination,
  rec: ObjectRecord,
  storageClass: string | undefined,
  withLock: boolean,
): Omit<PutObjectCommandInput, "Body"> {
  const p: Omit<PutObjectCommandInput, "Body"> = {
    Bucket: dest.bucket,
    Key: rec.key,
    Metadata: { ...rec.meta },
  };
  const c = rec.content;
  if (c.contentType) p.ContentType = c.contentType;
  if (c.contentEncoding) p.ContentEncoding = c.contentEncoding;
  if (c.contentDisposition) p.ContentDisposition = c.contentDisposition;
  if (c.contentLanguage) p.ContentLanguage = c.contentLanguage;
  if (c.cacheControl) p.CacheControl = c.cacheControl;
  if (c.expires) {
    const t = Date.parse(c.expires);
    if (!Number.isNaN(t)) p.Expires = new Date(t);
  }
  const sc = storageClass ?? (rec.storageClass !== "STANDARD" ? rec.storageClass : undefined);
  if (sc) p.StorageClass = sc as StorageClass;
  if (rec.tags && Object.keys(rec.tags).length) {
    p.Tagging = new URLSearchParams(Object.entries(rec.tags)).toString();
  }
  if (rec.checksum?.type === "FULL_OBJECT" || (rec.checksum && rec.size <= PART_SIZE)) {
    p.ChecksumAlgorithm = rec.checksum.algorithm;
  }
  if (withLock && rec.retention) {
    p.ObjectLockMode = rec.retention.mode as ObjectLockMode;
    p.ObjectLockRetainUntilDate = new Date(rec.retention.until);
  }
  if (withLock && rec.legalHold !== undefined) {
    p.ObjectLockLegalHoldStatus = (rec.legalHold ? "ON" : "OFF") as ObjectLockLegalHoldStatus;
  }
  return p;
}

/** Whether a destination's error code is one a retry soon will not mend (credentials, bucket). */
export function isPermanentCode(code: string | null): boolean {
  return code === "InvalidAccessKeyId" || code === "SignatureDoesNotMatch" ||
    code === "NoSuchBucket" || code === "AccessDenied";
}

/** Turns an SDK error into a CopyError (credentials and missing buckets are not retried soon). */
export function copyError(e: unknown): CopyError {
  if (e instanceof CopyError) return e;
  // The source refused to open the version (an SSE-C object: its key is not kept).
  if (isS3Error(e)) return new CopyError(`source: ${e.code}: ${e.message}`, e.code, true);
  const err = e as { name?: string; Code?: string; message?: string; $metadata?: unknown };
  const code = err.Code ?? (err.$metadata ? err.name ?? null : null);
  const permanent = isPermanentCode(code);
  const what = code ? `${code}: ${err.message ?? ""}` : String(err.message ?? e);
  return new CopyError(what.slice(0, 500), code, permanent);
}

/**
 * Whether the destination holds `key` modified after `sourceTime` (the "newer" conflict
 * policy keeps it). A missing key is not newer.
 */
export async function destinationIsNewer(
  { client, lean }: Sender,
  dest: Destination,
  key: string,
  sourceTime: number,
): Promise<boolean> {
  // HTTP dates have whole seconds: the source's time is compared at that precision.
  const source = Math.floor(sourceTime / 1000) * 1000;
  if (lean) return ((await lean.lastModified(key)) ?? 0) > source;
  try {
    const h = await client.send(new HeadObjectCommand({ Bucket: dest.bucket, Key: key }));
    return (h.LastModified?.getTime() ?? 0) > source;
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404) return false;
    throw copyError(e);
  }
}

/** Uploads a version's bytes and metadata to the destination. */
export async function copyObject(
  sender: Sender,
  dest: Destination,
  rec: ObjectRecord,
  open: OpenBytes,
  storageClass: string | undefined,
  signal?: AbortSignal,
): Promise<void> {
  const hasLock = rec.retention !== undefined || rec.legalHold !== undefined;
  try {
    await upload(sender, dest, rec, open, storageClass, hasLock, signal);
  } catch (e) {
    const err = copyError(e);
    // A destination without Object Lock refuses lock fields: the object is copied without them.
    if (hasLock && (err.code === "InvalidRequest" || err.code === "InvalidArgument")) {
      await upload(sender, dest, rec, open, storageClass, false, signal).catch((e2) => {
        throw copyError(e2);
      });
      return;
    }
    throw err;
  }
}

async function upload(
  { client, lean }: Sender,
  dest: Destination,
  rec: ObjectRecord,
  open: OpenBytes,
  storageClass: string | undefined,
  withLock: boolean,
  signal?: AbortSignal,
): Promise<void> {
  const params = putParams(dest, rec, storageClass, withLock);
  // One request (what lib-storage sends for a body within a part) without the SDK's stack; the
  // version is read whole (at most a part, the bound lib-storage buffers too).
  if (lean && rec.size <= PART_SIZE && lean.canSend(params)) {
    const bytes = rec.size === 0 ? new Uint8Array(0) : await new Response(await open()).bytes();
    return await lean.putObject(params, bytes, signal);
  }
  const body = rec.size === 0 ? new Uint8Array(0) : await open();
  const up = new Upload({
    client,
    params: { ...params, Body: body },
    partSize: PART_SIZE,
    queueSize: PART_QUEUE,
    leavePartsOnError: false,
  });
  if (signal) signal.addEventListener("abort", () => void up.abort(), { once: true });
  await up.done();
}

/** Replicates a delete marker: a DeleteObject of the key at the destination. */
export async function deleteAtDestination(
  { client, lean }: Sender,
  dest: Destination,
  key: string,
): Promise<void> {
  if (lean) return await lean.deleteObject(key);
  try {
    await client.send(new DeleteObjectCommand({ Bucket: dest.bucket, Key: key }));
  } catch (e) {
    throw copyError(e);
  }
}

/** Whether the destination's bucket answers to its credentials (HeadBucket); throws CopyError. */
export async function probeDestination(client: S3Client, dest: Destination): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: dest.bucket }));
  } catch (e) {
    const err = copyError(e);
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    // HEAD answers carry no error document: the status says what went wrong.
    if (status === 403) {
      throw new CopyError(
        "403 Forbidden: the destination refuses these credentials or this bucket to them",
        "AccessDenied",
        true,
      );
    }
    if (status === 404) {
      throw new CopyError(
        `404: no bucket "${dest.bucket}" at the destination`,
        "NoSuchBucket",
        true,
      );
    }
    if (status === 301 || status === 400) {
      throw new CopyError(`HTTP ${status}: check the region and the addressing style`, null, true);
    }
    throw err;
  }
}

/** One page of the destination's listing (sync compares it with the source's). */
export async function listDestination(
  client: S3Client,
  dest: Destination,
  prefix: string,
  after: string | undefined,
  token: string | undefined,
): Promise<{ objects: { key: string; size: number; etag: string }[]; next: string | undefined }> {
  try {
    const out = await client.send(
      new ListObjectsV2Command({
        Bucket: dest.bucket,
        Prefix: prefix || undefined,
        StartAfter: token ? undefined : after,
        ContinuationToken: token,
        MaxKeys: 1000,
      }),
    );
    return {
      objects: (out.Contents ?? []).map((o) => ({
        key: o.Key ?? "",
        size: o.Size ?? 0,
        etag: o.ETag ?? "",
      })),
      next: out.IsTruncated ? out.NextContinuationToken : undefined,
    };
  } catch (e) {
    throw copyError(e);
  }
}
