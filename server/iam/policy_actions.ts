/**
 * The S3 actions a policy may name (AWS's service authorization reference for Amazon S3), and the
 * resource type each applies to: an object (`arn:aws:s3:::bucket/key`), a bucket
 * (`arn:aws:s3:::bucket`), or neither (account-level, jobs, access points...). A policy naming an
 * action outside this list is refused, as AWS refuses it.
 */
import { compilePattern, matchPattern } from "./policy_pattern.ts";

export type ActionTarget = "object" | "bucket" | "other";

const OBJECT_ACTIONS = [
  "AbortMultipartUpload",
  "BypassGovernanceRetention",
  "DeleteObject",
  "DeleteObjectTagging",
  "DeleteObjectVersion",
  "DeleteObjectVersionTagging",
  "GetObject",
  "GetObjectAcl",
  "GetObjectAttributes",
  "GetObjectLegalHold",
  "GetObjectRetention",
  "GetObjectTagging",
  "GetObjectTorrent",
  "GetObjectVersion",
  "GetObjectVersionAcl",
  "GetObjectVersionAttributes",
  "GetObjectVersionForReplication",
  "GetObjectVersionTagging",
  "GetObjectVersionTorrent",
  "InitiateReplication",
  "ListMultipartUploadParts",
  "ObjectOwnerOverrideToBucketOwner",
  "PutObject",
  "PutObjectAcl",
  "PutObjectLegalHold",
  "PutObjectRetention",
  "PutObjectTagging",
  "PutObjectVersionAcl",
  "PutObjectVersionTagging",
  "ReplicateDelete",
  "ReplicateObject",
  "ReplicateTags",
  "RestoreObject",
];

const BUCKET_ACTIONS = [
  "CreateBucket",
  "DeleteBucket",
  "DeleteBucketOwnershipControls",
  "DeleteBucketPolicy",
  "DeleteBucketWebsite",
  "GetAccelerateConfiguration",
  "GetAnalyticsConfiguration",
  "GetBucketAcl",
  "GetBucketCORS",
  "GetBucketLocation",
  "GetBucketLogging",
  "GetBucketNotification",
  "GetBucketObjectLockConfiguration",
  "GetBucketOwnershipControls",
  "GetBucketPolicy",
  "GetBucketPolicyStatus",
  "GetBucketPublicAccessBlock",
  "GetBucketRequestPayment",
  "GetBucketTagging",
  "GetBucketVersioning",
  "GetBucketWebsite",
  "GetEncryptionConfiguration",
  "GetIntelligentTieringConfiguration",
  "GetInventoryConfiguration",
  "GetLifecycleConfiguration",
  "GetMetricsConfiguration",
  "GetReplicationConfiguration",
  "ListBucket",
  "ListBucketMultipartUploads",
  "ListBucketVersions",
  "PutAccelerateConfiguration",
  "PutAnalyticsConfiguration",
  "PutBucketAcl",
  "PutBucketCORS",
  "PutBucketLogging",
  "PutBucketNotification",
  "PutBucketObjectLockConfiguration",
  "PutBucketOwnershipControls",
  "PutBucketPolicy",
  "PutBucketPublicAccessBlock",
  "PutBucketRequestPayment",
  "PutBucketTagging",
  "PutBucketVersioning",
  "PutBucketWebsite",
  "PutEncryptionConfiguration",
  "PutIntelligentTieringConfiguration",
  "PutInventoryConfiguration",
  "PutLifecycleConfiguration",
  "PutMetricsConfiguration",
  "PutReplicationConfiguration",
];

const OTHER_ACTIONS = [
  "CreateAccessPoint",
  "CreateJob",
  "DeleteAccessPoint",
  "DeleteAccessPointPolicy",
  "DeleteStorageLensConfiguration",
  "DescribeJob",
  "GetAccessPoint",
  "GetAccessPointPolicy",
  "GetAccessPointPolicyStatus",
  "GetAccountPublicAccessBlock",
  "GetStorageLensConfiguration",
  "GetStorageLensDashboard",
  "ListAccessPoints",
  "ListAllMyBuckets",
  "ListJobs",
  "ListStorageLensConfigurations",
  "PutAccessPointPolicy",
  "PutAccountPublicAccessBlock",
  "PutStorageLensConfiguration",
  "UpdateJobPriority",
  "UpdateJobStatus",
];

/** Every known action, lower case (`s3:getobject`), with what it applies to. */
export const S3_ACTIONS: ReadonlyMap<string, ActionTarget> = new Map([
  ...OBJECT_ACTIONS.map((a) => [`s3:${a.toLowerCase()}`, "object"] as const),
  ...BUCKET_ACTIONS.map((a) => [`s3:${a.toLowerCase()}`, "bucket"] as const),
  ...OTHER_ACTIONS.map((a) => [`s3:${a.toLowerCase()}`, "other"] as const),
]);

/**
 * What the known actions matching an action pattern (any case, wildcards) apply to; empty when
 * it names no known action. `*` alone covers every service: it applies to everything.
 */
export function targetsOfAction(action: string): Set<ActionTarget> {
  const lower = action.toLowerCase();
  if (lower === "*") return new Set(["object", "bucket", "other"]);
  const out = new Set<ActionTarget>();
  if (!/^s3:[a-z0-9*?]+$/.test(lower)) return out;
  const p = compilePattern(lower, { wildcards: true, variables: false });
  for (const [name, target] of S3_ACTIONS) {
    if (matchPattern(p, name, {})) out.add(target);
  }
  return out;
}
