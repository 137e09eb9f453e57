/** Put/Get/DeletePublicAccessBlock: a bucket's own public access block. */
import { S3Error } from "../errors.ts";
import { readCheckedXmlDocument } from "../xml.ts";
import {
  getBucketPublicAccessBlock,
  parsePublicAccessBlock,
  PUBLIC_ACCESS_BLOCK_CONFIG,
  publicAccessBlockXml,
} from "../../iam/public_access.ts";
import type { OpContext, OpResult } from "../context.ts";

const MAX_DOCUMENT = 64 * 1024;

export async function getPublicAccessBlock(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const pab = await getBucketPublicAccessBlock(ctx.deps.storage, b);
  if (!pab) {
    throw new S3Error("NoSuchPublicAccessBlockConfiguration", { fields: { BucketName: b.name } });
  }
  return { xml: publicAccessBlockXml(pab) };
}

export async function putPublicAccessBlock(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  // Parsed whole before it is stored: a bad document leaves the previous block.
  const doc = await readCheckedXmlDocument(
    ctx.req,
    ctx.auth,
    "PublicAccessBlockConfiguration",
    MAX_DOCUMENT,
  );
  await ctx.deps.storage.putBucketConfig(
    b.id,
    PUBLIC_ACCESS_BLOCK_CONFIG,
    parsePublicAccessBlock(doc),
  );
  return {};
}

export async function deletePublicAccessBlock(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  await ctx.deps.storage.putBucketConfig(b.id, PUBLIC_ACCESS_BLOCK_CONFIG, null);
  return { status: 204 };
}
