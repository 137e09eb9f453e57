/**
 * ACLs, as on AWS buckets with Object Ownership "BucketOwnerEnforced" (the default for new
 * buckets): ACLs are disabled, so reads report the owner's FULL_CONTROL and writes accept only
 * an ACL that grants the owner full control (`AccessControlListNotSupported` otherwise).
 * Access is decided by tenants, grants and policies instead. Other bucket configurations
 * (CORS, encryption, ...) are not implemented yet.
 */
import { setVersionIdHeader } from "./object_put.ts";
import { S3Error } from "../errors.ts";
import { buildXmlWithTail, child, children, childText, readXmlBody } from "../xml.ts";
import { readTarget } from "./object_get.ts";
import type { OpContext, OpResult } from "../context.ts";

const XSI = "http://www.w3.org/2001/XMLSchema-instance";
const OWNER_ONLY_CANNED = ["private", "bucket-owner-full-control"];

function aclDocument(ownerId: string): OpResult {
  const grant = `<Grant><Grantee xmlns:xsi="${XSI}" xsi:type="CanonicalUser"><ID>${ownerId}</ID>` +
    `<DisplayName>${ownerId}</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>`;
  // The grantee carries xsi attributes, which the element builder does not write.
  const xml = buildXmlWithTail(
    "AccessControlPolicy",
    { Owner: { ID: ownerId, DisplayName: ownerId } },
    `<AccessControlList>${grant}</AccessControlList>`,
  );
  return { xml };
}

/** Accepts only an ACL equivalent to "owner has FULL_CONTROL", from the header or the body. */
async function acceptOwnerOnlyAcl(ctx: OpContext, ownerId: string): Promise<void> {
  const canned = ctx.req.headers.get("x-amz-acl");
  const grantHeaders = [...ctx.req.headers.keys()].filter((k) => k.startsWith("x-amz-grant-"));
  if (canned !== null) {
    if (!OWNER_ONLY_CANNED.includes(canned)) throw new S3Error("AccessControlListNotSupported");
    if (grantHeaders.length) {
      throw new S3Error("InvalidRequest", {
        message: "Specifying both Canned ACLs and Header Grants is not allowed",
      });
    }
    return;
  }
  if (grantHeaders.length) throw new S3Error("AccessControlListNotSupported");
  const doc = await readXmlBody(ctx.auth.body, { root: "AccessControlPolicy", limit: 64 * 1024 });
  const list = child(doc, "AccessControlList");
  if (!list) throw new S3Error("MalformedACLError");
  const grants = children(list, "Grant");
  const ownerOnly = grants.length === 1 &&
    childText(grants[0], "Permission") === "FULL_CONTROL" &&
    childText(
        child(grants[0], "Grantee") ?? { name: "", attrs: {}, children: [], text: "" },
        "ID",
      ) ===
      ownerId;
  if (!ownerOnly) throw new S3Error("AccessControlListNotSupported");
}

export async function getBucketAcl(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  return aclDocument(bucket.ownerId);
}

export async function putBucketAcl(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  await acceptOwnerOnlyAcl(ctx, bucket.ownerId);
  return {};
}

export async function getObjectAcl(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const rec = await readTarget(ctx);
  const res = aclDocument(bucket.ownerId);
  const headers: Record<string, string> = {};
  setVersionIdHeader(headers, rec, bucket);
  return { ...res, headers };
}

export async function putObjectAcl(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  const rec = await readTarget(ctx);
  await acceptOwnerOnlyAcl(ctx, bucket.ownerId);
  const headers: Record<string, string> = {};
  setVersionIdHeader(headers, rec, bucket);
  return { headers };
}

export function bucketConfig(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}
