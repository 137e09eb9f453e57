/**
 * Put/Get Bucket ACL and Object ACL, and the ACL and owner of what the writes (PutObject,
 * CopyObject, CreateMultipartUpload, POST uploads, CreateBucket) create. Object Ownership decides
 * who owns a new object and whether ACLs count at all (server/iam/ownership.ts).
 */
import { originOf } from "../origin.ts";
import { S3Error } from "../errors.ts";
import { parseXmlDocument, readBodyText, type XmlNode } from "../xml.ts";
import { readTarget } from "./object_get.ts";
import { setVersionIdHeader } from "./object_put.ts";
import {
  aclDocument,
  aclFromSpec,
  type AclSpec,
  aclSpecFrom,
  type CanonicalUser,
  isPrivateAcl,
  isPublicAcl,
  onlyFullControlOf,
  parseAclDocument,
  type StoredAcl,
} from "../../iam/acl.ts";
import {
  ACL_CONFIG,
  canonicalUser,
  configuredOwnership,
  objectAcl,
  readBucketAcl,
} from "../../iam/ownership.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { BucketRecord, ObjectRecord } from "../../storage/types.ts";

/** An ACL document is small: 100 grants fit in a few KiB. */
const ACL_DOCUMENT_LIMIT = 64 * 1024;

/** What a PutBucketAcl or PutObjectAcl asks for: headers, or an AccessControlPolicy body. */
type AclRequest = { spec: AclSpec } | { doc: XmlNode };

async function readAclRequest(ctx: OpContext): Promise<AclRequest> {
  const spec = aclSpecFrom(ctx.req.headers, ctx.deps.grantees);
  const text = await readBodyText(ctx.auth.body, ACL_DOCUMENT_LIMIT);
  if (spec.kind !== "none") {
    if (text.trim()) throw new S3Error("UnexpectedContent");
    return { spec };
  }
  return { doc: parseXmlDocument(text, "AccessControlPolicy") };
}

function resolveAcl(
  ctx: OpContext,
  req: AclRequest,
  owner: CanonicalUser,
  bucketOwner: CanonicalUser,
  forBucket: boolean,
): StoredAcl {
  if ("doc" in req) return parseAclDocument(req.doc, owner, ctx.deps.grantees);
  return aclFromSpec(req.spec, owner, { bucketOwner, forBucket });
}

/**
 * BlockPublicAcls: an ACL that grants to AllUsers or AuthenticatedUsers is refused with
 * AccessDenied when the bucket's, its tenant's or the server's public access block says so.
 * `bucket` null: a bucket being created in namespace `ns`.
 */
export async function refusePublicAcl(
  ctx: OpContext,
  ns: string,
  bucket: BucketRecord | null,
  acl: StoredAcl | undefined,
): Promise<void> {
  if (!acl || !isPublicAcl(acl)) return;
  if ((await ctx.deps.authorizer.publicAccessBlock(ns, bucket)).blockPublicAcls) {
    throw new S3Error("AccessDenied");
  }
}

/** With ACLs off, only an ACL giving the bucket owner FULL_CONTROL alone may be written. */
function requireOwnerOnly(acl: StoredAcl, bucket: BucketRecord): void {
  if (!onlyFullControlOf(acl, bucket.ownerId)) throw new S3Error("AccessControlListNotSupported");
}

export async function getBucketAcl(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const { acl } = await readBucketAcl(ctx.deps.storage, bucket, ctx.deps.grantees);
  return { xml: aclDocument(acl) };
}

export async function putBucketAcl(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const req = await readAclRequest(ctx);
  const owner = canonicalUser(ctx.deps.grantees, bucket.ownerId);
  const acl = resolveAcl(ctx, req, owner, owner, true);
  await refusePublicAcl(ctx, bucket.ns, bucket, acl);
  const ownership = await configuredOwnership(ctx.deps.storage, bucket);
  if (ownership === "BucketOwnerEnforced") {
    requireOwnerOnly(acl, bucket);
    return {};
  }
  await ctx.deps.storage.putBucketConfig(bucket.id, ACL_CONFIG, isPrivateAcl(acl) ? null : acl);
  return {};
}

export async function getObjectAcl(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const rec = await readTarget(ctx);
  const ownership = await configuredOwnership(ctx.deps.storage, bucket);
  const acl = objectAcl(rec, bucket, ownership !== "BucketOwnerEnforced", ctx.deps.grantees);
  const headers: Record<string, string> = {};
  setVersionIdHeader(headers, rec, bucket);
  return { xml: aclDocument(acl), headers };
}

export async function putObjectAcl(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const req = await readAclRequest(ctx);
  const lookup = ctx.deps.grantees;
  const bucketOwner = canonicalUser(lookup, bucket.ownerId);
  const ownership = await configuredOwnership(ctx.deps.storage, bucket);
  const headers: Record<string, string> = {};
  if (ownership === "BucketOwnerEnforced") {
    const rec = await readTarget(ctx);
    requireOwnerOnly(resolveAcl(ctx, req, bucketOwner, bucketOwner, false), bucket);
    setVersionIdHeader(headers, rec, bucket);
    return { headers };
  }
  // Whether it is public does not depend on the owner it is resolved for.
  await refusePublicAcl(
    ctx,
    bucket.ns,
    bucket,
    resolveAcl(ctx, req, bucketOwner, bucketOwner, false),
  );
  // Resolved inside the patch: the ACL belongs to the version's owner as the commit reads it.
  const rec = await ctx.deps.storage.updateObjectVersion(
    bucket,
    ctx.ep.key!,
    ctx.ep.query.get("versionId"),
    (r) => withAcl(r, resolveAcl(ctx, req, canonicalUser(lookup, r.ownerId), bucketOwner, false)),
    originOf(ctx, "ObjectAcl:Put"),
  );
  setVersionIdHeader(headers, rec, bucket);
  return { headers };
}

/** The record with this ACL; a private one is no field at all (records stay small). */
function withAcl(rec: ObjectRecord, acl: StoredAcl): ObjectRecord {
  const { acl: _old, ...rest } = rec;
  return isPrivateAcl(acl) ? rest : { ...rest, acl };
}

/** Who owns an object a write creates, and its ACL (absent: private). */
export interface WriteOwnership {
  ownerId: string;
  acl?: StoredAcl;
}

/**
 * The owner and ACL of an object written by `writerId` with the ACL headers (or POST form
 * fields) `h`. BucketOwnerEnforced: the bucket owner owns it and only bucket-owner-full-control
 * (or an equivalent) is accepted; BucketOwnerPreferred: the bucket owner owns what is written
 * with bucket-owner-full-control; ObjectWriter: the writer owns it.
 */
export async function writeOwnership(
  ctx: OpContext,
  bucket: BucketRecord,
  h: Headers,
  writerId: string,
): Promise<WriteOwnership> {
  const lookup = ctx.deps.grantees;
  const spec = aclSpecFrom(h, lookup);
  const ownership = (await configuredOwnership(ctx.deps.storage, bucket)) ?? "ObjectWriter";
  const bucketOwner = canonicalUser(lookup, bucket.ownerId);
  const opts = { bucketOwner, forBucket: false };
  if (ownership === "BucketOwnerEnforced") {
    if (spec.kind !== "none") requireOwnerOnly(aclFromSpec(spec, bucketOwner, opts), bucket);
    return { ownerId: bucket.ownerId };
  }
  const preferred = ownership === "BucketOwnerPreferred" && spec.kind === "canned" &&
    spec.canned === "bucket-owner-full-control";
  const ownerId = preferred ? bucket.ownerId : writerId;
  const acl = aclFromSpec(spec, canonicalUser(lookup, ownerId), opts);
  await refusePublicAcl(ctx, bucket.ns, bucket, acl);
  return isPrivateAcl(acl) ? { ownerId } : { ownerId, acl };
}

/** Who writes: the caller, or for an anonymous write (allowed by the bucket) its owner. */
export function writerOf(ctx: OpContext, bucket: BucketRecord): string {
  return ctx.principal?.userId ?? bucket.ownerId;
}
