/**
 * Object Lock rules shared by every write and delete path: when a version is protected, how a
 * bucket's default retention applies to new versions, and which retention changes are allowed.
 */
import { S3Error } from "../../s3/errors.ts";
import type { ObjectRecord } from "../types.ts";

export type RetentionMode = "GOVERNANCE" | "COMPLIANCE";
export type Retention = NonNullable<ObjectRecord["retention"]>;

/** Bucket config kind under which the Object Lock configuration is stored. */
export const LOCK_CONFIG = "object-lock";

export interface DefaultRetentionRule {
  mode: RetentionMode;
  days?: number;
  years?: number;
}

/** The stored Object Lock configuration of a bucket (`["bcfg", id, "object-lock"]`). */
export interface LockConfig {
  enabled: true;
  rule?: DefaultRetentionRule;
}

const DAY_MS = 86_400_000;

/** The retention a new version gets from the bucket's default rule, if any. */
export function defaultRetention(cfg: LockConfig | null, now: number): Retention | undefined {
  const r = cfg?.rule;
  if (!r) return undefined;
  const days = r.days ?? (r.years ?? 0) * 365;
  return { mode: r.mode, until: now + days * DAY_MS };
}

/** Whether retention is still in force at `now`. */
export function retentionActive(rec: ObjectRecord, now: number): boolean {
  return !!rec.retention && rec.retention.until > now;
}

/** Whether a version is protected from deletion at `now` (retention or legal hold). */
export function isLocked(rec: ObjectRecord, now: number): boolean {
  return !!rec.legalHold || retentionActive(rec, now);
}

/**
 * Throws `AccessDenied` when a version may not be removed (or overwritten in place): a legal
 * hold always protects; COMPLIANCE retention always protects; GOVERNANCE retention yields to
 * the bypass header.
 */
export function assertDeletable(rec: ObjectRecord, now: number, bypassGovernance: boolean): void {
  if (rec.deleteMarker) return;
  if (rec.legalHold) {
    throw new S3Error("AccessDenied", { message: "Object is under a legal hold" });
  }
  if (!retentionActive(rec, now)) return;
  if (rec.retention!.mode === "GOVERNANCE" && bypassGovernance) return;
  throw new S3Error("AccessDenied", { message: "Object is WORM protected and cannot be deleted" });
}

/**
 * Checks a PutObjectRetention change against the current retention: COMPLIANCE may only be
 * extended; an active GOVERNANCE retention may be shortened, switched or removed only with the
 * bypass. `next` undefined means removal.
 */
export function assertRetentionChange(
  cur: Retention | undefined,
  next: Retention | undefined,
  now: number,
  bypassGovernance: boolean,
): void {
  if (!cur || cur.until <= now) return;
  const weakens = !next || next.until < cur.until || next.mode !== cur.mode;
  if (!weakens) return;
  if (cur.mode === "COMPLIANCE") {
    throw new S3Error("AccessDenied", {
      message: "Cannot shorten or remove a COMPLIANCE retention period",
    });
  }
  if (!bypassGovernance) {
    throw new S3Error("AccessDenied", {
      message: "Changing a GOVERNANCE retention requires x-amz-bypass-governance-retention",
    });
  }
}

/** Lock settings on a write to a bucket without Object Lock are refused, as S3 does. */
export function assertLockAllowed(
  rec: Pick<ObjectRecord, "retention" | "legalHold">,
  bucketLocked: boolean,
): void {
  if (bucketLocked) return;
  if (rec.retention || rec.legalHold !== undefined) {
    throw new S3Error("InvalidRequest", {
      message: "Bucket is missing Object Lock Configuration",
    });
  }
}
