/** Put/Get/DeleteBucketLifecycleConfiguration, and the `x-amz-expiration` header of objects. */
import { S3Error } from "../errors.ts";
import { buildXml, parseXml, readBodyText } from "../xml.ts";
import { expectedChecksumFrom } from "../headers.ts";
import { fromBase64, newChecksumHasher, newMd5, toBase64, toHex } from "../../storage/hashing.ts";
import {
  LIFECYCLE_CONFIG,
  type LifecycleConfig,
  lifecycleXml,
  parseLifecycle,
} from "../../features/lifecycle/config.ts";
import { expirationHeader, expirationOf } from "../../features/lifecycle/rules.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { BucketRecord, ObjectRecord } from "../../storage/types.ts";

/**
 * S3 requires an integrity header on PutBucketLifecycleConfiguration (Content-MD5 or an
 * `x-amz-checksum-*` value) and rejects a body that does not match it.
 */
function checkIntegrity(ctx: OpContext, text: string): void {
  const h = ctx.req.headers;
  const bytes = new TextEncoder().encode(text);
  const md5Header = h.get("content-md5");
  const checksum = expectedChecksumFrom(h, ctx.auth.trailers);
  const expected = checksum?.expected();
  if (md5Header === null && expected === undefined) {
    throw new S3Error("InvalidRequest", {
      message: "Missing required header for this request: Content-MD5 OR x-amz-checksum-*",
    });
  }
  if (md5Header !== null) {
    const want = fromBase64(md5Header.trim());
    if (!want || want.length !== 16) throw new S3Error("InvalidDigest");
    const md5 = newMd5();
    md5.update(bytes);
    if (toHex(md5.digest()) !== toHex(want)) throw new S3Error("BadDigest");
  }
  if (checksum && expected !== undefined) {
    const hasher = newChecksumHasher(checksum.algorithm);
    hasher.update(bytes);
    if (toBase64(hasher.digest()) !== expected) throw new S3Error("BadDigest");
  }
}

export async function getBucketLifecycle(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const cfg = await ctx.deps.storage.getBucketConfig<LifecycleConfig>(b.id, LIFECYCLE_CONFIG);
  if (!cfg) throw new S3Error("NoSuchLifecycleConfiguration", { fields: { BucketName: b.name } });
  return { xml: buildXml("LifecycleConfiguration", lifecycleXml(cfg)) };
}

export async function putBucketLifecycle(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const text = await readBodyText(ctx.auth.body, 1024 * 1024);
  if (!text.trim()) throw new S3Error("MissingRequestBodyError");
  checkIntegrity(ctx, text);
  const cfg = parseLifecycle(parseXml(text));
  await ctx.deps.storage.putBucketConfig(b.id, LIFECYCLE_CONFIG, cfg);
  return {};
}

export async function deleteBucketLifecycle(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  await ctx.deps.storage.putBucketConfig(b.id, LIFECYCLE_CONFIG, null);
  return { status: 204 };
}

/**
 * Adds `x-amz-expiration` to a PUT/GET/HEAD response when a rule will expire this (current)
 * version. One KV read of the bucket's lifecycle configuration.
 */
export async function addExpirationHeader(
  ctx: OpContext,
  bucket: BucketRecord,
  rec: ObjectRecord,
  headers: Record<string, string>,
): Promise<void> {
  const cfg = await ctx.deps.storage.getBucketConfig<LifecycleConfig>(bucket.id, LIFECYCLE_CONFIG);
  if (!cfg) return;
  const e = expirationOf(cfg, rec);
  if (e) headers["x-amz-expiration"] = expirationHeader(e);
}
