/**
 * The change-feed follower "replication": turns each committed change of a bucket with
 * replication rules into queue tasks, one per rule that selects it, in the same order. Replica
 * writes (made by another server's replication) are not queued: no loops between two servers
 * that replicate to each other.
 */
import type { Backend } from "../../storage/mod.ts";
import type { FeedFollower, ObjectChange, ObjectRecord } from "../../storage/types.ts";
import type { Clock } from "../../clock.ts";
import {
  REPLICATION_CONFIG,
  REPLICATION_FOLLOWER,
  type ReplicationConfig,
  type ReplicationRule,
  rulesFor,
} from "./config.ts";
import type { NewTask, ReplicationQueue, TaskOp } from "./queue.ts";

/**
 * What a change asks of replication: a copy, a delete-marker delete, a metadata-only copy (tags,
 * retention, legal hold), or nothing.
 */
export function taskOpOf(c: ObjectChange): TaskOp | null {
  if (c.replica) return null;
  if (c.event.startsWith("ObjectCreated:")) return "put";
  // A delete marker made by a request; lifecycle's markers and version deletes are not
  // replicated (AWS: a permanent delete of a version stays at the source).
  if (c.event === "ObjectRemoved:DeleteMarkerCreated") return "marker";
  if (c.event === "ObjectTagging:Put" || c.event === "ObjectTagging:Delete") return "tags";
  if (c.event === "ObjectRetention:Put") return "retention";
  if (c.event === "ObjectLegalHold:Put") return "legalhold";
  // ACL changes are not replicated: copies belong to the destination's credentials (AWS does
  // the same with the owner override).
  return null;
}

export class ReplicationFollower implements FeedFollower {
  readonly name = REPLICATION_FOLLOWER;

  constructor(
    readonly storage: Backend,
    readonly queue: ReplicationQueue,
    readonly clock: Clock,
    /** Called after tasks were queued (the worker looks at the queue). */
    readonly onQueued: () => void = () => {},
    /** Settles versions marked PENDING that no rule selects any more (the worker's abandon). */
    readonly onAbandoned: (
      ns: string,
      bucket: string,
      versions: { key: string; versionId: string }[],
    ) => Promise<void> = async () => {},
  ) {}

  async accept(changes: ObjectChange[]): Promise<void> {
    const configs = new Map<string, ReplicationConfig | null>();
    const tasks: NewTask[] = [];
    for (const c of changes) {
      const op = taskOpOf(c);
      if (!op) continue;
      let cfg = configs.get(c.bucketId);
      if (cfg === undefined) {
        cfg = await this.storage.getBucketConfig<ReplicationConfig>(c.bucketId, REPLICATION_CONFIG);
        configs.set(c.bucketId, cfg);
      }
      const rules = cfg ? await this.#rulesOf(cfg, c, op) : [];
      // A new version the write marked PENDING, whose rule was removed before its change was
      // handed over: no task will settle it.
      if (!rules.length && op === "put") await this.#abandon(c);
      for (const r of rules) {
        tasks.push({
          seq: c.seq,
          bucketId: c.bucketId,
          ns: c.ns,
          bucket: c.bucket,
          ruleId: r.id,
          destination: r.destination,
          key: c.key,
          versionId: c.versionId,
          op,
          size: c.size ?? 0,
        });
      }
    }
    if (this.queue.add(tasks, this.clock.now()) > 0) this.onQueued();
  }

  async #rulesOf(cfg: ReplicationConfig, c: ObjectChange, op: TaskOp): Promise<ReplicationRule[]> {
    const needsTags = cfg.rules.some((r) => r.filter?.tags?.length);
    let tags: Record<string, string> | undefined;
    if (needsTags && op !== "marker") {
      tags = (await this.#record(c))?.tags;
    }
    const rules = rulesFor(cfg, c.key, tags);
    return op === "marker" ? rules.filter((r) => r.deleteMarkers) : rules;
  }

  /** A PENDING version no rule selects any more becomes FAILED (it was not copied). */
  async #abandon(c: ObjectChange): Promise<void> {
    // The change says whether its write marked the version (a read per PUT of every bucket the
    // feed follows cost ~200 µs); older changes do not, and their record is read.
    if (c.versionId === null || c.replicationPending === false) return;
    const rec = await this.#record(c);
    if (rec?.replication !== "PENDING") return;
    await this.onAbandoned(c.ns, c.bucket, [{ key: c.key, versionId: c.versionId }]);
  }

  async #record(c: ObjectChange): Promise<ObjectRecord | null> {
    try {
      const bucket = await this.storage.getBucket(c.ns, c.bucket);
      return await this.storage.getObjectRecord(bucket, c.key, c.versionId);
    } catch {
      return null;
    }
  }
}
