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
import { namespaceOf, type Principal } from "./types.ts";
import type { Client } from "./net.ts";
import {
  type AccessDecision,
  decideAccess,
  DEFAULT_DENY,
  NO_MATCH,
  type Verdict,
} from "./evaluate.ts";
import type { IamCore } from "./core.ts";
import { evaluatePolicy, type PolicyRequest } from "./policy.ts";
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

/** What the evaluator reads of a request besides its principal, operation and resource. */
export interface RequestView {
  query: URLSearchParams;
  headers: Headers;
  client: Client;
}

function viewOf(ctx: OpContext): RequestView {
  return { query: ctx.ep.query, headers: ctx.req.headers, client: ctx.client };
}

export interface IamAuthorizer extends Authorizer {
  /** After the response: releases quota reservations of failed and ended uploads. */
  finish(info: RequestInfo): void;
  /**
   * The decision on `op` by `p` (null: anonymous) on the bucket (and key) and what decided it,
   * without throwing: the request path and the console's policy simulator share it.
   */
  decide(
    view: RequestView,
    p: Principal | null,
    op: string,
    bucket: BucketRecord | null,
    bucketName: string | null,
    key: string | null,
  ): Promise<AccessDecision>;
}

export function iamAuthorizer(
  core: IamCore,
): IamAuthorizer {
  // Part reservations and upload ends by request id, from authorization until `finish`.
  const pending = new Map<
    string,
    { ns: string; uploadId: string; len: number | null; partNumber?: number }
  >();
  const factsFor = (
    view: RequestView,
    p: Principal,
    op: string,
    bucket: string | null,
    key: string | null,
  ): PolicyRequest => {
    const q = view.query;
    // Decision 0011: the account id of a namespace is the tenant's name.
    const account = p.tenantId === null ? "" : getTenant(core, p.tenantId)?.name ?? p.tenantId;
    return {
      principal: {
        arn: p.kind === "root"
          ? "arn:aws:iam:::root"
          : `arn:aws:iam::${account}:user/${p.displayName}`,
        account,
        canonicalId: p.kind === "root" ? "root" : p.userId,
        username: p.displayName,
        userId: p.userId,
      },
      action: actionOf(op),
      resource: bucket === null
        ? "arn:aws:s3:::*"
        : key === null
        ? `arn:aws:s3:::${bucket}`
        : `arn:aws:s3:::${bucket}/${key}`,
      context: {
        "aws:sourceip": view.client.ip ?? undefined,
        "aws:securetransport": String(view.client.secure),
        "aws:username": p.displayName,
        "aws:userid": p.userId,
        "aws:principaltype": p.kind === "root" ? "Account" : "User",
        "aws:currenttime": new Date(core.clock.now()).toISOString(),
        "aws:epochtime": String(Math.floor(core.clock.now() / 1000)),
        "aws:useragent": view.headers.get("user-agent") ?? undefined,
        "aws:referer": view.headers.get("referer") ?? undefined,
        "s3:prefix": bucket !== null && key === null ? q.get("prefix") ?? "" : undefined,
        "s3:delimiter": q.get("delimiter") ?? undefined,
        "s3:max-keys": q.get("max-keys") ?? undefined,
        "s3:versionid": q.get("versionId") ?? undefined,
        "s3:x-amz-acl": view.headers.get("x-amz-acl") ?? undefined,
      },
    };
  };

  /** The caller's identity policies (user and groups) on this request. */
  const identityVerdict = (
    view: RequestView,
    p: Principal,
    groupIds: string[],
    op: string,
    bucketName: string | null,
    key: string | null,
  ): Verdict => {
    const docs = documentsFor(core, p.userId, groupIds);
    if (!docs.length) return NO_MATCH;
    const { decision: effect } = evaluatePolicy(docs, factsFor(view, p, op, bucketName, key));
    return effect === "NoMatch" ? NO_MATCH : { effect, by: `identity policy (${effect})` };
  };

  /** Root key, admins of the namespace, the bucket owner and console bucket grants. */
  const namespaceVerdict = (
    p: Principal,
    groupIds: string[],
    op: string,
    bucket: BucketRecord,
  ): Verdict => {
    if (p.kind === "root") return { effect: "Allow", by: "root key of the namespace" };
    if (p.isAdmin) return { effect: "Allow", by: `${p.role ?? "admin"} of the namespace` };
    if (bucket.ownerId === p.userId) return { effect: "Allow", by: "bucket owner" };
    const granted = grantedAccess(core, bucket.id, {
      id: p.userId,
      tenantId: p.tenantId,
      groupIds,
    });
    if (granted && ACCESS_RANK[granted] >= ACCESS_RANK[accessNeeded(op)]) {
      return { effect: "Allow", by: `bucket grant (${granted})` };
    }
    return NO_MATCH;
  };

  const decide: IamAuthorizer["decide"] = async (view, p, op, bucket, bucketName, key) => {
    const groupIds = p && p.kind !== "root" ? groupIdsOf(core, p.userId) : [];
    const identity = p && p.kind !== "root"
      ? identityVerdict(view, p, groupIds, op, bucketName, key)
      : NO_MATCH;
    if (!bucket) {
      // Service-level calls: listing shows only what the caller owns; creating makes an owner.
      if (identity.effect === "Deny") return { allowed: false, by: identity.by };
      if (p && (p.kind === "root" || p.isAdmin || op === "ListBuckets" || op === "CreateBucket")) {
        return { allowed: true, by: "caller of the namespace" };
      }
      return { allowed: false, by: DEFAULT_DENY };
    }
    return await decideAccess({
      sameNamespace: p !== null && namespaceOf(p) === bucket.ns,
      identity: () => identity,
      namespaceRules: () => namespaceVerdict(p!, groupIds, op, bucket),
      bucketPolicy: () => Promise.resolve(NO_MATCH),
      acl: () => Promise.resolve(NO_MATCH),
    });
  };

  /** Throws AccessDenied unless `p` may run `op` on the bucket (and key). */
  const check = async (
    ctx: OpContext,
    p: Principal | null,
    op: string,
    bucket: BucketRecord | null,
    bucketName: string | null,
    key: string | null,
  ): Promise<void> => {
    const d = await decide(viewOf(ctx), p, op, bucket, bucketName, key);
    if (!d.allowed) throw new S3Error("AccessDenied");
  };

  /** A suspended tenant's keys stop working, and so do its buckets for everyone else. */
  const activeNamespace = (ns: string): boolean => {
    if (ns === "") return true;
    const t = getTenant(core, ns);
    return t !== null && t.status === "active";
  };

  return {
    async authorize(ctx, bucket) {
      const p = ctx.principal;
      if (p && p.kind !== "root" && !activeNamespace(namespaceOf(p))) {
        throw new S3Error("AccessDenied");
      }
      if (bucket && bucket.ns !== ctx.ns && !activeNamespace(bucket.ns)) {
        throw new S3Error("AccessDenied");
      }
      const ep = ctx.ep;
      await check(ctx, p, ep.op, bucket, ep.bucket, ep.key);
      // Writes count against the quota of the bucket's namespace, whoever sends them.
      await precheckQuota(ctx, bucket?.ns ?? ctx.ns);
    },
    async mayList(ctx, bucket) {
      const d = await decide(
        viewOf(ctx),
        ctx.principal,
        "ListObjects",
        bucket,
        ctx.ep.bucket,
        null,
      );
      return d.allowed;
    },
    finish,
    decide,
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
  async function precheckQuota(ctx: OpContext, ns: string): Promise<void> {
    const op = ctx.ep.op;
    const usage = core.storage?.usage;
    if (!ns || !usage) return;
    // Reservations are keyed by the upload id: a string of another form names no upload (the
    // operation answers NoSuchUpload), and a long one would not even fit in a KV key.
    const raw = ctx.ep.query.get("uploadId");
    const uploadId = raw !== null && isUploadId(raw) ? raw : null;
    if ((op === "CompleteMultipartUpload" || op === "AbortMultipartUpload") && uploadId) {
      pending.set(ctx.requestId, { ns, uploadId, len: null });
      return;
    }
    if (op !== "PutObject" && op !== "UploadPart" && op !== "UploadPartCopy") return;
    const t = getTenant(core, ns);
    if (!t || t.quota.maxBytes === null) return;
    if (op === "PutObject") {
      const len = ctx.auth.contentLength;
      if (len === null || ctx.ep.key === null) return;
      const used = await usage.read(ns);
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
    await usage.reserve(ns, uploadId, len, t.quota.maxBytes);
    const partNumber = Number(ctx.ep.query.get("partNumber"));
    pending.set(ctx.requestId, { ns, uploadId, len, partNumber });
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
      const b = await ctx.bucketNamed(src.bucket);
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
