/**
 * Put/Get/DeleteBucketOwnershipControls, and what CreateBucket stores of ownership and ACL
 * (`x-amz-object-ownership`, `x-amz-acl`, `x-amz-grant-*`).
 */
import { S3Error } from "../errors.ts";
import { buildXml, child, children, readXmlBody } from "../xml.ts";
import { aclFromSpec, aclSpecFrom, isPrivateAcl, onlyFullControlOf } from "../../iam/acl.ts";
import {
  ACL_CONFIG,
  canonicalUser,
  configuredOwnership,
  OBJECT_OWNERSHIPS,
  type ObjectOwnership,
  OWNERSHIP_CONFIG,
  type OwnershipConfig,
  readBucketAcl,
} from "../../iam/ownership.ts";
import type { OpContext, OpResult } from "../context.ts";

function isOwnership(v: string | undefined): v is ObjectOwnership {
  return (OBJECT_OWNERSHIPS as readonly (string | undefined)[]).includes(v);
}

export async function getBucketOwnershipControls(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const rule = await configuredOwnership(ctx.deps.storage, bucket);
  if (rule === null) {
    throw new S3Error("OwnershipControlsNotFoundError", { fields: { BucketName: bucket.name } });
  }
  return { xml: buildXml("OwnershipControls", { Rule: { ObjectOwnership: rule } }) };
}

export async function putBucketOwnershipControls(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const doc = await readXmlBody(ctx.auth.body, { root: "OwnershipControls", limit: 64 * 1024 });
  const rules = children(doc, "Rule");
  const value = rules.length === 1 ? child(rules[0], "ObjectOwnership")?.text.trim() : undefined;
  if (!isOwnership(value)) throw new S3Error("MalformedXML");
  if (value === "BucketOwnerEnforced") {
    // ACLs can be turned off only once the bucket ACL grants nothing beyond the owner's.
    const current = await readBucketAcl(ctx.deps.storage, bucket, ctx.deps.grantees);
    if (!onlyFullControlOf(current.acl, bucket.ownerId)) {
      throw new S3Error("InvalidBucketAclWithObjectOwnership");
    }
  }
  const cfg: OwnershipConfig = { rule: value };
  await ctx.deps.storage.putBucketConfig(bucket.id, OWNERSHIP_CONFIG, cfg);
  return {};
}

export async function deleteBucketOwnershipControls(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  await ctx.deps.storage.putBucketConfig(bucket.id, OWNERSHIP_CONFIG, null);
  return { status: 204 };
}

/**
 * The configurations a new bucket is created with: its ownership setting (the header's, else
 * BucketOwnerEnforced when that is the server's default; ObjectWriter is the absence of one) and
 * its ACL when not private. An ACL granting others with BucketOwnerEnforced is
 * `InvalidBucketAclWithObjectOwnership`, as on AWS.
 */
export function creationConfigs(ctx: OpContext, ownerId: string): Record<string, unknown> {
  const h = ctx.req.headers;
  const header = h.get("x-amz-object-ownership") ?? undefined;
  if (header !== undefined && !isOwnership(header)) {
    throw new S3Error("InvalidArgument", {
      message: "Invalid x-amz-object-ownership header",
      fields: { ArgumentName: "x-amz-object-ownership", ArgumentValue: header },
    });
  }
  const rule = header ??
    (ctx.deps.defaultObjectOwnership === "BucketOwnerEnforced" ? "BucketOwnerEnforced" : null);
  const owner = canonicalUser(ctx.deps.grantees, ownerId);
  const acl = aclFromSpec(aclSpecFrom(h, ctx.deps.grantees), owner, {
    bucketOwner: owner,
    forBucket: true,
  });
  const configs: Record<string, unknown> = {};
  if (rule === "BucketOwnerEnforced" && !onlyFullControlOf(acl, ownerId)) {
    throw new S3Error("InvalidBucketAclWithObjectOwnership");
  }
  if (rule !== null) configs[OWNERSHIP_CONFIG] = { rule } satisfies OwnershipConfig;
  if (!isPrivateAcl(acl)) configs[ACL_CONFIG] = acl;
  return configs;
}
