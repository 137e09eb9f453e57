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

/** What a change asks of replication: a copy, a delete-marker delete, or nothing. */
export function taskOpOf(c: ObjectChange): TaskOp | null {
  if (c.replica) return null;
  if (c.event.startsWith("ObjectCreated:")) return "put";
  // A delete marker made by a request; lifecycle's markers and version deletes are not
  // replicated (AWS: a permanent delete of a version stays at the source).
  if (c.event === "ObjectRemoved:DeleteMarkerCreated") return "marker";
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
      if (!cfg) continue;
      const rules = await this.#rulesOf(cfg, c, op);
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
    if (needsTags && op === "put") {
      tags = (await this.#record(c))?.tags;
    }
    const rules = rulesFor(cfg, c.key, tags);
    return op === "marker" ? rules.filter((r) => r.deleteMarkers) : rules;
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
