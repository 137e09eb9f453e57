/**
 * Bucket grants: read, write or full access on one bucket for a user, a group or a whole
 * tenant, with an optional expiry. A grant is tied to the bucket's id, so a bucket deleted and
 * created again under the same name does not inherit it.
 */
import { type IamCore, newId, num, type Row, sql } from "./core.ts";
import { IamError } from "./errors.ts";

export type Access = "read" | "write" | "full";
export const ACCESS_RANK: Record<Access, number> = { read: 1, write: 2, full: 3 };

export interface Grant {
  id: string;
  tenantId: string | null;
  bucket: string;
  bucketId: string;
  subjectType: "user" | "group" | "tenant";
  subjectId: string;
  access: Access;
  expiresAt: number | null;
  createdAt: number;
}

function toGrant(r: Row): Grant {
  return {
    id: r.id as string,
    tenantId: (r.tenant_id as string) || null,
    bucket: r.bucket as string,
    bucketId: r.bucket_id as string,
    subjectType: r.subject_type as Grant["subjectType"],
    subjectId: r.subject_id as string,
    access: r.access as Access,
    expiresAt: num(r.expires_at),
    createdAt: Number(r.created_at),
  };
}

export function listGrants(core: IamCore, ns: string, bucketId: string): Grant[] {
  return (sql(
    core,
    "SELECT * FROM grants WHERE tenant_id = ? AND bucket_id = ? ORDER BY created_at",
  ).all(ns, bucketId) as Row[]).map(toGrant);
}

export function getGrant(core: IamCore, id: string): Grant | null {
  const r = sql(core, "SELECT * FROM grants WHERE id = ?").get(id) as Row | undefined;
  return r ? toGrant(r) : null;
}

export function createGrant(
  core: IamCore,
  input: {
    ns: string;
    bucket: string;
    bucketId: string;
    subjectType: unknown;
    subjectId: unknown;
    access: unknown;
    expiresAt?: unknown;
    createdBy: string;
  },
): Grant {
  if (!["user", "group", "tenant"].includes(input.subjectType as string)) {
    throw new IamError("InvalidRequest", "subjectType must be user, group or tenant");
  }
  if (!(input.access as string in ACCESS_RANK)) {
    throw new IamError("InvalidRequest", "access must be read, write or full");
  }
  if (typeof input.subjectId !== "string" || !input.subjectId) {
    throw new IamError("InvalidRequest", "subjectId is required");
  }
  if (
    input.expiresAt !== undefined && input.expiresAt !== null &&
    (typeof input.expiresAt !== "number" || input.expiresAt <= core.clock.now())
  ) {
    throw new IamError("InvalidRequest", "expiresAt must be a future time in milliseconds");
  }
  // Subjects must live in the bucket's namespace: grants never cross the tenant boundary.
  const ns = input.ns;
  const subject = input.subjectId;
  const ok = input.subjectType === "tenant"
    ? subject === ns && ns !== ""
    : input.subjectType === "user"
    ? !!sql(core, "SELECT 1 FROM users WHERE id = ? AND IFNULL(tenant_id, '') = ?").get(
      subject,
      ns,
    )
    : !!sql(core, "SELECT 1 FROM groups WHERE id = ? AND tenant_id = ?").get(subject, ns);
  if (!ok) throw new IamError("InvalidRequest", "the subject is not in the bucket's tenant");
  const id = newId("p");
  sql(
    core,
    `INSERT INTO grants (id, tenant_id, bucket, bucket_id, subject_type, subject_id, access, expires_at, created_at, created_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    id,
    ns,
    input.bucket,
    input.bucketId,
    input.subjectType as string,
    subject,
    input.access as string,
    (input.expiresAt as number | null | undefined) ?? null,
    core.clock.now(),
    input.createdBy,
  );
  return getGrant(core, id)!;
}

/** Drops the grants of a deleted bucket (they are bound to its id and would never apply). */
export function dropBucketGrants(core: IamCore, ns: string, bucket: string): void {
  sql(core, "DELETE FROM grants WHERE tenant_id = ? AND bucket = ?").run(ns, bucket);
}

export function deleteGrant(core: IamCore, id: string): void {
  sql(core, "DELETE FROM grants WHERE id = ?").run(id);
}

/** The strongest unexpired access a user has on a bucket through grants, or null. */
export function grantedAccess(
  core: IamCore,
  bucketId: string,
  user: { id: string; tenantId: string | null; groupIds: string[] },
): Access | null {
  const now = core.clock.now();
  const rows = sql(
    core,
    `SELECT subject_type, subject_id, access FROM grants
      WHERE bucket_id = ? AND (expires_at IS NULL OR expires_at > ?)`,
  ).all(bucketId, now) as Row[];
  let best: Access | null = null;
  for (const r of rows) {
    const applies = (r.subject_type === "user" && r.subject_id === user.id) ||
      (r.subject_type === "group" && user.groupIds.includes(r.subject_id as string)) ||
      (r.subject_type === "tenant" && r.subject_id === user.tenantId);
    if (!applies) continue;
    const a = r.access as Access;
    if (!best || ACCESS_RANK[a] > ACCESS_RANK[best]) best = a;
  }
  return best;
}
