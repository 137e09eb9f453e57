/**
 * The policy simulator: "may this principal run this operation on this bucket and key, from this
 * address, over TLS or not?", answered by the same evaluator as real requests
 * (`IamAuthorizer.decide`), with what decided it. The console shows it per bucket.
 */
import type { Backend } from "../storage/mod.ts";
import type { BucketRecord } from "../storage/types.ts";
import { resolveBucket } from "../s3/bucket_ref.ts";
import type { Namespaces } from "../s3/bucket_ref.ts";
import { bucketRefOf } from "../s3/names.ts";
import { isS3Error } from "../s3/errors.ts";
import { principalOf } from "./access_keys.ts";
import type { IamCore } from "./core.ts";
import { IamError } from "./errors.ts";
import type { AccessDecision } from "./evaluate.ts";
import { isCidr } from "./net.ts";
import { ROOT_PRINCIPAL } from "./root.ts";
import type { IamAuthorizer } from "./s3_authorizer.ts";
import { namespaceOf, type Principal } from "./types.ts";
import { getUserByName } from "./users.ts";

/** Operations the simulator offers (object, listing and configuration operations). */
export const SIMULATED_OPS = [
  "GetObject",
  "HeadObject",
  "PutObject",
  "DeleteObject",
  "CopyObject",
  "GetObjectTagging",
  "PutObjectTagging",
  "GetObjectAcl",
  "PutObjectAcl",
  "ListObjectsV2",
  "ListObjectVersions",
  "ListMultipartUploads",
  "CreateMultipartUpload",
  "AbortMultipartUpload",
  "HeadBucket",
  "GetBucketAcl",
  "PutBucketAcl",
  "GetBucketPolicy",
  "PutBucketPolicy",
  "DeleteBucketPolicy",
  "GetBucketCors",
  "PutBucketCors",
  "GetBucketVersioning",
  "PutBucketVersioning",
  "PutBucketLifecycleConfiguration",
  "DeleteBucket",
] as const;

export interface SimulationInput {
  /** A username, or "anonymous" for an unsigned request. */
  principal: unknown;
  op: unknown;
  /** As an S3 request names it: `bucket` or `tenant:bucket`. */
  bucket: unknown;
  key?: unknown;
  /** The caller's address (`aws:SourceIp`); default none. */
  sourceIp?: unknown;
  /** Over TLS (`aws:SecureTransport`); default false. */
  secure?: unknown;
}

export interface SimulationResult extends AccessDecision {
  principal: string;
  op: string;
  bucket: { name: string; account: string | null };
  key: string | null;
}

export interface SimulatorDeps {
  core: IamCore;
  storage: Backend;
  namespaces: Namespaces;
  authorizer: IamAuthorizer;
}

function principalNamed(core: IamCore, name: string): Principal | null {
  if (name === "anonymous") return null;
  if (name === "root") return ROOT_PRINCIPAL;
  const row = getUserByName(core, name);
  if (!row) throw new IamError("InvalidRequest", `no user is called "${name}"`);
  return principalOf(row as unknown as { id: string; username: string; role: string });
}

/**
 * Simulates a request. `visibleNs`: the namespaces whose buckets the asking admin may inspect
 * (null: all, for global admins); another namespace's bucket is refused as if it did not exist.
 */
export async function simulate(
  deps: SimulatorDeps,
  input: SimulationInput,
  visibleNs: string | null,
): Promise<SimulationResult> {
  if (typeof input.principal !== "string" || input.principal === "") {
    throw new IamError("InvalidRequest", 'principal must be a username or "anonymous"');
  }
  const op = input.op;
  if (typeof op !== "string" || !(SIMULATED_OPS as readonly string[]).includes(op)) {
    throw new IamError("InvalidRequest", `op must be one of ${SIMULATED_OPS.join(", ")}`);
  }
  const ref = typeof input.bucket === "string" ? bucketRefOf(input.bucket) : null;
  if (!ref) throw new IamError("InvalidRequest", "bucket must be a bucket name or tenant:bucket");
  const key = input.key === undefined || input.key === null || input.key === ""
    ? null
    : String(input.key);
  const ip = input.sourceIp === undefined || input.sourceIp === null || input.sourceIp === ""
    ? null
    : String(input.sourceIp);
  if (ip !== null && !isCidr(ip)) {
    throw new IamError("InvalidRequest", "sourceIp must be an IPv4 or IPv6 address");
  }
  const p = principalNamed(deps.core, input.principal);
  const objectOp = !op.startsWith("List") && /Object|MultipartUpload$/.test(op);
  if (objectOp && key === null) throw new IamError("InvalidRequest", `${op} needs a key`);
  let bucket: BucketRecord;
  try {
    bucket = await resolveBucket(deps.storage, deps.namespaces, p ? namespaceOf(p) : null, ref);
  } catch (e) {
    if (isS3Error(e) && e.code === "NoSuchBucket") {
      throw new IamError("NotFound", `no bucket ${input.bucket} for ${input.principal}`);
    }
    throw e;
  }
  if (visibleNs !== null && bucket.ns !== visibleNs) {
    throw new IamError("NotFound", `no bucket ${input.bucket} for ${input.principal}`);
  }
  const decision = await deps.authorizer.decide(
    {
      query: new URLSearchParams(),
      headers: new Headers({ "user-agent": "MaxIOFS policy simulator" }),
      client: { ip, secure: input.secure === true },
    },
    p,
    op,
    bucket,
    input.bucket as string,
    objectOp ? key : null,
  );
  return {
    ...decision,
    principal: input.principal,
    op,
    bucket: { name: bucket.name, account: deps.namespaces.accountOf(bucket.ns) },
    key: objectOp ? key : null,
  };
}
