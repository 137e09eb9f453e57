/** Bucket lifecycle: CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation. */
import { S3Error } from "../errors.ts";
import { buildXml, childText, parseXml, readBodyText } from "../xml.ts";
import type { OpContext, OpResult } from "../context.ts";
import { namespaceForCreate } from "../bucket_ref.ts";
import { validateBucketRef } from "../names.ts";

/** The shape of an AWS region name (`us-east-1`, `us-gov-west-1`, `ap-southeast-2`). */
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export async function createBucket(ctx: OpContext): Promise<OpResult> {
  const name = ctx.ep.bucket!;
  const text = await readBodyText(ctx.auth.body, 64 * 1024);
  let location = ctx.deps.region;
  if (text.trim()) {
    const doc = parseXml(text);
    if (doc.name !== "CreateBucketConfiguration") throw new S3Error("MalformedXML");
    const lc = childText(doc, "LocationConstraint")?.trim();
    if (lc !== undefined && lc !== "") {
      if (lc !== ctx.deps.region) {
        // A well-formed region other than ours is "illegal here"; anything else is invalid.
        if (REGION_NAME.test(lc) || lc === "EU") {
          throw new S3Error("IllegalLocationConstraintException", {
            message:
              `The ${lc} location constraint is incompatible for the region specific endpoint this request was sent to.`,
          });
        }
        throw new S3Error("InvalidLocationConstraint", {
          fields: { LocationConstraint: lc },
        });
      }
      location = lc;
    }
  }
  const lockHeader = ctx.req.headers.get("x-amz-bucket-object-lock-enabled");
  const objectLock = lockHeader?.toLowerCase() === "true";
  const acl = ctx.req.headers.get("x-amz-acl");
  if (acl && !["private", "public-read", "public-read-write", "authenticated-read"].includes(acl)) {
    throw new S3Error("InvalidArgument", {
      fields: { ArgumentName: "x-amz-acl", ArgumentValue: acl },
    });
  }
  if (!ctx.principal) throw new S3Error("AccessDenied");
  await ctx.deps.storage.createBucket({
    ns: namespaceForCreate(ctx.deps.namespaces, ctx.ns, validateBucketRef(name)),
    name: validateBucketRef(name).name,
    ownerId: ctx.principal.userId,
    region: location,
    objectLock,
  });
  return { headers: { location: `/${name}` } };
}

export async function headBucket(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  return { headers: { "x-amz-bucket-region": b.region } };
}

export async function deleteBucket(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  await ctx.deps.storage.deleteBucket(b.ns, b.name);
  return { status: 204 };
}

export async function getBucketLocation(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  // us-east-1 is reported as an empty LocationConstraint, as AWS does.
  return {
    xml: buildXml("LocationConstraint", {}).replace(
      "></LocationConstraint>",
      `>${b.region === "us-east-1" ? "" : b.region}</LocationConstraint>`,
    ),
  };
}
