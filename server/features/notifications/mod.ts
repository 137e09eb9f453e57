/**
 * Event notifications, built once by server/app.ts: the webhook target registry, the durable
 * delivery queue, the change feed's "notifications" follower that fills it, and the worker that
 * empties it. The S3 configuration operations, the console API and the admin CLI use this face.
 *
 * @example
 * ```ts
 * const n = new Notifications({ db, box, storage, clock, log, region, outbound });
 * // the follower goes to the feed dispatcher; S3Deps.notificationTargets = n
 * n.start();
 * ```
 */
import type { Db } from "../../db/mod.ts";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import type { SecretBox } from "../../iam/secrets.ts";
import type { Backend } from "../../storage/mod.ts";
import type { OutboundPolicy, Resolve } from "../../http/outbound.ts";
import type { NotificationRecorder } from "../metrics/mod.ts";
import type { Sleep } from "../integrity/scrubber.ts";
import { type Delivery, DeliveryQueue, type NewDelivery, type TargetDepth } from "./queue.ts";
import { TargetError, type WebhookTarget, WebhookTargets } from "./targets.ts";
import { NotificationFollower } from "./follower.ts";
import { TEST_EVENT, testEventMessage } from "./event_json.ts";
import { parseTargetArn } from "./targets.ts";
import type { DestinationKind } from "./config.ts";
import { type AttemptResult, DeliveryWorker, type PassResult } from "./worker.ts";

export { TargetError, type WebhookTarget } from "./targets.ts";
export type { Delivery, TargetDepth } from "./queue.ts";
export type { AttemptResult, PassResult } from "./worker.ts";

export interface NotificationsOptions {
  db: Db;
  box: SecretBox;
  storage: Backend;
  clock: Clock;
  log: Logger;
  region: string;
  outbound: OutboundPolicy;
  metrics?: NotificationRecorder;
  tenantName?: (ns: string) => string;
  /** Injected in tests: host lookup, HTTP client, the wait between passes, retry schedule. */
  resolve?: Resolve;
  fetch?: typeof fetch;
  sleep?: Sleep;
  maxAttempts?: number;
  baseDelayMs?: number;
}

/** A dead letter as the console and the CLI list it (the event message parsed). */
export interface DeadLetter {
  id: number;
  ns: string;
  bucket: string;
  key: string;
  event: string;
  configId: string;
  target: { ns: string; name: string };
  attempts: number;
  lastError: string | null;
  queuedAt: number;
}

export { TEST_EVENT } from "./event_json.ts";

export class Notifications {
  readonly targets: WebhookTargets;
  readonly queue: DeliveryQueue;
  readonly follower: NotificationFollower;
  readonly worker: DeliveryWorker;
  readonly #clock: Clock;

  constructor(opts: NotificationsOptions) {
    this.#clock = opts.clock;
    this.targets = new WebhookTargets({
      db: opts.db,
      box: opts.box,
      clock: opts.clock,
      region: opts.region,
      outbound: opts.outbound,
      resolve: opts.resolve,
    });
    this.queue = new DeliveryQueue(opts.db);
    this.worker = new DeliveryWorker({
      queue: this.queue,
      targets: this.targets,
      clock: opts.clock,
      log: opts.log,
      region: opts.region,
      metrics: opts.metrics,
      tenantName: opts.tenantName,
      fetch: opts.fetch,
      sleep: opts.sleep,
      maxAttempts: opts.maxAttempts,
      baseDelayMs: opts.baseDelayMs,
    });
    const worker = this.worker;
    this.follower = new NotificationFollower({
      storage: opts.storage,
      queue: this.queue,
      region: opts.region,
      onQueued: () => worker.wake(),
    });
  }

  start(): void {
    this.worker.start();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  /** Deliveries due now, at once (tests and the CLI; the worker does this by itself). */
  deliverDue(): Promise<PassResult> {
    return this.worker.deliverDue();
  }

  /**
   * Sends AWS's `s3:TestEvent` message to a target now (not queued): whether it answered 2xx.
   */
  async testTarget(ns: string, name: string): Promise<AttemptResult> {
    const t = await this.targets.open(ns, name);
    if (!t) throw new TargetError("NotFound", "no such target");
    const msg = testEventMessage({
      bucket: "",
      time: this.#clock.now(),
      requestId: crypto.randomUUID(),
    });
    return await this.worker.post(t, JSON.stringify(msg), TEST_EVENT);
  }

  /** Whether a bucket of `bucketNs` may name `arn` in a `kind` configuration (S3's check). */
  usableBy(bucketNs: string, arn: string, kind: DestinationKind): boolean {
    return this.targets.usableBy(bucketNs, arn, kind);
  }

  /**
   * Queues AWS's `s3:TestEvent` message, as PutBucketNotificationConfiguration saved `rules`, for
   * each target of the bucket's namespace they name that the `previous` rules did not: one per
   * target (however many rules name it, by any of its three ARNs), delivered by the worker with
   * the retries and dead letters of events. Returns how many were queued.
   */
  queueTestEvents(
    bucket: { ns: string; name: string },
    rules: readonly { id: string; arn: string }[],
    previous: readonly { arn: string }[],
    requestId: string,
  ): number {
    const region = this.targets.region;
    const targetOf = (arn: string) => {
      const t = parseTargetArn(arn, region);
      return t && t.ns === bucket.ns && this.targets.get(t.ns, t.name) ? t.name : null;
    };
    const before = new Set(previous.map((r) => targetOf(r.arn)));
    const now = this.#clock.now();
    const items: NewDelivery[] = [];
    const named = new Set<string>();
    for (const r of rules) {
      const name = targetOf(r.arn);
      if (name === null || before.has(name) || named.has(name)) continue;
      named.add(name);
      items.push({
        // Unique per request and target (the first rule naming it), as events are per change.
        // The worker builds the test message from the save's bucket, time and request id.
        change: {
          seq: `test:${requestId}`,
          time: now,
          event: TEST_EVENT,
          ns: bucket.ns,
          bucket: bucket.name,
          key: "",
          versionId: null,
          requestId,
        },
        configId: r.id,
        ownerId: "",
        targetNs: bucket.ns,
        target: name,
      });
    }
    const added = this.queue.enqueue(items);
    if (added > 0) this.worker.wake();
    return added;
  }

  /** Dead letters of buckets in namespace `ns` (null: all), newest first. */
  deadLetters(ns: string | null, limit?: number): DeadLetter[] {
    return this.queue.deadLetters(ns, limit).map(deadLetterOf);
  }

  /** Puts dead letters back in the queue (`ids` null: all of `ns`); returns how many. */
  retryDead(ids: number[] | null, ns: string | null): number {
    const n = this.queue.retryDead(ids, ns, this.#clock.now());
    if (n > 0) this.worker.wake();
    return n;
  }

  /** Removes dead letters (`ids` null: all of `ns`); returns how many. */
  discardDead(ids: number[] | null, ns: string | null): number {
    return this.queue.discardDead(ids, ns);
  }

  /** Pending and dead deliveries per target (metrics, the targets page). */
  depths(): TargetDepth[] {
    return this.queue.depths();
  }

  /** Targets of `ns` (null: all) with their queue figures. */
  listTargets(ns: string | null): (WebhookTarget & { pending: number; dead: number })[] {
    const depths = new Map(this.depths().map((d) => [`${d.targetNs}/${d.target}`, d]));
    return this.targets.list(ns).map((t) => {
      const d = depths.get(`${t.ns}/${t.name}`);
      return { ...t, pending: d?.pending ?? 0, dead: d?.dead ?? 0 };
    });
  }
}

function deadLetterOf(d: Delivery): DeadLetter {
  return {
    id: d.id,
    ns: d.change.ns,
    bucket: d.change.bucket,
    key: d.change.key,
    event: d.change.event,
    configId: d.configId,
    target: { ns: d.targetNs, name: d.target },
    attempts: d.attempts,
    lastError: d.lastError,
    queuedAt: d.change.time,
  };
}
