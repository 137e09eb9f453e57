/**
 * ACLs as a source of the evaluator (evaluate.ts `AccessSources.acl`): which ACL and permission
 * an operation needs, after the S3 user guide's table of ACL permissions and the actions they
 * allow, and the verdict of that ACL for a caller. The object's record is read only for the
 * operations that need the object's ACL.
 */
import { isS3Error } from "../s3/errors.ts";
import type { Backend } from "../storage/mod.ts";
import type { BucketRecord } from "../storage/types.ts";
import { NO_MATCH, type Verdict } from "./evaluate.ts";
import {
  aclGrantFor,
  type AclSubject,
  describeGrant,
  type GranteeLookup,
  type Permission,
  withoutPublicGrants,
} from "./acl.ts";
import { objectAcl, readBucketAcl } from "./ownership.ts";

export interface AclRequirement {
  /** Whose ACL grants it: the bucket's or the addressed object version's. */
  on: "bucket" | "object";
  permission: Permission;
}

const bucket = (permission: Permission): AclRequirement => ({ on: "bucket", permission });
const object = (permission: Permission): AclRequirement => ({ on: "object", permission });

/**
 * Bucket READ lists; bucket WRITE creates, overwrites and deletes objects (multipart included);
 * object READ reads an object; READ_ACP and WRITE_ACP read and write the ACL itself. Operations
 * absent here (configurations, tagging, retention...) are never granted by an ACL.
 */
const REQUIREMENTS: Record<string, AclRequirement> = {
  HeadBucket: bucket("READ"),
  ListObjects: bucket("READ"),
  ListObjectsV2: bucket("READ"),
  ListObjectVersions: bucket("READ"),
  ListMultipartUploads: bucket("READ"),
  PutObject: bucket("WRITE"),
  CopyObject: bucket("WRITE"),
  PostObject: bucket("WRITE"),
  DeleteObject: bucket("WRITE"),
  DeleteObjects: bucket("WRITE"),
  CreateMultipartUpload: bucket("WRITE"),
  UploadPart: bucket("WRITE"),
  UploadPartCopy: bucket("WRITE"),
  CompleteMultipartUpload: bucket("WRITE"),
  AbortMultipartUpload: bucket("WRITE"),
  ListParts: bucket("WRITE"),
  GetBucketAcl: bucket("READ_ACP"),
  PutBucketAcl: bucket("WRITE_ACP"),
  GetObject: object("READ"),
  HeadObject: object("READ"),
  GetObjectAttributes: object("READ"),
  GetObjectAcl: object("READ_ACP"),
  PutObjectAcl: object("WRITE_ACP"),
};

/** What an S3 operation needs of an ACL, or null when no ACL grants it. */
export function aclRequirement(op: string): AclRequirement | null {
  return REQUIREMENTS[op] ?? null;
}

export interface AclVerdictInput {
  storage: Backend;
  lookup: GranteeLookup;
  bucket: BucketRecord;
  op: string;
  /** The addressed key and version (object operations). */
  key: string | null;
  versionId?: string | null;
  subject: AclSubject;
  /** A public access block's IgnorePublicAcls: grants to AllUsers and AuthenticatedUsers count not. */
  ignorePublicAcls?: boolean;
}

/**
 * The ACL's answer for a request: Allow naming the grant, or NoMatch (ACLs never deny). With ACLs
 * off (BucketOwnerEnforced) the ACL in force is the bucket owner's FULL_CONTROL alone. A missing
 * object is NoMatch: the operation itself answers for it once allowed otherwise.
 */
export async function aclVerdict(input: AclVerdictInput): Promise<Verdict> {
  const need = aclRequirement(input.op);
  if (!need) return NO_MATCH;
  const state = await readBucketAcl(input.storage, input.bucket, input.lookup);
  let acl = state.acl;
  if (need.on === "object") {
    if (input.key === null) return NO_MATCH;
    try {
      const rec = await input.storage.getObjectRecord(input.bucket, input.key, input.versionId);
      acl = objectAcl(rec, input.bucket, state.aclsEnabled, input.lookup);
    } catch (e) {
      if (isS3Error(e)) return NO_MATCH;
      throw e;
    }
  }
  if (input.ignorePublicAcls) acl = withoutPublicGrants(acl);
  const grant = aclGrantFor(acl, input.subject, need.permission);
  if (!grant) return NO_MATCH;
  return { effect: "Allow", by: `${need.on} ACL grant ${describeGrant(grant)}` };
}
