/**
 * Bucket replication as the rest of the server sees it: rules put and removed (S3 and the
 * console), destinations, the follower the feed dispatcher hands changes to, the worker pool,
 * status per rule, the failure list with retry, pause and resume, and "sync now" (compares the
 * bucket with each destination by key, size and ETag, and queues what differs).
 */
import { S3Error } from "../../s3/errors.ts";
import type { Backend } from "../../storage/mod.ts";
import type { BucketRecord } from "../../storage/types.ts";
import type { Db } from "../../db/mod.ts";
import type { SecretBox } from "../../iam/secrets.ts";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import type { OutboundPolicy, Resolve } from "../../http/outbound.ts";
import {
  REPLICATION_CONFIG,
  REPLICATION_FOLLOWER,
  type ReplicationConfig,
  type ReplicationRule,
  ruleMatches,
} from "./config.ts";
import { DestinationStore } from "./destinations.ts";
import { type NewTask, ReplicationQueue, type RuleCounts, type Task } from "./queue.ts";
import { ReplicationFollower } from "./follower.ts";
import { ReplicationWorker } from "./worker.ts";
import { destinationClient, listDestination, probeDestination } from "./copier.ts";
import { ReplicationMetrics } from "./metrics.ts";
import { setFollowing } from "../feed/dispatcher.ts";
import { type ModeSetting, type ReplicationMode, ReplicationModes } from "./modes.ts";

/** How often scheduled syncs are looked for. */
const SCHEDULE_CHECK_MS = 30_000;

export interface ReplicationOptions {
  db: Db;
  box: SecretBox;
  storage: Backend;
  clock: Clock;
  log: Logger;
  outbound: OutboundPolicy;
  /** Copies at once (`--replication-workers`). */
  concurrency: number;
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  resolve?: Resolve;
}

/** A rule with its queue figures, as the console shows it. */
export interface RuleStatus extends ReplicationRule {
  paused: boolean;
  queued: number;
  dead: number;
  /** Age of the oldest queued task (ms), null when none. */
  lagMs: number | null;
}

export class Replication {
  readonly destinations: DestinationStore;
  readonly queue: ReplicationQueue;
  readonly follower: ReplicationFollower;
  readonly worker: ReplicationWorker;
  readonly metrics: ReplicationMetrics;
  readonly modes: ReplicationModes;
  readonly #o: ReplicationOptions;
  #timer: ReturnType<typeof setInterval> | null = null;
  /** The scheduled syncs in progress (one pass at a time). */
  #scheduling: Promise<number> | null = null;

  constructor(o: ReplicationOptions) {
    this.#o = o;
    this.destinations = new DestinationStore({
      db: o.db,
      box: o.box,
      clock: o.clock,
      outbound: o.outbound,
      resolve: o.resolve,
    });
    this.queue = new ReplicationQueue(o.db);
    this.modes = new ReplicationModes(o.db);
    this.metrics = new ReplicationMetrics(this.queue, o.clock);
    this.worker = new ReplicationWorker({
      storage: o.storage,
      queue: this.queue,
      destinations: this.destinations,
      clock: o.clock,
      log: o.log,
      concurrency: o.concurrency,
      maxAttempts: o.maxAttempts ?? 12,
      backoffBaseMs: o.backoffBaseMs ?? 1000,
      backoffMaxMs: o.backoffMaxMs ?? 10 * 60_000,
      onTask: (t, outcome, bytes) => this.metrics.task(t, outcome, bytes),
    });
    this.follower = new ReplicationFollower(
      o.storage,
      this.queue,
      o.clock,
      () => this.worker.kick(),
      (ns, bucket, versions) => this.worker.abandon(ns, bucket, versions),
    );
  }

  start(): void {
    this.worker.start();
    this.#timer ??= setInterval(() => void this.runSchedules(), SCHEDULE_CHECK_MS);
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.#scheduling?.catch(() => {});
    await this.worker.stop();
  }

  /**
   * Runs the syncs of scheduled buckets whose interval has passed (the timer calls it; tests
   * with their clock). How many buckets were synced.
   */
  runSchedules(): Promise<number> {
    this.#scheduling ??= this.#runSchedules().finally(() => this.#scheduling = null);
    return this.#scheduling;
  }

  async #runSchedules(): Promise<number> {
    const { storage, clock, log } = this.#o;
    let n = 0;
    for (const due of this.modes.due(clock.now())) {
      const b = await storage.getBucket(due.ns, due.bucket).catch(() => null);
      if (!b || b.id !== due.bucketId) {
        this.modes.remove(due.bucketId); // the bucket is gone
        continue;
      }
      try {
        await this.syncNow(b);
        n++;
      } catch (e) {
        log.warn("scheduled replication sync failed", { bucket: b.name, error: String(e) });
      }
      this.modes.synced(b.id, clock.now());
    }
    return n;
  }

  /**
   * Sets how a bucket's rules are carried out. Real time follows the bucket's change feed;
   * scheduled (every `intervalSeconds`, at least 60) and manual do not.
   */
  async setMode(
    bucket: BucketRecord,
    mode: ReplicationMode,
    intervalSeconds: number | null = null,
  ): Promise<ModeSetting> {
    if (mode !== "realtime" && mode !== "scheduled" && mode !== "manual") {
      throw new S3Error("InvalidArgument", { message: `Unknown replication mode "${mode}"` });
    }
    if (
      mode === "scheduled" &&
      (intervalSeconds === null || !Number.isInteger(intervalSeconds) || intervalSeconds < 60)
    ) {
      throw new S3Error("InvalidArgument", {
        message: "A scheduled mode needs an interval of at least 60 seconds",
      });
    }
    this.modes.set(bucket, mode, intervalSeconds);
    const hasRules = (await this.config(bucket)) !== null;
    await setFollowing(
      this.#o.storage,
      bucket,
      REPLICATION_FOLLOWER,
      hasRules && mode === "realtime",
    );
    return this.modes.get(bucket.id);
  }

  /**
   * Stores a bucket's rules (null: removes them) once every destination they name is
   * registered in the bucket's namespace, follows the bucket's changes while it has rules, and
   * drops the queued tasks of rules that are gone or disabled: the versions they would have
   * copied become FAILED (PENDING would never change again).
   */
  async configure(bucket: BucketRecord, cfg: ReplicationConfig | null): Promise<void> {
    const { storage } = this.#o;
    for (const r of cfg?.rules ?? []) {
      if (!this.destinations.get(bucket.ns, r.destination)) {
        throw new S3Error("InvalidRequest", {
          message:
            `Destination bucket must exist: no replication destination "${r.destination}" is registered`,
        });
      }
    }
    // Following first: a write between the two steps is recorded and then matched, never lost.
    const realtime = this.modes.get(bucket.id).mode === "realtime";
    if (cfg && realtime) await setFollowing(storage, bucket, REPLICATION_FOLLOWER, true);
    await storage.putBucketConfig(bucket.id, REPLICATION_CONFIG, cfg);
    if (!cfg) {
      await setFollowing(storage, bucket, REPLICATION_FOLLOWER, false);
      this.modes.remove(bucket.id);
    }
    const enabled = (cfg?.rules ?? []).filter((r) => r.status === "Enabled").map((r) => r.id);
    const dropped = this.queue.dropRules(bucket.id, enabled);
    await this.worker.abandon(bucket.ns, bucket.name, dropped);
  }

  async config(bucket: BucketRecord): Promise<ReplicationConfig | null> {
    return await this.#o.storage.getBucketConfig<ReplicationConfig>(bucket.id, REPLICATION_CONFIG);
  }

  /** The bucket's rules with their queue figures. */
  async status(bucket: BucketRecord): Promise<RuleStatus[]> {
    const cfg = await this.config(bucket);
    const counts = new Map<string, RuleCounts>(
      this.queue.counts(bucket.id).map((c) => [c.ruleId, c]),
    );
    const paused = new Set(this.queue.paused(bucket.id));
    const now = this.#o.clock.now();
    return (cfg?.rules ?? []).map((r) => {
      const c = counts.get(r.id);
      return {
        ...r,
        paused: paused.has(r.id),
        queued: c?.queued ?? 0,
        dead: c?.dead ?? 0,
        lagMs: c?.oldest != null ? Math.max(0, now - c.oldest) : null,
      };
    });
  }

  /**
   * Tries a destination: the endpoint check, then HeadBucket with its credentials. The reason
   * it cannot be used, in words, or null when it answers.
   */
  async testDestination(ns: string, name: string): Promise<string | null> {
    const opened = await this.destinations.openCredentials(ns, name);
    if (!opened) return `no replication destination "${name}" is registered`;
    const client = destinationClient(opened.dest, opened.secretKey);
    try {
      await this.destinations.checkBeforeConnect(opened.dest);
      await probeDestination(client, opened.dest);
      return null;
    } catch (e) {
      return (e as Error).message;
    } finally {
      client.destroy();
    }
  }

  failures(bucket: BucketRecord): Task[] {
    return this.queue.failures(bucket.id);
  }

  /** Dead-lettered tasks (all of the bucket's, or one) queued again, backoffs cut short. */
  retry(bucket: BucketRecord, id?: number): number {
    const n = this.queue.retry(bucket.id, this.#o.clock.now(), id);
    this.worker.kick();
    return n;
  }

  async pause(bucket: BucketRecord, ruleId: string, paused: boolean): Promise<void> {
    const cfg = await this.config(bucket);
    if (!cfg?.rules.some((r) => r.id === ruleId)) {
      throw new S3Error("InvalidArgument", { message: `No replication rule "${ruleId}"` });
    }
    this.queue.setPaused(bucket.id, ruleId, paused);
    if (!paused) this.worker.kick();
  }

  /**
   * Sync now: lists the bucket and each enabled rule's destination side by side and queues a
   * copy of every selected object the destination lacks or holds with another size or ETag
   * (multipart ETags depend on part sizes, so those compare by size). How many were queued.
   */
  async syncNow(bucket: BucketRecord, ruleId?: string): Promise<number> {
    const cfg = await this.config(bucket);
    const rules = (cfg?.rules ?? []).filter((r) =>
      r.status === "Enabled" && (ruleId === undefined || r.id === ruleId)
    );
    let queued = 0;
    const run = `sync:${this.#o.clock.now()}:${crypto.randomUUID().slice(0, 8)}`;
    for (const rule of rules) queued += await this.#syncRule(bucket, rule, run);
    if (queued) this.worker.kick();
    return queued;
  }

  async #syncRule(bucket: BucketRecord, rule: ReplicationRule, run: string): Promise<number> {
    const { storage } = this.#o;
    const opened = await this.destinations.openCredentials(bucket.ns, rule.destination);
    if (!opened) {
      throw new S3Error("InvalidRequest", {
        message: `No replication destination "${rule.destination}" is registered`,
      });
    }
    await this.destinations.checkBeforeConnect(opened.dest);
    const client = destinationClient(opened.dest, opened.secretKey);
    const prefix = rule.legacyPrefix ?? rule.filter?.prefix ?? "";
    const needsTags = !!rule.filter?.tags?.length;
    let remote: { key: string; size: number; etag: string }[] = [];
    let ri = 0;
    let token: string | undefined;
    let remoteDone = false;
    const nextRemote = async () => {
      while (ri >= remote.length && !remoteDone) {
        const page = await listDestination(client, opened.dest, prefix, undefined, token);
        remote = page.objects;
        ri = 0;
        token = page.next;
        remoteDone = !token;
      }
      return ri < remote.length ? remote[ri] : null;
    };
    let after = "";
    let n = 0;
    const batch: NewTask[] = [];
    try {
      for (;;) {
        const page = await storage.listObjects(bucket, {
          prefix,
          delimiter: "",
          after,
          maxKeys: 1000,
        });
        for (const o of page.objects) {
          let r = await nextRemote();
          while (r && r.key < o.key) {
            ri++;
            r = await nextRemote();
          }
          const same = r && r.key === o.key && r.size === o.size &&
            (o.etag.includes("-") || r.etag.includes("-") || r.etag === o.etag);
          if (same) continue;
          // A key already queued is copied by its task; a dead-lettered one is queued again
          // (the sync retries it) unless it is SSE-C, which would only fail again.
          const queued = this.queue.taskState(bucket.id, rule.id, o.key);
          if (queued === "queued") continue;
          if (needsTags || queued === "dead" || !ruleMatches(rule, o.key, undefined)) {
            const rec = await storage.getObjectRecord(bucket, o.key).catch(() => null);
            if (!rec || !ruleMatches(rule, o.key, rec.tags)) continue;
            if (queued === "dead" && rec.enc?.mode === "SSE-C") continue;
          }
          batch.push({
            seq: `${run}:${n++}`,
            bucketId: bucket.id,
            ns: bucket.ns,
            bucket: bucket.name,
            ruleId: rule.id,
            destination: rule.destination,
            key: o.key,
            versionId: null,
            op: "put",
            size: o.size,
          });
          if (batch.length >= 500) this.queue.add(batch.splice(0), this.#o.clock.now());
        }
        if (!page.truncated || page.last === null) break;
        after = page.last;
      }
    } finally {
      client.destroy();
    }
    this.queue.add(batch, this.#o.clock.now());
    return n;
  }
}
