/**
 * The lifecycle worker: one pass walks every bucket with enabled rules and applies them through
 * the same storage functions S3 requests use (delete markers, permanent version removal, upload
 * abort), so counters, blob references and Object Lock are honoured exactly as for a client.
 * Locked versions are never removed. The clock is a parameter: `runOnce(now)` lets tests and
 * admins run a pass "in the future" without waiting days.
 */
import { getBucketById, getBucketConfig } from "../../storage/buckets.ts";
import { deleteObject } from "../../storage/objects.ts";
import { isLocked } from "../../storage/lock.ts";
import { keyVersions, walkVersions } from "../../storage/version_walk.ts";
import { uploadListPrefix } from "../../storage/meta/keys.ts";
import { abortUpload } from "../../storage/multipart.ts";
import { isS3Error } from "../../s3/errors.ts";
import { LIFECYCLE_CONFIG, type LifecycleConfig, type LifecycleRule } from "./config.ts";
import { abortAt, afterDays, currentExpiry, ruleMatches, rulePrefix } from "./rules.ts";
import type { Logger, StorageCore } from "../../storage/core.ts";
import type { BucketRecord, ObjectRecord } from "../../storage/types.ts";

export interface LifecycleResult {
  buckets: number;
  /** Current versions expired (a delete marker added, or removed in unversioned buckets). */
  expired: number;
  noncurrentRemoved: number;
  markersRemoved: number;
  uploadsAborted: number;
  /** Versions a rule selected but Object Lock protects. */
  skippedLocked: number;
}

const lockedError = (e: unknown) => isS3Error(e) && e.code === "AccessDenied";

/** Applies one rule to the versions of one key (newest first). */
async function applyToKey(
  core: StorageCore,
  bucket: BucketRecord,
  rule: LifecycleRule,
  versions: ObjectRecord[],
  now: number,
  res: LifecycleResult,
): Promise<void> {
  const key = versions[0].key;
  const nve = rule.noncurrentExpiration;
  let changed = false;
  if (nve) {
    let newer = 0;
    for (let i = 1; i < versions.length; i++) {
      const v = versions[i];
      const rank = newer;
      if (!v.deleteMarker) newer++;
      if (!ruleMatches(rule, v)) continue;
      if (!v.deleteMarker && nve.newer !== undefined && rank < nve.newer) continue;
      // A version becomes noncurrent when its successor is written.
      if (now < afterDays(versions[i - 1].lastModified, nve.days)) continue;
      if (isLocked(v, now)) {
        res.skippedLocked++;
        continue;
      }
      try {
        await deleteObject(core, bucket, key, { versionId: v.versionId });
        if (v.deleteMarker) res.markersRemoved++;
        else res.noncurrentRemoved++;
        changed = true;
      } catch (e) {
        if (!lockedError(e)) throw e;
        res.skippedLocked++;
      }
    }
  }
  const at = currentExpiry(rule, versions[0]);
  if (at !== null && now >= at) {
    try {
      await deleteObject(core, bucket, key, { ownerId: versions[0].ownerId });
      res.expired++;
      changed = true;
    } catch (e) {
      if (!lockedError(e)) throw e;
      res.skippedLocked++;
    }
  }
  if (rule.expiration?.expiredObjectDeleteMarker) {
    const left = changed ? await keyVersions(core, bucket.id, key) : versions;
    // A delete marker with no versions behind it is "expired": it hides nothing.
    if (left.length === 1 && left[0].deleteMarker && ruleMatches(rule, left[0])) {
      await deleteObject(core, bucket, key, { versionId: left[0].versionId });
      res.markersRemoved++;
    }
  }
}

/** Walks a rule's prefix one key at a time (each key's versions are read together). */
async function applyToVersions(
  core: StorageCore,
  bucket: BucketRecord,
  rule: LifecycleRule,
  now: number,
  res: LifecycleResult,
): Promise<void> {
  const prefix = rulePrefix(rule);
  let group: ObjectRecord[] = [];
  for await (const v of walkVersions(core, bucket.id, { name: prefix }, null)) {
    if (!v.name.startsWith(prefix)) break;
    if (group.length && group[0].key !== v.name) {
      // The listing has moved past this key, so changing its versions cannot disturb it.
      await applyToKey(core, bucket, rule, group, now, res);
      group = [];
    }
    group.push(v.rec);
  }
  if (group.length) await applyToKey(core, bucket, rule, group, now, res);
}

async function abortStaleUploads(
  core: StorageCore,
  bucket: BucketRecord,
  rule: LifecycleRule,
  now: number,
  res: LifecycleResult,
): Promise<void> {
  const prefix = rulePrefix(rule);
  const stale: [string, string][] = [];
  const iter = core.kv.list({
    prefix: uploadListPrefix(bucket.id),
    start: [...uploadListPrefix(bucket.id), prefix],
  });
  for await (const e of iter) {
    const [, , key, initiated, uploadId] = e.key as [string, string, string, number, string];
    if (!key.startsWith(prefix)) break;
    const at = abortAt(rule, { key, initiated });
    if (at !== null && now >= at) stale.push([key, uploadId]);
  }
  for (const [key, uploadId] of stale) {
    try {
      await abortUpload(core, bucket, key, uploadId);
      res.uploadsAborted++;
    } catch (e) {
      if (!(isS3Error(e) && e.code === "NoSuchUpload")) throw e;
    }
  }
}

/** One pass over every bucket, as if the time were `now`. */
export async function runLifecyclePass(core: StorageCore, now: number): Promise<LifecycleResult> {
  const res: LifecycleResult = {
    buckets: 0,
    expired: 0,
    noncurrentRemoved: 0,
    markersRemoved: 0,
    uploadsAborted: 0,
    skippedLocked: 0,
  };
  const ids: string[] = [];
  for await (const e of core.kv.list({ prefix: ["bucketid"] })) ids.push(e.key[1] as string);
  for (const id of ids) {
    const bucket = await getBucketById(core, id);
    if (!bucket) continue;
    const cfg = await getBucketConfig<LifecycleConfig>(core, id, LIFECYCLE_CONFIG);
    const rules = cfg?.rules.filter((r) => r.status === "Enabled") ?? [];
    if (!rules.length) continue;
    res.buckets++;
    for (const rule of rules) {
      if (rule.expiration || rule.noncurrentExpiration) {
        await applyToVersions(core, bucket, rule, now, res);
      }
      if (rule.abortIncompleteDays !== undefined) {
        await abortStaleUploads(core, bucket, rule, now, res);
      }
    }
  }
  return res;
}

export interface LifecycleWorker {
  /** Runs one pass now (or as of `now`); concurrent calls share the running pass. */
  runOnce(now?: number): Promise<LifecycleResult>;
  stop(): void;
}

/** Starts the periodic worker (`intervalMs` 0 = only on demand). */
export function startLifecycleWorker(
  core: StorageCore,
  opts: { intervalMs: number; log: Logger },
): LifecycleWorker {
  let running: Promise<LifecycleResult> | null = null;
  const runOnce = (now?: number) => {
    running ??= runLifecyclePass(core, now ?? core.clock.now()).finally(() => {
      running = null;
    });
    return running;
  };
  const timer = opts.intervalMs > 0
    ? setInterval(() => {
      runOnce().then((r) => {
        if (r.expired || r.noncurrentRemoved || r.markersRemoved || r.uploadsAborted) {
          opts.log.info("lifecycle pass", { ...r });
        }
      }).catch((e) => opts.log.error("lifecycle pass failed", { error: String(e) }));
    }, opts.intervalMs)
    : null;
  return {
    runOnce,
    stop: () => {
      if (timer !== null) clearInterval(timer);
    },
  };
}
