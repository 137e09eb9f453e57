/**
 * The change feed's "notifications" follower: each change of a bucket that follows it is matched
 * against the bucket's notification configuration, and every matching configuration queues one
 * delivery to the target its ARN names: the change's fields, from which the worker builds AWS's
 * event message when it sends it. Queueing is idempotent by
 * (feed seq, configuration Id), so a batch the dispatcher hands over again adds nothing.
 */
import type { Backend } from "../../storage/mod.ts";
import type { BucketRecord, FeedFollower, ObjectChange } from "../../storage/types.ts";
import { isS3Error } from "../../s3/errors.ts";
import {
  matchingRules,
  NOTIFICATION_CONFIG,
  type NotificationConfig,
  NOTIFICATIONS_FOLLOWER,
} from "./config.ts";
import type { DeliveryQueue, NewDelivery } from "./queue.ts";
import { parseTargetArn } from "./targets.ts";

export interface NotificationFollowerOptions {
  storage: Backend;
  queue: DeliveryQueue;
  region: string;
  /** Called after deliveries were queued (the worker's wake-up). */
  onQueued?: (added: number) => void;
}

export class NotificationFollower implements FeedFollower {
  readonly name = NOTIFICATIONS_FOLLOWER;
  readonly #opts: NotificationFollowerOptions;

  constructor(opts: NotificationFollowerOptions) {
    this.#opts = opts;
  }

  async accept(changes: ObjectChange[]): Promise<void> {
    const { queue, region } = this.#opts;
    const items: NewDelivery[] = [];
    // One batch often holds many changes of one bucket: its record and configuration once.
    const buckets = new Map<string, { bucket: BucketRecord; cfg: NotificationConfig } | null>();
    // And each rule's target ARN parsed once.
    const arns = new Map<string, ReturnType<typeof parseTargetArn>>();
    for (const c of changes) {
      let b = buckets.get(c.bucketId);
      if (b === undefined) {
        b = await this.#bucketOf(c);
        buckets.set(c.bucketId, b);
      }
      if (!b) continue;
      for (const rule of matchingRules(b.cfg, c.event, c.key)) {
        let t = arns.get(rule.arn);
        if (t === undefined) {
          t = parseTargetArn(rule.arn, region);
          arns.set(rule.arn, t);
        }
        // Only the bucket's own namespace's targets, whatever a configuration names.
        if (!t || t.ns !== b.bucket.ns) continue;
        // The change itself: its message is built at delivery (decision 0024).
        items.push({
          change: c,
          configId: rule.id,
          ownerId: b.bucket.ownerId,
          targetNs: t.ns,
          target: t.name,
        });
      }
    }
    const added = queue.enqueue(items);
    if (added > 0) this.#opts.onQueued?.(added);
  }

  /** The bucket of a change with its configuration, if it still follows the feed with one. */
  async #bucketOf(
    c: ObjectChange,
  ): Promise<{ bucket: BucketRecord; cfg: NotificationConfig } | null> {
    let bucket: BucketRecord;
    try {
      bucket = await this.#opts.storage.getBucket(c.ns, c.bucket);
    } catch (e) {
      if (isS3Error(e) && e.code === "NoSuchBucket") return null;
      throw e;
    }
    // A bucket deleted and created again under the name is another bucket.
    if (bucket.id !== c.bucketId || !bucket.feed?.includes(NOTIFICATIONS_FOLLOWER)) return null;
    const cfg = await this.#opts.storage.getBucketConfig<NotificationConfig>(
      bucket.id,
      NOTIFICATION_CONFIG,
    );
    return cfg && cfg.rules.length > 0 ? { bucket, cfg } : null;
  }
}
