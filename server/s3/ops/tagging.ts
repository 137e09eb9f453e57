/** Object tagging (per version) and bucket tagging. */
import { originOf } from "../origin.ts";
import { S3Error } from "../errors.ts";
import { readXmlBody } from "../xml.ts";
import { MAX_BUCKET_TAGS, MAX_OBJECT_TAGS, parseTaggingXml, taggingXml } from "../tags.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { ObjectRecord } from "../../storage/types.ts";

/** Bucket config kind of the bucket tag set. */
export const BUCKET_TAGS_CONFIG = "tagging";

function versionHeader(rec: ObjectRecord): Record<string, string> {
  return rec.versionId === "null" ? {} : { "x-amz-version-id": rec.versionId };
}

/** The `versionId` query parameter, or null when absent. */
function versionParam(ctx: OpContext): string | null {
  return ctx.ep.query.get("versionId");
}

export async function getObjectTagging(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const rec = await ctx.deps.storage.getObjectRecord(bucket, ctx.ep.key!, versionParam(ctx));
  return { headers: versionHeader(rec), xml: taggingXml(rec.tags) };
}

export async function putObjectTagging(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const doc = await readXmlBody(ctx.auth.body, { root: "Tagging", limit: 64 * 1024 });
  const tags = parseTaggingXml(doc, MAX_OBJECT_TAGS);
  const rec = await ctx.deps.storage.updateObjectVersion(
    bucket,
    ctx.ep.key!,
    versionParam(ctx),
    (r) => ({ ...r, tags }),
    originOf(ctx, "ObjectTagging:Put"),
  );
  return { headers: versionHeader(rec) };
}

export async function deleteObjectTagging(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const rec = await ctx.deps.storage.updateObjectVersion(
    bucket,
    ctx.ep.key!,
    versionParam(ctx),
    (r) => {
      const { tags: _drop, ...rest } = r;
      return rest;
    },
    originOf(ctx, "ObjectTagging:Delete"),
  );
  return { status: 204, headers: versionHeader(rec) };
}

export async function getBucketTagging(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const tags = await ctx.deps.storage.getBucketConfig<Record<string, string>>(
    bucket.id,
    BUCKET_TAGS_CONFIG,
  );
  if (!tags) throw new S3Error("NoSuchTagSet", { fields: { BucketName: bucket.name } });
  return { xml: taggingXml(tags) };
}

export async function putBucketTagging(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const doc = await readXmlBody(ctx.auth.body, { root: "Tagging", limit: 256 * 1024 });
  const tags = parseTaggingXml(doc, MAX_BUCKET_TAGS);
  await ctx.deps.storage.putBucketConfig(bucket.id, BUCKET_TAGS_CONFIG, tags);
  return { status: 204 };
}

export async function deleteBucketTagging(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  await ctx.deps.storage.putBucketConfig(bucket.id, BUCKET_TAGS_CONFIG, null);
  return { status: 204 };
}
