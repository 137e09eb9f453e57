/** Put/Get/DeleteBucketEncryption: a bucket's default encryption (bucket_encryption.ts). */
import { S3Error } from "../errors.ts";
import { readCheckedXmlDocument } from "../xml.ts";
import {
  type BucketEncryption,
  bucketEncryptionXml,
  ENCRYPTION_CONFIG,
  parseBucketEncryption,
  resolveSse,
} from "../bucket_encryption.ts";
import { type Transport, writeSseFrom } from "../sse.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { SseSpec } from "../../crypto/types.ts";
import type { BucketRecord } from "../../storage/types.ts";

const MAX_DOCUMENT = 64 * 1024;

/** Whether the request's connection may carry SSE-C keys. */
export function transportOf(ctx: OpContext): Transport {
  return { secure: ctx.client.secure, sseCOverHttp: ctx.deps.sseCOverHttp ?? false };
}

/**
 * The encryption of a new object written to `bucket`: the request's headers (`h`: a POST form's
 * fields), else the bucket's default, else the server's `--encrypt-new-objects`.
 */
export async function writeSseOf(
  ctx: OpContext,
  bucket: BucketRecord,
  h: Headers = ctx.req.headers,
): Promise<SseSpec | undefined> {
  const requested = writeSseFrom(h, transportOf(ctx));
  const bucketDefault = requested
    ? null
    : await ctx.deps.storage.getBucketConfig<BucketEncryption>(bucket.id, ENCRYPTION_CONFIG);
  return resolveSse(requested, bucketDefault, ctx.deps.encryptNewObjects ?? false);
}

export async function getBucketEncryption(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const cfg = await ctx.deps.storage.getBucketConfig<BucketEncryption>(b.id, ENCRYPTION_CONFIG);
  if (!cfg) {
    throw new S3Error("ServerSideEncryptionConfigurationNotFoundError", {
      fields: { BucketName: b.name },
    });
  }
  return { xml: bucketEncryptionXml(cfg) };
}

export async function putBucketEncryption(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  // AWS requires an integrity header on this document (Content-MD5 or x-amz-checksum-*). Parsed
  // whole before it is stored: a bad document leaves the previous configuration.
  const doc = await readCheckedXmlDocument(
    ctx.req,
    ctx.auth,
    "ServerSideEncryptionConfiguration",
    MAX_DOCUMENT,
  );
  await ctx.deps.storage.putBucketConfig(b.id, ENCRYPTION_CONFIG, parseBucketEncryption(doc));
  return {};
}

export async function deleteBucketEncryption(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  await ctx.deps.storage.putBucketConfig(b.id, ENCRYPTION_CONFIG, null);
  return { status: 204 };
}
