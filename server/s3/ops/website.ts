/** Put/Get/DeleteBucketWebsite: a bucket's static website configuration (website.ts). */
import { S3Error } from "../errors.ts";
import { readIntegrityCheckedBody, utf8Text } from "../body.ts";
import {
  parseWebsiteConfiguration,
  WEBSITE_CONFIG,
  type WebsiteConfig,
  websiteXml,
} from "../website.ts";
import type { OpContext, OpResult } from "../context.ts";

/** The largest WebsiteConfiguration read: 50 routing rules with long keys fit well within it. */
const MAX_WEBSITE_BYTES = 64 * 1024;

export async function getBucketWebsite(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const cfg = await ctx.deps.storage.getBucketConfig<WebsiteConfig>(b.id, WEBSITE_CONFIG);
  if (!cfg) throw new S3Error("NoSuchWebsiteConfiguration", { fields: { BucketName: b.name } });
  return { xml: websiteXml(cfg) };
}

export async function putBucketWebsite(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  // The SDKs send this document with a checksum (AWS requires one, as for CORS). Validated whole
  // before anything is stored: a bad document leaves the previous configuration.
  const bytes = await readIntegrityCheckedBody(
    ctx.req,
    ctx.auth.body,
    ctx.auth.trailers,
    MAX_WEBSITE_BYTES,
  );
  const cfg = parseWebsiteConfiguration(utf8Text(bytes));
  await ctx.deps.storage.putBucketConfig(b.id, WEBSITE_CONFIG, cfg);
  return {};
}

export async function deleteBucketWebsite(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  await ctx.deps.storage.putBucketConfig(b.id, WEBSITE_CONFIG, null);
  return { status: 204 };
}
