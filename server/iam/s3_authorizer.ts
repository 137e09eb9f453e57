/**
 * The S3 authorizer of the IAM issue. Order: authenticated -> tenant boundary and tenant status
 * -> policies (an explicit Deny wins over everything, ownership and admin roles included) ->
 * admins of the namespace, the bucket owner, bucket grants, policy Allow -> otherwise denied.
 * CopyObject and UploadPartCopy ask again for `GetObject` on their source (the ops do that
 * themselves, through this authorizer). Writes with a known length are refused early when they
 * cannot fit the tenant quota; the exact, atomic check happens in the publishing commit.
 */
import { S3Error } from "../s3/errors.ts";
import type { Authorizer, OpContext, RequestInfo } from "../s3/context.ts";
import { parseCopySource } from "../s3/ops/copy.ts";
import type { BucketRecord } from "../storage/types.ts";
import { isUploadId } from "../storage/mod.ts";
import type { Principal } from "./types.ts";
import type { IamCore } from "./core.ts";
import { evaluatePolicies, type RequestFacts } from "./policy.ts";
import { documentsFor } from "./policy_store.ts";
import { groupIdsOf } from "./groups.ts";
import { type Access, ACCESS_RANK, grantedAccess } from "./grants.ts";
import { getTenant } from "./tenants.ts";

/** S3 action names for ops whose IAM action differs from the op name. */
const ACTION: Record<string, string> = {
  HeadObject: "s3:GetObject",
  GetObjectAttributes: "s3:GetObject",
  HeadBucket: "s3:ListBucket",
  ListObjects: "s3:ListBucket",
  ListObjectsV2: "s3:ListBucket",
  ListObjectVersions: "s3:ListBucketVersions",
  ListBuckets: "s3:ListAllMyBuckets",
  CreateMultipartUpload: "s3:PutObject",
  UploadPart: "s3:PutObject",
  UploadPartCopy: "s3:PutObject",
  CompleteMultipartUpload: "s3:PutObject",
  CopyObject: "s3:PutObject",
  PostObject: "s3:PutObject",
  ListParts: "s3:ListMultipartUploadParts",
  ListMultipartUploads: "s3:ListBucketMultipartUploads",
  DeleteObjects: "s3:DeleteObject",
  GetBucketLifecycleConfiguration: "s3:GetLifecycleConfiguration",
  PutBucketLifecycleConfiguration: "s3:PutLifecycleConfiguration",
  DeleteBucketLifecycle: "s3:PutLifecycleConfiguration",
  GetObjectLockConfiguration: "s3:GetBucketObjectLockConfiguration",
  PutObjectLockConfiguration: "s3:PutBucketObjectLockConfiguration",
  DeleteBucketTagging: "s3:PutBucketTagging",
  GetBucketCors: "s3:GetBucketCORS",
  PutBucketCors: "s3:PutBucketCORS",
  DeleteBucketCors: "s3:PutBucketCORS",
  GetBucketEncryption: "s3:GetEncryptionConfiguration",
  PutBucketEncryption: "s3:PutEncryptionConfiguration",
  DeleteBucketEncryption: "s3:PutEncryptionConfiguration",
  GetPublicAccessBlock: "s3:GetBucketPublicAccessBlock",
  PutPublicAccessBlock: "s3:PutBucketPublicAccessBlock",
  DeletePublicAccessBlock: "s3:PutBucketPublicAccessBlock",
  DeleteBucketOwnershipControls: "s3:PutBucketOwnershipControls",
  GetBucketNotificationConfiguration: "s3:GetBucketNotification",
  PutBucketNotificationConfiguration: "s3:PutBucketNotification",
  GetBucketReplication: "s3:GetReplicationConfiguration",
  PutBucketReplication: "s3:PutReplicationConfiguration",
  DeleteBucketReplication: "s3:PutReplicationConfiguration",
  GetBucketAccelerateConfiguration: "s3:GetAccelerateConfiguration",
  GetBucketPolicyStatus: "s3:GetBucketPolicyStatus",
};

export function actionOf(op: string): string {
  return ACTION[op] ?? `s3:${op}`;
}

const WRITE_OPS = new Set([
  "PutObject",
  "CopyObject",
  "DeleteObject",
  "DeleteObjects",
  "CreateMultipartUpload",
  "UploadPart",
  "UploadPartCopy",
  "CompleteMultipartUpload",
  "AbortMultipartUpload",
  "PutObjectTagging",
  "DeleteObjectTagging",
  "PutObjectRetention",
  "PutObjectLegalHold",
  "PutObjectAcl",
  "PostObject",
]);

/** The grant level an op needs: reads, object writes, or bucket administration. */
export function accessNeeded(op: string): Access {
  if (/^(Get|Head|List)/.test(op)) return "read";
  if (WRITE_OPS.has(op)) return "write";
  return "full";
}

export function iamAuthorizer(
  core: IamCore,
): Authorizer & { finish(info: RequestInfo): void } {
  // Part reservations and upload ends by request id, from authorization until `finish`.
  const pending = new Map<
    string,
    { ns: string; uploadId: string; len: number | null; partNumber?: number }
  >();
  const factsFor = (
    ctx: OpContext,
    p: Principal,
    op: string,
    bucket: string | null,
    key: string | null,
  ): RequestFacts => {
    const q = ctx.ep.query;
    return {
      action: actionOf(op),
      resource: bucket === null
        ? "arn:aws:s3:::*"
        : key === null
        ? `arn:aws:s3:::${bucket}`
        : `arn:aws:s3:::${bucket}/${key}`,
      context: {
        "aws:sourceip": ctx.client.ip ?? undefined,
        "aws:securetransport": String(ctx.client.secure),
        "aws:username": p.displayName,
        "aws:userid": p.userId,
        "aws:principaltype": p.kind === "root" ? "Account" : "User",
        "aws:currenttime": new Date(core.clock.now()).toISOString(),
        "aws:epochtime": String(Math.floor(core.clock.now() / 1000)),
        "aws:useragent": ctx.req.headers.get("user-agent") ?? undefined,
        "aws:referer": ctx.req.headers.get("referer") ?? undefined,
        "s3:prefix": bucket !== null && key === null ? q.get("prefix") ?? "" : undefined,
        "s3:delimiter": q.get("delimiter") ?? undefined,
        "s3:max-keys": q.get("max-keys") ?? undefined,
        "s3:versionid": q.get("versionId") ?? undefined,
        "s3:x-amz-acl": ctx.req.headers.get("x-amz-acl") ?? undefined,
      },
    };
  };

  /** Throws AccessDenied unless `p` may run `op` on the bucket (and key). */
  const check = (
    ctx: OpContext,
    p: Principal,
    op: string,
    bucket: BucketRecord | null,
    bucketName: string | null,
    key: string | null,
  ): void => {
    if (p.kind === "root") return;
    const groupIds = groupIdsOf(core, p.userId);
    const docs = documentsFor(core, p.userId, groupIds);
    const decision = docs.length
      ? evaluatePolicies(docs, factsFor(ctx, p, op, bucketName, key))
      : "NoMatch";
    if (decision === "Deny") throw new S3Error("AccessDenied");
    if (p.isAdmin) return;
    if (!bucket) {
      // Service-level calls: listing shows only what the caller owns; creating makes an owner.
      if (op === "ListBuckets" || op === "CreateBucket") return;
      throw new S3Error("AccessDenied");
    }
    if (bucket.ownerId === p.userId) return;
    const granted = grantedAccess(core, bucket.id, {
      id: p.userId,
      tenantId: p.tenantId,
      groupIds,
    });
    if (granted && ACCESS_RANK[granted] >= ACCESS_RANK[accessNeeded(op)]) return;
    if (decision === "Allow") return;
    throw new S3Error("AccessDenied");
  };

  return {
    async authorize(ctx, bucket) {
      const p = ctx.principal;
      if (!p) throw new S3Error("AccessDenied");
      if (bucket && bucket.ns !== ctx.ns) throw new S3Error("AccessDenied");
      if (p.kind !== "root" && p.tenantId !== null) {
        const t = getTenant(core, p.tenantId);
        if (!t || t.status !== "active") throw new S3Error("AccessDenied");
      }
      const ep = ctx.ep;
      check(ctx, p, ep.op, bucket, ep.bucket, ep.key);
      await precheckQuota(ctx);
    },
    finish,
  };

  /**
   * Early refusals and part reservations. PutObject with a length that cannot fit (stored +
   * reserved - replaced + length) is refused before its body is read; UploadPart and
   * UploadPartCopy reserve their length atomically (storage's `usage.reserve`) and, once stored,
   * give back the reservation of the part they replaced (`usage.commit`); Complete and Abort are
   * remembered so `finish` releases what is left of the upload's reservation. CopyObject,
   * PostObject and Complete have no early check: the publishing commit's quota check is the one exact
   * check of every write path (stored + reserved).
   */
  async function precheckQuota(ctx: OpContext): Promise<void> {
    const op = ctx.ep.op;
    const usage = core.storage?.usage;
    if (!ctx.ns || !usage) return;
    // Reservations are keyed by the upload id: a string of another form names no upload (the
    // operation answers NoSuchUpload), and a long one would not even fit in a KV key.
    const raw = ctx.ep.query.get("uploadId");
    const uploadId = raw !== null && isUploadId(raw) ? raw : null;
    if ((op === "CompleteMultipartUpload" || op === "AbortMultipartUpload") && uploadId) {
      pending.set(ctx.requestId, { ns: ctx.ns, uploadId, len: null });
      return;
    }
    if (op !== "PutObject" && op !== "UploadPart" && op !== "UploadPartCopy") return;
    const t = getTenant(core, ctx.ns);
    if (!t || t.quota.maxBytes === null) return;
    if (op === "PutObject") {
      const len = ctx.auth.contentLength;
      if (len === null || ctx.ep.key === null) return;
      const used = await usage.read(ctx.ns);
      // An overwrite frees the replaced bytes (unversioned buckets); the publishing commit decides
      // exactly, this only spares reading a body that cannot fit.
      const b = await ctx.bucket();
      const replaced = await ctx.deps.storage.getObjectRecord(b, ctx.ep.key).then(
        (r) => r.size,
        () => 0,
      );
      if (used.bytes + used.reserved - replaced + len > t.quota.maxBytes) {
        throw new S3Error("QuotaExceeded");
      }
      return;
    }
    if (!uploadId) return;
    const len = op === "UploadPart" ? ctx.auth.contentLength : await copyLength(ctx);
    if (len === null) return;
    await usage.reserve(ctx.ns, uploadId, len, t.quota.maxBytes);
    const partNumber = Number(ctx.ep.query.get("partNumber"));
    pending.set(ctx.requestId, { ns: ctx.ns, uploadId, len, partNumber });
  }

  /** Bytes an UploadPartCopy will add: its range, else the whole source version it names. */
  async function copyLength(ctx: OpContext): Promise<number | null> {
    const range = /^bytes=(\d+)-(\d+)$/.exec(ctx.req.headers.get("x-amz-copy-source-range") ?? "");
    if (range) {
      // An end before the start is refused by the operation: reserving its negative length
      // would lower the tenant's reserved bytes until then.
      const len = Number(range[2]) - Number(range[1]) + 1;
      return len > 0 ? len : null;
    }
    const header = ctx.req.headers.get("x-amz-copy-source");
    if (!header) return null;
    try {
      const src = parseCopySource(header);
      const b = await ctx.deps.storage.getBucket(ctx.ns, src.bucket);
      return (await ctx.deps.storage.getObjectRecord(b, src.key, src.versionId)).size;
    } catch {
      return null; // the op itself reports the bad source
    }
  }

  /** After the response: release reservations of failed parts and of ended uploads. */
  function finish(info: RequestInfo): void {
    const p = pending.get(info.requestId);
    const usage = core.storage?.usage;
    if (!p || !usage) return;
    pending.delete(info.requestId);
    const failed = info.status >= 300;
    const work = p.len !== null
      ? (failed ? usage.release(p.ns, p.uploadId, p.len) : Number.isInteger(p.partNumber)
        // A part number uploaded again replaces the earlier part: its reservation goes back.
        ? usage.commit(p.ns, p.uploadId, p.partNumber!, p.len)
        : Promise.resolve())
      : failed
      ? Promise.resolve()
      // Releases only once the upload is gone (a Complete may answer 200 with an error).
      : usage.release(p.ns, p.uploadId, null);
    work.catch(() => {/* the storage maintenance reconciles reservations */});
  }
}
