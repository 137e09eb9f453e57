/**
 * Object Ownership and where ACLs are kept (decision 0011): a bucket's ACL is its bucket
 * configuration `acl` (absent: private), its ownership setting the configuration `ownership`
 * (absent: ObjectWriter, ACLs on), an object's ACL the `acl` field of its version's record
 * (absent: private). With BucketOwnerEnforced, ACLs are off: whatever is stored, the bucket owner
 * owns everything and holds the only grant, FULL_CONTROL.
 */
import type { Backend } from "../storage/mod.ts";
import type { BucketRecord, ObjectRecord } from "../storage/types.ts";
import { type CanonicalUser, type GranteeLookup, privateAcl, type StoredAcl } from "./acl.ts";

export type ObjectOwnership = "BucketOwnerEnforced" | "BucketOwnerPreferred" | "ObjectWriter";
export const OBJECT_OWNERSHIPS: readonly ObjectOwnership[] = [
  "BucketOwnerEnforced",
  "BucketOwnerPreferred",
  "ObjectWriter",
];

/** Bucket configuration kinds. */
export const ACL_CONFIG = "acl";
export const OWNERSHIP_CONFIG = "ownership";

export interface OwnershipConfig {
  rule: ObjectOwnership;
}

/** What the evaluator needs of a bucket's ACLs. */
export interface BucketAcl {
  /** The bucket's setting (ObjectWriter when none is configured). */
  ownership: ObjectOwnership;
  /** False with BucketOwnerEnforced: ACLs grant nothing beyond the owner's FULL_CONTROL. */
  aclsEnabled: boolean;
  /** The ACL in force (the owner's FULL_CONTROL alone when ACLs are off or none is stored). */
  acl: StoredAcl;
}

/** A canonical user by id; an id IAM no longer knows keeps itself as display name. */
export function canonicalUser(lookup: GranteeLookup, id: string): CanonicalUser {
  return lookup.userById(id) ?? { id, displayName: id };
}

/** The bucket's configured ownership setting, or null when none is configured. */
export async function configuredOwnership(
  storage: Backend,
  bucket: BucketRecord,
): Promise<ObjectOwnership | null> {
  const cfg = await storage.getBucketConfig<OwnershipConfig>(bucket.id, OWNERSHIP_CONFIG);
  return cfg?.rule ?? null;
}

/** Reads a bucket's ownership and ACL in force (two cached configuration reads). */
export async function readBucketAcl(
  storage: Backend,
  bucket: BucketRecord,
  lookup: GranteeLookup,
): Promise<BucketAcl> {
  const [ownership, stored] = await Promise.all([
    configuredOwnership(storage, bucket),
    storage.getBucketConfig<StoredAcl>(bucket.id, ACL_CONFIG),
  ]);
  const rule = ownership ?? "ObjectWriter";
  const aclsEnabled = rule !== "BucketOwnerEnforced";
  const acl = aclsEnabled && stored ? stored : privateAcl(canonicalUser(lookup, bucket.ownerId));
  return { ownership: rule, aclsEnabled, acl };
}

/**
 * An object version's ACL in force: its own (absent: its owner's FULL_CONTROL), or with ACLs
 * off the bucket owner's FULL_CONTROL, as owner.
 */
export function objectAcl(
  rec: Pick<ObjectRecord, "acl" | "ownerId">,
  bucket: Pick<BucketRecord, "ownerId">,
  aclsEnabled: boolean,
  lookup: GranteeLookup,
): StoredAcl {
  if (!aclsEnabled) return privateAcl(canonicalUser(lookup, bucket.ownerId));
  return rec.acl ?? privateAcl(canonicalUser(lookup, rec.ownerId));
}
