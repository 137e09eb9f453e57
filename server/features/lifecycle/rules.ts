/**
 * What a lifecycle rule means for one version: whether its filter matches, and when S3 would
 * expire it (days are counted from the relevant time and rounded up to the next midnight UTC).
 */
import type { LifecycleConfig, LifecycleRule } from "./config.ts";
import type { ObjectRecord } from "../../storage/types.ts";

export const DAY_MS = 86_400_000;

/** `t + days`, rounded up to midnight UTC, as S3 computes expiration dates. */
export function afterDays(t: number, days: number): number {
  const x = t + days * DAY_MS;
  return Math.ceil(x / DAY_MS) * DAY_MS;
}

/** The key prefix a rule is limited to ("" = whole bucket). */
export function rulePrefix(r: LifecycleRule): string {
  return r.legacyPrefix ?? r.filter?.prefix ?? "";
}

/**
 * Whether a rule's filter matches a version: prefix, every tag, and strict size bounds. Tag and
 * size predicates never match a delete marker (it has neither).
 */
export function ruleMatches(r: LifecycleRule, rec: ObjectRecord): boolean {
  if (!rec.key.startsWith(rulePrefix(r))) return false;
  const f = r.filter;
  if (!f) return true;
  if (f.tags?.length) {
    if (rec.deleteMarker) return false;
    for (const [k, v] of f.tags) if (rec.tags?.[k] !== v) return false;
  }
  if (f.sizeGt !== undefined && (rec.deleteMarker || !(rec.size > f.sizeGt))) return false;
  if (f.sizeLt !== undefined && (rec.deleteMarker || !(rec.size < f.sizeLt))) return false;
  return true;
}

/** When the current version `rec` expires under rule `r`, or null when it does not. */
export function currentExpiry(r: LifecycleRule, rec: ObjectRecord): number | null {
  if (r.status !== "Enabled" || !r.expiration || rec.deleteMarker) return null;
  if (!ruleMatches(r, rec)) return null;
  if (r.expiration.days !== undefined) return afterDays(rec.lastModified, r.expiration.days);
  if (r.expiration.date !== undefined) return Date.parse(r.expiration.date);
  return null;
}

/** The earliest time `when` gives across the rules, with that rule's id. */
function earliest(
  cfg: LifecycleConfig | null,
  when: (r: LifecycleRule) => number | null,
): { at: number; ruleId: string } | null {
  let best: { at: number; ruleId: string } | null = null;
  for (const r of cfg?.rules ?? []) {
    const at = when(r);
    if (at !== null && (best === null || at < best.at)) best = { at, ruleId: r.id };
  }
  return best;
}

/** The earliest expiration of a current version across the rules, with the rule id. */
export function expirationOf(
  cfg: LifecycleConfig | null,
  rec: ObjectRecord,
): { at: number; ruleId: string } | null {
  return earliest(cfg, (r) => currentExpiry(r, rec));
}

/** An open multipart upload: its key and when it was initiated. */
export interface UploadAge {
  key: string;
  initiated: number;
}

/**
 * When rule `r` aborts the upload (AbortIncompleteMultipartUpload: days after initiation,
 * rounded up to midnight UTC, for keys under the rule's prefix), or null when it does not.
 */
export function abortAt(r: LifecycleRule, up: UploadAge): number | null {
  if (r.status !== "Enabled" || r.abortIncompleteDays === undefined) return null;
  if (!up.key.startsWith(rulePrefix(r))) return null;
  return afterDays(up.initiated, r.abortIncompleteDays);
}

/** The earliest abort of an upload across the rules, with the rule id (the abort headers). */
export function abortOf(
  cfg: LifecycleConfig | null,
  up: UploadAge,
): { at: number; ruleId: string } | null {
  return earliest(cfg, (r) => abortAt(r, up));
}

/** The `x-amz-expiration` header value, as S3 formats it. */
export function expirationHeader(e: { at: number; ruleId: string }): string {
  const id = encodeURIComponent(e.ruleId);
  return `expiry-date="${new Date(e.at).toUTCString()}", rule-id="${id}"`;
}
