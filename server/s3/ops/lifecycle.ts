/** Put/Get/DeleteBucketLifecycleConfiguration, and the `x-amz-expiration` header of objects. */
import { S3Error } from "../errors.ts";
import { buildXml, parseXmlDocument } from "../xml.ts";
import { readIntegrityCheckedBody, utf8Text } from "../body.ts";
import {
  LIFECYCLE_CONFIG,
  type LifecycleConfig,
  lifecycleXml,
  parseLifecycle,
} from "../../features/lifecycle/config.ts";
import { expirationHeader, expirationOf } from "../../features/lifecycle/rules.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { BucketRecord, ObjectRecord } from "../../storage/types.ts";

export async function getBucketLifecycle(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const cfg = await ctx.deps.storage.getBucketConfig<LifecycleConfig>(b.id, LIFECYCLE_CONFIG);
  if (!cfg) throw new S3Error("NoSuchLifecycleConfiguration", { fields: { BucketName: b.name } });
  return { xml: buildXml("LifecycleConfiguration", lifecycleXml(cfg)) };
}

export async function putBucketLifecycle(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  // S3 requires an integrity header (Content-MD5 or x-amz-checksum-*) on this request.
  const bytes = await readIntegrityCheckedBody(ctx.req, ctx.auth.body, ctx.auth.trailers, 1 << 20);
  const cfg = parseLifecycle(parseXmlDocument(utf8Text(bytes), "LifecycleConfiguration"));
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
