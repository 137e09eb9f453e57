/**
 * Per-bucket quotas (bytes and objects), beside the tenants' quotas. A bucket's own limits are
 * settings rows `bucketQuota/<bucket id>` (as tenants' public access blocks are), so no schema
 * change; a limit a bucket does not set comes from the `storage` settings' default for buckets
 * (0 there: none). Storage enforces them in the commit that publishes a write (usage.ts), through
 * `QuotaPolicy.bucketLimitsOf`, on every write: so the table is kept in memory (one entry per
 * bucket that has a quota), read once at start and changed only through it.
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

/** A stored row: the limits, and the bucket's name (the S3 delete hook knows only names). */
interface Row extends BucketQuota {
  ns: string;
  bucket: string;
}

const PREFIX = "bucketQuota/";

export class BucketQuotas {
  /** Bucket id -> its own limits (only buckets that set some). */
  readonly #own = new Map<string, Row>();
  #defaults: BucketQuota;

  constructor(private readonly core: { db: Db }) {
    const rows = sql(core, "SELECT key, value FROM settings WHERE key LIKE 'bucketQuota/%'")
      .all() as { key: string; value: string }[];
    for (const r of rows) this.#own.set(r.key.slice(PREFIX.length), JSON.parse(r.value) as Row);
    const s = sql(core, "SELECT value FROM settings WHERE key = 'storage'").get() as
      | { value: string }
      | undefined;
    this.#defaults = defaultsOf({ ...DEFAULT_SETTINGS.storage, ...(s ? JSON.parse(s.value) : {}) });
  }

  /** The bucket's own limits (both null when it sets none). */
  get(bucketId: string): BucketQuota {
    const q = this.#own.get(bucketId);
    return { maxBytes: q?.maxBytes ?? null, maxObjects: q?.maxObjects ?? null };
  }

  /** The default for buckets without limits of their own. */
  defaults(): BucketQuota {
    return { ...this.#defaults };
  }

  /** The storage settings changed (`LiveSettings` listener). */
  setDefaults(s: StorageSettings): void {
    this.#defaults = defaultsOf(s);
  }

  /** The limits in force: the bucket's own, else the default; null when nothing limits it. */
  limitsOf(bucketId: string): BucketQuotaLimits | null {
    const own = this.#own.get(bucketId);
    const maxBytes = own?.maxBytes ?? this.#defaults.maxBytes;
    const maxObjects = own?.maxObjects ?? this.#defaults.maxObjects;
    return maxBytes === null && maxObjects === null ? null : { maxBytes, maxObjects };
  }

  /** Sets a bucket's own limits (both null removes them). */
  put(bucket: { id: string; ns: string; name: string }, q: BucketQuota): void {
    const key = PREFIX + bucket.id;
    if (q.maxBytes === null && q.maxObjects === null) {
      sql(this.core, "DELETE FROM settings WHERE key = ?").run(key);
      this.#own.delete(bucket.id);
      return;
    }
    const row: Row = { ns: bucket.ns, bucket: bucket.name, ...q };
    sql(
      this.core,
      "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    ).run(key, JSON.stringify(row));
    this.#own.set(bucket.id, row);
  }

  /** Whether buckets without limits of their own get the default ones. */
  hasDefaults(): boolean {
    return this.#defaults.maxBytes !== null || this.#defaults.maxObjects !== null;
  }

  /** The ids of the buckets with limits of their own. */
  ownIds(): string[] {
    return [...this.#own.keys()];
  }

  /** Removes the limits of a deleted bucket. */
  drop(ns: string, name: string): void {
    for (const [id, r] of this.#own) {
      if (r.ns !== ns || r.bucket !== name) continue;
      sql(this.core, "DELETE FROM settings WHERE key = ?").run(PREFIX + id);
      this.#own.delete(id);
    }
  }
}

function defaultsOf(s: StorageSettings): BucketQuota {
  return {
    maxBytes: s.defaultBucketMaxBytes || null,
    maxObjects: s.defaultBucketMaxObjects || null,
  };
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
