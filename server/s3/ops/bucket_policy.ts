/**
 * Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus. The policy is validated in full, then
 * stored as bucket configuration `policy` (see `iam/bucket_policies.ts`); a refused document
 * leaves the previous policy in place. Who may call these is the authorizer's business.
 */
import { S3Error } from "../errors.ts";
import { buildXml } from "../xml.ts";
import { readBodyBytes } from "../body.ts";
import { digestOf, newMd5, parseContentMd5, verifyMd5 } from "../../storage/mod.ts";
import {
  isPublicPolicy,
  MAX_BUCKET_POLICY_BYTES,
  type ParsedPolicy,
  parsePolicy,
  PolicyError,
} from "../../iam/policy.ts";
import {
  BUCKET_POLICY_CONFIG,
  parseStoredPolicy,
  readBucketPolicyText,
  type StoredBucketPolicy,
} from "../../iam/bucket_policies.ts";
import type { OpContext, OpResult } from "../context.ts";

const malformed = (message: string) => new S3Error("MalformedPolicy", { message });

export async function putBucketPolicy(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const confirm = ctx.req.headers.get("x-amz-confirm-remove-self-bucket-access");
  if (confirm !== null && !/^(true|false)$/i.test(confirm)) {
    throw new S3Error("InvalidArgument", {
      message: "x-amz-confirm-remove-self-bucket-access must be true or false",
    });
  }
  let bytes: Uint8Array;
  try {
    bytes = await readBodyBytes(ctx.auth.body, MAX_BUCKET_POLICY_BYTES);
  } catch (e) {
    if (e instanceof S3Error && e.code === "MaxMessageLengthExceeded") {
      throw malformed(`Policies must not exceed ${MAX_BUCKET_POLICY_BYTES} bytes`);
    }
    throw e;
  }
  const md5 = parseContentMd5(ctx.req.headers.get("content-md5"));
  if (md5) verifyMd5(md5, digestOf(newMd5(), bytes));
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw malformed("This policy contains invalid Json");
  }
  let parsed: ParsedPolicy;
  try {
    parsed = parsePolicy(text, {
      kind: "bucket",
      bucket: b.name,
      account: ctx.deps.namespaces.accountOf(b.ns) ?? b.ns,
      principals: ctx.deps.principals,
    });
  } catch (e) {
    if (e instanceof PolicyError) throw malformed(e.message);
    throw e;
  }
  // BlockPublicPolicy: a public policy is refused (the bucket's, tenant's or server's block).
  if (
    isPublicPolicy(parsed) &&
    (await ctx.deps.authorizer.publicAccessBlock(b.ns, b)).blockPublicPolicy
  ) {
    throw new S3Error("AccessDenied");
  }
  const stored: StoredBucketPolicy = { v: 1, text };
  await ctx.deps.storage.putBucketConfig(b.id, BUCKET_POLICY_CONFIG, stored);
  return { status: 204 };
}

/** The bucket and its policy text; `NoSuchBucketPolicy` when it has none. */
async function storedPolicy(ctx: OpContext) {
  const b = await ctx.bucket();
  const text = await readBucketPolicyText(ctx.deps.storage, b.id);
  if (text === null) throw new S3Error("NoSuchBucketPolicy", { fields: { BucketName: b.name } });
  return { b, text };
}

export async function getBucketPolicy(ctx: OpContext): Promise<OpResult> {
  const { text } = await storedPolicy(ctx);
  return { headers: { "content-type": "application/json" }, body: text };
}

export async function deleteBucketPolicy(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  await ctx.deps.storage.putBucketConfig(b.id, BUCKET_POLICY_CONFIG, null);
  return { status: 204 };
}

export async function getBucketPolicyStatus(ctx: OpContext): Promise<OpResult> {
  const { b, text } = await storedPolicy(ctx);
  const isPublic = isPublicPolicy(parseStoredPolicy(b, text, ctx.deps.namespaces));
  return { xml: buildXml("PolicyStatus", { IsPublic: String(isPublic) }) };
}
