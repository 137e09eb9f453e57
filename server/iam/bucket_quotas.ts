/**
 * Per-bucket quotas (bytes and objects), beside the tenants' quotas. A bucket's own limits are
 * settings rows `bucketQuota/<bucket id>` (as tenants' public access blocks are), so no schema
 * change; a limit a bucket does not set comes from the `storage` settings' default for buckets
 * (0 there: none). Storage enforces them in the commit that publishes a write (usage.ts), through
 * `QuotaPolicy.bucketLimitsOf`.
 */
import type { Db } from "../db/mod.ts";
import type { BucketQuotaLimits } from "../storage/types.ts";
import { sql } from "./core.ts";
import { DEFAULT_SETTINGS, type StorageSettings } from "./settings.ts";

/** What a bucket sets itself (null: the default applies). */
export interface BucketQuota {
  maxBytes: number | null;
  maxObjects: number | null;
}

const rowKey = (bucketId: string) => `bucketQuota/${bucketId}`;

/** The bucket's own limits (both null when it sets none). */
export function getBucketQuota(core: { db: Db }, bucketId: string): BucketQuota {
  const r = sql(core, "SELECT value FROM settings WHERE key = ?").get(rowKey(bucketId)) as
    | { value: string }
    | undefined;
  if (!r) return { maxBytes: null, maxObjects: null };
  const v = JSON.parse(r.value) as BucketQuota;
  return { maxBytes: v.maxBytes ?? null, maxObjects: v.maxObjects ?? null };
}

/** The default for buckets without limits of their own (`storage` settings). */
export function bucketQuotaDefaults(core: { db: Db }): BucketQuota {
  const r = sql(core, "SELECT value FROM settings WHERE key = 'storage'").get() as
    | { value: string }
    | undefined;
  const s: StorageSettings = { ...DEFAULT_SETTINGS.storage, ...(r ? JSON.parse(r.value) : {}) };
  return {
    maxBytes: s.defaultBucketMaxBytes || null,
    maxObjects: s.defaultBucketMaxObjects || null,
  };
}

/** The limits in force: the bucket's own, else the default; null when neither limits anything. */
export function bucketLimitsOf(core: { db: Db }, bucketId: string): BucketQuotaLimits | null {
  const own = getBucketQuota(core, bucketId);
  const def = own.maxBytes !== null && own.maxObjects !== null
    ? { maxBytes: null, maxObjects: null }
    : bucketQuotaDefaults(core);
  const out = {
    maxBytes: own.maxBytes ?? def.maxBytes,
    maxObjects: own.maxObjects ?? def.maxObjects,
  };
  return out.maxBytes === null && out.maxObjects === null ? null : out;
}

/** Validates `{maxBytes, maxObjects}` (each a non-negative integer or null); returns the problem. */
export function bucketQuotaProblem(v: Record<string, unknown>): string | null {
  for (const k of Object.keys(v)) {
    if (k !== "maxBytes" && k !== "maxObjects") return `unknown field "${k}"`;
  }
  for (const k of ["maxBytes", "maxObjects"]) {
    const n = v[k];
    if (n === undefined || n === null) continue;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      return `${k} must be a non-negative integer or null`;
    }
  }
  return null;
}

/** Sets a bucket's own limits (both null removes them). */
export function putBucketQuota(
  core: { db: Db },
  bucket: { id: string; ns: string; name: string },
  q: BucketQuota,
): void {
  if (q.maxBytes === null && q.maxObjects === null) {
    sql(core, "DELETE FROM settings WHERE key = ?").run(rowKey(bucket.id));
    return;
  }
  sql(
    core,
    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  ).run(
    rowKey(bucket.id),
    JSON.stringify({ ns: bucket.ns, bucket: bucket.name, ...q }),
  );
}

/** Removes the limits of a deleted bucket (by name: the S3 request hook knows no id). */
export function dropBucketQuota(core: { db: Db }, ns: string, name: string): void {
  sql(
    core,
    "DELETE FROM settings WHERE key LIKE 'bucketQuota/%' AND json_extract(value, '$.ns') = ? AND json_extract(value, '$.bucket') = ?",
  ).run(ns, name);
}
