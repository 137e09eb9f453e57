/** Bucket lifecycle: CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation. */
import { S3Error } from "../errors.ts";
import { buildXml, childText, parseXml, readBodyText } from "../xml.ts";
import { creationConfigs } from "./ownership.ts";
import { refusePublicAcl } from "./acl.ts";
import { ACL_CONFIG, readBucketAcl } from "../../iam/ownership.ts";
import { privateAcl, type StoredAcl } from "../../iam/acl.ts";
import type { OpContext, OpResult } from "../context.ts";
import { namespaceForCreate } from "../bucket_ref.ts";
import { validateBucketRef } from "../names.ts";

/** The shape of an AWS region name (`us-east-1`, `us-gov-west-1`, `ap-southeast-2`). */
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** A bucket name no one may create: its path is the health probes' (server/http/probes.ts). */
export const RESERVED_BUCKET = "minio";

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
  if (!ctx.principal) throw new S3Error("AccessDenied");
  const ref = validateBucketRef(name);
  if (ref.name === RESERVED_BUCKET) {
    // The name of the health probes' path (`/minio/health/...`), reserved as MinIO reserves it.
    throw new S3Error("InvalidBucketName", {
      message: `The specified bucket is not valid: the name "${RESERVED_BUCKET}" is reserved.`,
      fields: { BucketName: name },
    });
  }
  const ownerId = ctx.principal.userId;
  const configs = creationConfigs(ctx, ownerId);
  const ns = namespaceForCreate(ctx.deps.namespaces, ctx.ns, ref);
  await refusePublicAcl(ctx, ns, null, configs[ACL_CONFIG] as StoredAcl | undefined);
  try {
    await ctx.deps.storage.createBucket({
      ns,
      name: ref.name,
      ownerId,
      region: location,
      objectLock,
      configs,
    });
  } catch (e) {
    if (!(e instanceof S3Error) || e.code !== "BucketAlreadyOwnedByYou") throw e;
    const existing = await ctx.deps.storage.getBucket(ns, ref.name);
    const stored = await readBucketAcl(ctx.deps.storage, existing, ctx.deps.grantees);
    const requested = (configs[ACL_CONFIG] as StoredAcl | undefined) ??
      privateAcl({ id: ownerId, displayName: ownerId });
    recreateOwnedBucket(!sameGrants(requested, stored.acl), ctx.deps.region);
  }
  return { headers: { location: `/${name}` } };
}

/** Whether two ACLs grant the same permissions to the same grantees (in any order). */
export function sameGrants(a: StoredAcl, b: StoredAcl): boolean {
  const keys = (acl: StoredAcl) =>
    acl.grants.map((g) =>
      `${g.grantee.type === "Group" ? g.grantee.uri : g.grantee.id} ${g.permission}`
    ).sort().join("\n");
  return keys(a) === keys(b);
}

/**
 * CreateBucket on a bucket the caller already owns: AWS answers 200 in us-east-1 (its legacy
 * behaviour) and BucketAlreadyOwnedByYou in every other region; a request whose ACL (the canned
 * ACL or grants it carries, `private` when none) differs from the bucket's stored ACL is
 * BucketAlreadyExists everywhere.
 */
export function recreateOwnedBucket(aclChanges: boolean, region: string): void {
  if (aclChanges) throw new S3Error("BucketAlreadyExists");
  if (region !== "us-east-1") throw new S3Error("BucketAlreadyOwnedByYou");
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
