/**
 * The lifecycle worker: one pass walks every bucket with enabled rules and applies them through
 * the storage Backend, as S3 requests do (delete markers, permanent version removal, upload
 * abort), so counters, blob references and Object Lock are honoured exactly as for a client.
 * Locked versions are never removed. The clock is a parameter: `runOnce(now)` lets tests and
 * admins run a pass "in the future" without waiting days.
 */
import { type Backend, isLocked } from "../../storage/mod.ts";
import { isS3Error } from "../../s3/errors.ts";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import { LIFECYCLE_CONFIG, type LifecycleConfig, type LifecycleRule } from "./config.ts";
import { abortAt, afterDays, currentExpiry, ruleMatches, rulePrefix } from "./rules.ts";
import type { BucketRecord, ChangeOrigin, ObjectRecord } from "../../storage/types.ts";
import { type JobRecorder, UNRECORDED_JOBS } from "../metrics/mod.ts";

/** The origin of the worker's deletes (the event says whether a marker was created). */
const EXPIRY: ChangeOrigin = { event: "LifecycleExpiration:Delete" };
/** Entries asked of each listing page. */
const PAGE = 1000;

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
  storage: Backend,
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
        await storage.deleteObject(bucket, key, { versionId: v.versionId, origin: EXPIRY });
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
      await storage.deleteObject(bucket, key, { ownerId: versions[0].ownerId, origin: EXPIRY });
      res.expired++;
      changed = true;
    } catch (e) {
      if (!lockedError(e)) throw e;
      res.skippedLocked++;
    }
  }
  if (rule.expiration?.expiredObjectDeleteMarker) {
    const left = changed ? await keyVersions(storage, bucket, key) : versions;
    // A delete marker with no versions behind it is "expired": it hides nothing.
    if (left.length === 1 && left[0].deleteMarker && ruleMatches(rule, left[0])) {
      await storage.deleteObject(bucket, key, { versionId: left[0].versionId, origin: EXPIRY });
      res.markersRemoved++;
    }
  }
}

/** Walks a rule's prefix one key at a time (each key's versions are read together). */
async function applyToVersions(
  storage: Backend,
  bucket: BucketRecord,
  rule: LifecycleRule,
  now: number,
  res: LifecycleResult,
): Promise<void> {
  const prefix = rulePrefix(rule);
  let group: ObjectRecord[] = [];
  for await (const rec of eachVersion(storage, bucket, prefix)) {
    if (group.length && group[0].key !== rec.key) {
      // The listing has moved past this key, so changing its versions cannot disturb it.
      await applyToKey(storage, bucket, rule, group, now, res);
      group = [];
    }
    group.push(rec);
  }
  if (group.length) await applyToKey(storage, bucket, rule, group, now, res);
}

/** Every version and delete marker under `prefix`, by key, newest first, a page at a time. */
async function* eachVersion(
  storage: Backend,
  bucket: BucketRecord,
  prefix: string,
): AsyncGenerator<ObjectRecord> {
  let keyMarker = "";
  let versionIdMarker = "";
  for (;;) {
    const page = await storage.listObjectVersions(bucket, {
      prefix,
      delimiter: "",
      keyMarker,
      versionIdMarker,
      maxKeys: PAGE,
    });
    for (const v of page.versions) yield v.rec;
    if (!page.truncated || page.nextKeyMarker === null) return;
    keyMarker = page.nextKeyMarker;
    versionIdMarker = page.nextVersionIdMarker ?? "";
  }
}

/** The versions of one key, newest first (two at most: enough to tell a lone marker). */
async function keyVersions(
  storage: Backend,
  bucket: BucketRecord,
  key: string,
): Promise<ObjectRecord[]> {
  // The key's own versions list before those of longer keys under it.
  const page = await storage.listObjectVersions(bucket, {
    prefix: key,
    delimiter: "",
    keyMarker: "",
    versionIdMarker: "",
    maxKeys: 2,
  });
  return page.versions.map((v) => v.rec).filter((r) => r.key === key);
}

async function abortStaleUploads(
  storage: Backend,
  bucket: BucketRecord,
  rule: LifecycleRule,
  now: number,
  res: LifecycleResult,
): Promise<void> {
  const prefix = rulePrefix(rule);
  const stale: [string, string][] = [];
  let keyMarker = "";
  let uploadIdMarker = "";
  for (;;) {
    const page = await storage.listMultipartUploads(bucket, {
      prefix,
      delimiter: "",
      keyMarker,
      uploadIdMarker,
      maxUploads: PAGE,
    });
    for (const u of page.uploads) {
      const at = abortAt(rule, { key: u.key, initiated: u.initiated });
      if (at !== null && now >= at) stale.push([u.key, u.uploadId]);
    }
    if (!page.truncated || page.nextKeyMarker === null) break;
    keyMarker = page.nextKeyMarker;
    uploadIdMarker = page.nextUploadIdMarker ?? "";
  }
  for (const [key, uploadId] of stale) {
    try {
      await storage.abortMultipartUpload(bucket, key, uploadId);
      res.uploadsAborted++;
    } catch (e) {
      if (!(isS3Error(e) && e.code === "NoSuchUpload")) throw e;
    }
  }
}

/** One pass over every bucket, as if the time were `now`. */
export async function runLifecyclePass(storage: Backend, now: number): Promise<LifecycleResult> {
  const res: LifecycleResult = {
    buckets: 0,
    expired: 0,
    noncurrentRemoved: 0,
    markersRemoved: 0,
    uploadsAborted: 0,
    skippedLocked: 0,
  };
  // Only the buckets with rules are read (one scan finds them).
  const configured = new Set(await storage.bucketsWithConfig(LIFECYCLE_CONFIG));
  for (const bucket of configured.size ? await storage.listAllBuckets() : []) {
    if (!configured.has(bucket.id)) continue;
    const cfg = await storage.getBucketConfig<LifecycleConfig>(bucket.id, LIFECYCLE_CONFIG);
    const rules = cfg?.rules.filter((r) => r.status === "Enabled") ?? [];
    if (!rules.length) continue;
    res.buckets++;
    for (const rule of rules) {
      if (rule.expiration || rule.noncurrentExpiration) {
        await applyToVersions(storage, bucket, rule, now, res);
      }
      if (rule.abortIncompleteDays !== undefined) {
        await abortStaleUploads(storage, bucket, rule, now, res);
      }
    }
  }
  return res;
}

export interface LifecycleWorker {
  /** Runs one pass now (or as of `now`); concurrent calls share the running pass. */
  runOnce(now?: number): Promise<LifecycleResult>;
  /** Stops the timer; resolves once a pass in progress has ended (storage may close then). */
  stop(): Promise<void>;
}

/**
 * Starts the periodic worker (`intervalMs` 0 = only on demand); every pass, on demand too, is
 * recorded as the job `lifecycle` (`opts.jobs`: metrics).
 */
export function startLifecycleWorker(
  storage: Backend,
  opts: { intervalMs: number; log: Logger; clock: Clock; jobs?: JobRecorder },
): LifecycleWorker {
  const jobs = opts.jobs ?? UNRECORDED_JOBS;
  let running: Promise<LifecycleResult> | null = null;
  const runOnce = (now?: number) => {
    running ??= jobs.run(
      "lifecycle",
      () => runLifecyclePass(storage, now ?? opts.clock.now()),
    ).finally(() => {
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
    stop: async () => {
      if (timer !== null) clearInterval(timer);
      // Its caller (or the timer's handler) reports how it ended.
      await running?.catch(() => {});
    },
  };
}
