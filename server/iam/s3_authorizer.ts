/**
 * The S3 authorizer: gathers what a request is (principal, action, resource, condition keys) and
 * asks the one evaluator (evaluate.ts) with its sources: the caller's identity policies, the
 * namespace's rules (root key, admins, bucket owner, console bucket grants), the bucket policy
 * and the ACLs, the public access blocks applied (docs/security.md has the order). Tenant status
 * is checked first. CopyObject and UploadPartCopy ask again for `GetObject` on their source (the
 * ops do that themselves, through this authorizer). Writes with a known length are refused early
 * when they cannot fit the quota of the bucket's namespace; the exact, atomic check happens in
 * the publishing commit.
 */
import { isS3Error, S3Error } from "../s3/errors.ts";
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
import { evaluatePolicy, isPublicPolicy, type PolicyRequest, resourceArn } from "./policy.ts";
import { BucketPolicies } from "./bucket_policies.ts";
import {
  effectivePublicAccessBlock,
  type PublicAccessBlock,
  publicAccessBlockFor,
} from "./public_access.ts";
import type { GranteeLookup } from "./acl.ts";
import { aclVerdict } from "./acl_source.ts";
import type { Namespaces } from "../s3/bucket_ref.ts";
import type { AuthMethod } from "../s3/auth/mod.ts";
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
  GetBucketInventoryConfiguration: "s3:GetInventoryConfiguration",
  ListBucketInventoryConfigurations: "s3:GetInventoryConfiguration",
  PutBucketInventoryConfiguration: "s3:PutInventoryConfiguration",
  DeleteBucketInventoryConfiguration: "s3:PutInventoryConfiguration",
};

/** Actions of ops on one version (`versionId` given), as AWS names them. */
const VERSION_ACTION: Record<string, string> = {
  GetObject: "s3:GetObjectVersion",
  HeadObject: "s3:GetObjectVersion",
  GetObjectAttributes: "s3:GetObjectVersionAttributes",
  DeleteObject: "s3:DeleteObjectVersion",
  GetObjectAcl: "s3:GetObjectVersionAcl",
  PutObjectAcl: "s3:PutObjectVersionAcl",
  GetObjectTagging: "s3:GetObjectVersionTagging",
  PutObjectTagging: "s3:PutObjectVersionTagging",
  DeleteObjectTagging: "s3:DeleteObjectVersionTagging",
};

/** The IAM action of an op; `versioned`: the request names a version (`versionId`). */
export function actionOf(op: string, versioned = false): string {
  return (versioned ? VERSION_ACTION[op] : undefined) ?? ACTION[op] ?? `s3:${op}`;
}

/**
 * Ops on the bucket policy itself: the namespace's root key, admins and bucket owner may always
 * run them (a policy that denies everyone can still be removed), and callers of another
 * namespace never may (405, as AWS answers another account).
 */
const POLICY_OPS = new Set(["GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"]);

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
  /** `s3:signatureversion`: "AWS" (V2) or "AWS4-HMAC-SHA256"; absent for other requests. */
  signatureVersion?: string;
  /** `s3:authType`: "REST-HEADER", "REST-QUERY-STRING" or "POST"; absent for other requests. */
  authType?: string;
}

const SIGNATURE_VERSION: Partial<Record<AuthMethod, string>> = {
  v4: "AWS4-HMAC-SHA256",
  "v4-presigned": "AWS4-HMAC-SHA256",
  v2: "AWS",
  "v2-presigned": "AWS",
};
const AUTH_TYPE: Partial<Record<AuthMethod, string>> = {
  v4: "REST-HEADER",
  v2: "REST-HEADER",
  "v4-presigned": "REST-QUERY-STRING",
  "v2-presigned": "REST-QUERY-STRING",
  "post-policy": "POST",
};

function viewOf(ctx: OpContext): RequestView {
  const method = ctx.ep.op === "PostObject" ? "post-policy" : ctx.auth.method;
  return {
    query: ctx.ep.query,
    headers: ctx.req.headers,
    client: ctx.client,
    signatureVersion: SIGNATURE_VERSION[ctx.auth.method],
    authType: AUTH_TYPE[method],
  };
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

/** Grantees by id without their display names: what permission checks need. */
const IDS_ONLY: GranteeLookup = Object.freeze({
  userById: (id: string) => ({ id, displayName: id }),
  usersByEmail: () => [],
});

export interface AuthorizerDeps {
  /** Tenant names of namespaces (principal ARNs, policy resources). */
  namespaces: Namespaces;
}

export function iamAuthorizer(core: IamCore, deps: AuthorizerDeps): IamAuthorizer {
  const accountOf = (ns: string) => deps.namespaces.accountOf(ns) ?? ns;
  const policies = core.storage
    ? new BucketPolicies(core.storage, { accounts: deps.namespaces })
    : null;
  // Part reservations and upload ends by request id, from authorization until `finish`.
  const pending = new Map<
    string,
    { ns: string; uploadId: string; len: number | null; partNumber?: number }
  >();
  /** What policies see of a request: who, which action, which resource, which condition keys. */
  const requestFor = (
    view: RequestView,
    p: Principal | null,
    op: string,
    resource: string,
    listing: boolean,
  ): PolicyRequest => {
    const q = view.query;
    const now = core.clock.now();
    const account = p ? accountOf(namespaceOf(p)) : "";
    const arn = p === null
      ? undefined
      : p.kind === "root"
      ? "arn:aws:iam:::root"
      : `arn:aws:iam::${account}:user/${p.displayName}`;
    return {
      principal: p && {
        arn: arn!,
        account,
        canonicalId: p.userId,
        username: p.displayName,
        userId: p.userId,
      },
      action: actionOf(op, q.has("versionId")),
      resource,
      context: {
        "aws:sourceip": view.client.ip ?? undefined,
        "aws:securetransport": String(view.client.secure),
        "aws:username": p?.displayName,
        "aws:userid": p?.userId,
        "aws:principalarn": arn,
        "aws:principalaccount": p ? account : undefined,
        "aws:principaltype": p === null ? "Anonymous" : p.kind === "root" ? "Account" : "User",
        "aws:currenttime": new Date(now).toISOString(),
        "aws:epochtime": String(Math.floor(now / 1000)),
        "aws:useragent": view.headers.get("user-agent") ?? undefined,
        "aws:referer": view.headers.get("referer") ?? undefined,
        "s3:prefix": listing ? q.get("prefix") ?? "" : undefined,
        "s3:delimiter": q.get("delimiter") ?? undefined,
        "s3:max-keys": q.get("max-keys") ?? undefined,
        "s3:versionid": q.get("versionId") ?? undefined,
        "s3:x-amz-acl": view.headers.get("x-amz-acl") ?? undefined,
        "s3:x-amz-copy-source": view.headers.get("x-amz-copy-source") ?? undefined,
        "s3:x-amz-metadata-directive": view.headers.get("x-amz-metadata-directive") ?? undefined,
        "s3:x-amz-server-side-encryption": view.headers.get("x-amz-server-side-encryption") ??
          undefined,
        "s3:x-amz-grant-read": view.headers.get("x-amz-grant-read") ?? undefined,
        "s3:x-amz-grant-write": view.headers.get("x-amz-grant-write") ?? undefined,
        "s3:x-amz-grant-read-acp": view.headers.get("x-amz-grant-read-acp") ?? undefined,
        "s3:x-amz-grant-write-acp": view.headers.get("x-amz-grant-write-acp") ?? undefined,
        "s3:x-amz-grant-full-control": view.headers.get("x-amz-grant-full-control") ?? undefined,
        "s3:object-lock-mode": view.headers.get("x-amz-object-lock-mode") ?? undefined,
        "s3:object-lock-retain-until-date":
          view.headers.get("x-amz-object-lock-retain-until-date") ??
            undefined,
        "s3:object-lock-legal-hold": view.headers.get("x-amz-object-lock-legal-hold") ?? undefined,
        "s3:signatureversion": view.signatureVersion,
        "s3:authtype": view.authType,
      },
    };
  };

  /** The resource ARN as the caller names it (identity policies). */
  const callerResource = (bucketName: string | null, key: string | null) =>
    bucketName === null
      ? "arn:aws:s3:::*"
      : key === null
      ? `arn:aws:s3:::${bucketName}`
      : `arn:aws:s3:::${bucketName}/${key}`;

  /** Names a deciding statement for the simulator and the logs. */
  const statementName = (st: { sid?: string; index: number } | undefined) =>
    st?.sid ? `statement "${st.sid}"` : `statement #${(st?.index ?? 0) + 1}`;

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
    const req = requestFor(view, p, op, callerResource(bucketName, key), key === null);
    const d = evaluatePolicy(docs, req);
    if (d.decision === "NoMatch") return NO_MATCH;
    return {
      effect: d.decision,
      by: `identity policy, ${statementName(d.statement)} (${d.decision})`,
    };
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
    const sameNamespace = p !== null && namespaceOf(p) === bucket.ns;
    let block: Promise<PublicAccessBlock> | null = null;
    const blockOf = () => block ??= publicAccessBlock(bucket.ns, bucket);
    const rules = sameNamespace ? namespaceVerdict(p!, groupIds, op, bucket) : NO_MATCH;
    // The namespace's root key, admins and the bucket owner can always manage the policy.
    const policyOp = POLICY_OPS.has(op) && sameNamespace &&
      (p!.kind === "root" || p!.isAdmin || bucket.ownerId === p!.userId);
    return await decideAccess({
      sameNamespace,
      identity: () => identity,
      namespaceRules: () => rules,
      bucketPolicy: () =>
        policyOp
          ? Promise.resolve(NO_MATCH)
          : bucketPolicyVerdict(view, p, op, bucket, key, blockOf),
      acl: () => aclSource(view, p, op, bucket, key, blockOf),
    });
  };

  /** The ACL's answer (bucket's or object's); public grants dropped under IgnorePublicAcls. */
  const aclSource = async (
    view: RequestView,
    p: Principal | null,
    op: string,
    bucket: BucketRecord,
    key: string | null,
    blockOf: () => Promise<PublicAccessBlock>,
  ): Promise<Verdict> => {
    if (!core.storage) return NO_MATCH;
    const input = {
      storage: core.storage,
      // A decision compares ids only: display names (a user lookup each) are for documents.
      lookup: IDS_ONLY,
      bucket,
      op,
      key,
      versionId: view.query.get("versionId"),
      subject: { canonicalId: p?.userId ?? null, authenticated: p !== null },
    };
    const v = await aclVerdict(input);
    // The block is read only when an ACL allows: most requests never get here.
    if (v.effect !== "Allow" || !(await blockOf()).ignorePublicAcls) return v;
    return await aclVerdict({ ...input, ignorePublicAcls: true });
  };

  /**
   * The public access block in force for a bucket of namespace `ns` (the bucket's own, its
   * tenant's and the server's flags ORed); `bucket` null: a bucket being created.
   */
  const publicAccessBlock = (ns: string, bucket: BucketRecord | null) =>
    core.storage
      ? publicAccessBlockFor(core, core.storage, ns, bucket)
      : Promise.resolve(effectivePublicAccessBlock(null, null, null));

  /**
   * The bucket policy's answer. With RestrictPublicBuckets, a public policy allows only callers
   * of the bucket's namespace (its Deny binds everyone).
   */
  const bucketPolicyVerdict = async (
    view: RequestView,
    p: Principal | null,
    op: string,
    bucket: BucketRecord,
    key: string | null,
    blockOf: () => Promise<PublicAccessBlock>,
  ): Promise<Verdict> => {
    const held = policies ? await policies.get(bucket) : null;
    if (!held) return NO_MATCH;
    const account = accountOf(bucket.ns);
    const resource = resourceArn({ name: bucket.name, account }, key, account);
    const d = evaluatePolicy([held.policy], requestFor(view, p, op, resource, key === null));
    if (d.decision === "NoMatch") return NO_MATCH;
    if (
      d.decision === "Allow" && (p === null || namespaceOf(p) !== bucket.ns) &&
      isPublicPolicy(held.policy) && (await blockOf()).restrictPublicBuckets
    ) {
      return NO_MATCH;
    }
    return {
      effect: d.decision,
      by: `bucket policy, ${statementName(d.statement)} (${d.decision})`,
    };
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
    const view = viewOf(ctx);
    const d = await decide(view, p, op, bucket, bucketName, key);
    if (d.allowed) return;
    // A read of a key that is not there, by a caller who may list the bucket, is an honest 404
    // (AWS): the object ACL that could have allowed it does not exist.
    if (bucket && key !== null && /^(Get|Head)/.test(op) && core.storage) {
      const missing = await core.storage.getObjectRecord(bucket, key, view.query.get("versionId"))
        .then(() => false, (e) => isS3Error(e) && e.code === "NoSuchKey");
      if (missing && (await decide(view, p, "ListObjects", bucket, bucketName, null)).allowed) {
        throw new S3Error("NoSuchKey", { fields: { Key: key } });
      }
    }
    throw new S3Error("AccessDenied");
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
      if (bucket && POLICY_OPS.has(ep.op) && (p === null || namespaceOf(p) !== bucket.ns)) {
        throw new S3Error("MethodNotAllowed");
      }
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
    publicAccessBlock,
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
