/**
 * Which S3 requests the audit log records, decided in one place from the operation the request
 * parsed to (the S3 handler's request hook calls `auditS3Request` for every request, console
 * requests included: the console runs S3 operations through the same handler). Bucket creation
 * and deletion, versioning and every bucket configuration change are always recorded; object
 * writes and deletes only while the `audit.s3ObjectEvents` setting is on (off by default: one
 * SQLite insert per write).
 */
import type { IamCore } from "./core.ts";
import { recordAudit } from "./audit.ts";
import type { RequestInfo } from "../s3/context.ts";

/** Bucket changes, always audited: S3 operation -> audit action. */
export const BUCKET_CHANGES: Readonly<Record<string, string>> = {
  CreateBucket: "bucket.create",
  DeleteBucket: "bucket.delete",
  PutBucketVersioning: "bucket.versioning.put",
  PutBucketPolicy: "bucket.policy.put",
  DeleteBucketPolicy: "bucket.policy.delete",
  PutBucketAcl: "bucket.acl.put",
  PutBucketCors: "bucket.cors.put",
  DeleteBucketCors: "bucket.cors.delete",
  PutBucketLifecycleConfiguration: "bucket.lifecycle.put",
  DeleteBucketLifecycle: "bucket.lifecycle.delete",
  PutBucketTagging: "bucket.tagging.put",
  DeleteBucketTagging: "bucket.tagging.delete",
  PutObjectLockConfiguration: "bucket.object-lock.put",
  PutPublicAccessBlock: "bucket.public-access-block.put",
  DeletePublicAccessBlock: "bucket.public-access-block.delete",
  PutBucketOwnershipControls: "bucket.ownership.put",
  DeleteBucketOwnershipControls: "bucket.ownership.delete",
  PutBucketEncryption: "bucket.encryption.put",
  DeleteBucketEncryption: "bucket.encryption.delete",
  PutBucketNotificationConfiguration: "bucket.notification.put",
  PutBucketReplication: "bucket.replication.put",
  DeleteBucketReplication: "bucket.replication.delete",
  PutBucketWebsite: "bucket.website.put",
  DeleteBucketWebsite: "bucket.website.delete",
  PutBucketLogging: "bucket.logging.put",
  PutBucketInventoryConfiguration: "bucket.inventory.put",
  DeleteBucketInventoryConfiguration: "bucket.inventory.delete",
};

/** Object writes and deletes, audited while `audit.s3ObjectEvents` is on. */
export const OBJECT_CHANGES: Readonly<Record<string, string>> = {
  PutObject: "object.put",
  PostObject: "object.put",
  CopyObject: "object.copy",
  CompleteMultipartUpload: "object.put",
  DeleteObject: "object.delete",
  DeleteObjects: "object.delete-multiple",
  PutObjectTagging: "object.tagging.put",
  DeleteObjectTagging: "object.tagging.delete",
  PutObjectAcl: "object.acl.put",
  PutObjectRetention: "object.retention.put",
  PutObjectLegalHold: "object.legal-hold.put",
};

/**
 * The audit action of a request, or null when it is not audited; object changes only while
 * `objectEvents` (the `audit.s3ObjectEvents` setting) is on.
 */
export function s3AuditAction(op: string, objectEvents: boolean): string | null {
  const bucket = BUCKET_CHANGES[op];
  if (bucket !== undefined) return bucket;
  const object = OBJECT_CHANGES[op];
  return object !== undefined && objectEvents ? object : null;
}

/**
 * Records an audited S3 request from the request itself: also requests refused before
 * authorization (no such bucket, bad signature), whose principal may be unknown.
 */
export function auditS3Request(core: IamCore, info: RequestInfo, objectEvents: boolean): void {
  const action = s3AuditAction(info.op, objectEvents);
  if (action === null) return;
  const p = info.principal;
  const resource = info.key === null
    ? `bucket/${info.bucket}`
    : `bucket/${info.bucket}/${info.key}`;
  recordAudit(core, {
    actorId: p?.userId ?? null,
    actorName: p?.displayName ?? null,
    tenantId: p?.tenantId ?? null,
    action,
    resource,
    ip: info.client.ip,
    userAgent: info.req.headers.get("user-agent"),
    result: info.status < 300 ? "success" : info.status === 403 ? "denied" : "failure",
    detail: `${info.op}, status ${info.status}, request ${info.requestId}`,
  });
}
