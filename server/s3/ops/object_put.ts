/** PutObject. */
import { originOf } from "../origin.ts";
import { S3Error } from "../errors.ts";
import { validateKey } from "../names.ts";
import {
  contentHeadersFrom,
  declaredDataLength,
  expectedChecksumFrom,
  objectLockFrom,
  userMetadataFrom,
  writeConditionsFrom,
} from "../headers.ts";
import { parseTaggingHeader } from "../tags.ts";
import { checksumHeaderName, LOCK_CONFIG, type LockConfig } from "../../storage/mod.ts";
import { addExpirationHeader } from "./lifecycle.ts";
import { writeOwnership, writerOf } from "./acl.ts";
import { writeSseOf } from "./encryption.ts";
import { sseResponseHeaders } from "../sse.ts";
import { writeReplicationOf } from "./replication.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { BucketRecord, ExpectedChecksum, ObjectRecord } from "../../storage/types.ts";

export const STORAGE_CLASSES = [
  "STANDARD",
  "REDUCED_REDUNDANCY",
  "STANDARD_IA",
  "ONEZONE_IA",
  "INTELLIGENT_TIERING",
  "GLACIER",
  "DEEP_ARCHIVE",
  "GLACIER_IR",
  "OUTPOSTS",
  "SNOW",
  "EXPRESS_ONEZONE",
];

/** Kept here too: post_object and multipart import it with the other PUT helpers. */
export { validateKey };

export function storageClassFrom(h: Headers): string | undefined {
  const sc = h.get("x-amz-storage-class");
  if (sc === null) return undefined;
  if (!STORAGE_CLASSES.includes(sc)) {
    throw new S3Error("InvalidStorageClass", { fields: { StorageClassRequested: sc } });
  }
  return sc;
}

/**
 * Sets `x-amz-version-id`. With `bucket` (reads: GET, HEAD, GetObjectAttributes) the `null`
 * version is named too once the bucket has had versioning (Enabled or Suspended), as S3 does;
 * an unversioned bucket never sends the header. Writes of a `null` version send none: the
 * PutObject API reference's "versioning suspended" sample response has no x-amz-version-id.
 */
export function setVersionIdHeader(
  h: Record<string, string>,
  rec: Pick<ObjectRecord, "versionId">,
  bucket?: Pick<BucketRecord, "versioning">,
): void {
  if (rec.versionId !== "null") h["x-amz-version-id"] = rec.versionId;
  else if (bucket && bucket.versioning !== "Unversioned") h["x-amz-version-id"] = "null";
}

/** Headers returned by every successful write (ETag, version, checksum, encryption). */
export function writeResponseHeaders(rec: ObjectRecord): Record<string, string> {
  const h: Record<string, string> = {
    etag: rec.etag,
    ...sseResponseHeaders(rec.enc, { context: true }),
  };
  setVersionIdHeader(h, rec);
  if (rec.checksum) {
    h[checksumHeaderName(rec.checksum.algorithm)] = rec.checksum.value;
    h["x-amz-checksum-type"] = rec.checksum.type;
  }
  return h;
}

/**
 * S3 requires an integrity value on a PUT that locks the object: Content-MD5 or an
 * `x-amz-checksum-*` header (or declared trailer) when the request carries Object Lock headers
 * or the bucket applies a default retention.
 */
async function requireLockIntegrity(
  ctx: OpContext,
  bucket: BucketRecord,
  lock: Pick<ObjectRecord, "retention" | "legalHold">,
  checksum: ExpectedChecksum | undefined,
): Promise<void> {
  if (!bucket.objectLock) return; // other buckets refuse lock headers in storage
  if (ctx.req.headers.has("content-md5") || checksum) return;
  let locking = lock.retention !== undefined || lock.legalHold !== undefined;
  if (!locking) {
    const cfg = await ctx.deps.storage.getBucketConfig<LockConfig>(bucket.id, LOCK_CONFIG);
    locking = !!cfg?.rule;
  }
  if (locking) {
    throw new S3Error("InvalidRequest", {
      message:
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
    });
  }
}

export async function putObject(ctx: OpContext): Promise<OpResult> {
  const key = ctx.ep.key!;
  validateKey(key);
  const h = ctx.req.headers;
  const bucket = await ctx.bucket();
  const contentLength = declaredDataLength(h, ctx.auth.contentLength);
  const lock = objectLockFrom(h, ctx.deps.clock.now());
  const checksum = expectedChecksumFrom(h, ctx.auth.trailers);
  const sse = await writeSseOf(ctx, bucket);
  await requireLockIntegrity(ctx, bucket, lock, checksum);
  const owned = await writeOwnership(ctx, bucket, h, writerOf(ctx, bucket));
  const body = ctx.auth.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  const tags = parseTaggingHeader(h.get("x-amz-tagging"));
  const repl = await writeReplicationOf(ctx, bucket, key, tags);
  const rec = await ctx.deps.storage.putObject(bucket, {
    key,
    body,
    contentLength,
    contentMd5: h.get("content-md5") ?? undefined,
    checksum,
    content: contentHeadersFrom(h),
    meta: userMetadataFrom(h),
    tags,
    storageClass: storageClassFrom(h),
    conditions: writeConditionsFrom(h),
    ...lock,
    ...owned,
    ...(sse ? { sse } : {}),
    origin: originOf(ctx, "ObjectCreated:Put"),
    ...(repl.replication ? { replication: repl.replication } : {}),
  });
  const headers = writeResponseHeaders(rec);
  await addExpirationHeader(ctx, bucket, rec, headers);
  return { headers };
}
