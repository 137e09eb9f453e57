/**
 * The replication worker pool: takes due tasks from the queue (one per key and rule at a time,
 * oldest first), copies or deletes at the destination, and records the outcome: done (the
 * source version's status becomes COMPLETED once no other rule still has it queued), or a retry
 * after an exponential backoff, or the dead-letter list after `maxAttempts` (status FAILED).
 */
import type { Backend } from "../../storage/mod.ts";
import type { BucketRecord, ObjectRecord, ReplicationStatus } from "../../storage/types.ts";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import { isMetadataOp, type ReplicationQueue, type Task, taskKey } from "./queue.ts";
import type { Destination, DestinationStore } from "./destinations.ts";
import { REPLICATION_CONFIG, type ReplicationConfig } from "./config.ts";
import {
  CopyError,
  copyError,
  copyObject,
  deleteAtDestination,
  destinationClient,
  destinationIsNewer,
  type Sender,
} from "./copier.ts";
import { LeanSender } from "./lean_sender.ts";
import { copyMetadata } from "./metadata.ts";

export interface WorkerOptions {
  storage: Backend;
  queue: ReplicationQueue;
  destinations: DestinationStore;
  clock: Clock;
  log: Logger;
  /** Tasks copied at once. */
  concurrency: number;
  /** Attempts before a task goes to the dead-letter list. */
  maxAttempts: number;
  /** First retry delay; doubled per attempt up to `backoffMaxMs`. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Told of each finished task (metrics). */
  onTask?: (t: Task, outcome: "done" | "retry" | "dead", bytes: number) => void;
}

/**
 * How long copied tasks gather before their statuses are written together: each settle is a KV
 * commit (merged by the group committer), synced like the PUTs going on, so fewer of them leave
 * the disk to the writes; a status shows COMPLETED this much later than the copy ended.
 */
const SETTLE_GATHER_MS = 250;

/** What `#perform` answers for a task overtaken by a newer change of its key. */
const SUPERSEDED = -1;
/** What `#perform` answers for a task whose rule was removed or disabled before it ran. */
const DROPPED = -2;

/** The delay before attempt `attempts + 1` (attempts already made, at least 1). */
export function backoffDelay(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

export class ReplicationWorker {
  readonly #o: WorkerOptions;
  /** Keys (`taskKey`) with a task in flight. */
  readonly #busy = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  /** Senders per destination (`ns/name@updatedAt`): a changed destination gets a new one. */
  readonly #clients = new Map<string, Sender>();
  readonly #stop = new AbortController();
  /** Finished tasks whose source status is still to be settled (`#settleSoon`). */
  #toSettle: { t: Task; outcome: "dropped" | null }[] = [];
  #settling: Promise<void> | null = null;
  #wake = Promise.withResolvers<void>();
  #loop: Promise<void> | null = null;

  constructor(opts: WorkerOptions) {
    this.#o = opts;
  }

  /** Starts the loop that runs due tasks until `stop`. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** New tasks were queued, or a retry was asked for: look at the queue now. */
  kick(): void {
    this.#wake.resolve();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.kick();
    await this.#loop;
    await Promise.allSettled(this.#inFlight);
    await this.#settleAll();
    for (const c of this.#clients.values()) c.client.destroy();
    this.#clients.clear();
  }

  /** Tasks running now. */
  get running(): number {
    return this.#busy.size;
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      this.#wake = Promise.withResolvers<void>();
      const started = this.#fill();
      const next = this.#nextDue();
      const until = next === null ? 60_000 : Math.max(0, next - this.#o.clock.now());
      if (started === 0 && this.#busy.size === 0) {
        await this.#sleep(Math.min(until, 60_000));
      } else {
        // A task's end or a kick; or, while copies run, the next backoff running out (a due
        // retry need not wait for a long copy to end).
        const waits: Promise<void>[] = [this.#wake.promise, ...this.#inFlight];
        let timer: ReturnType<typeof setTimeout> | undefined;
        if (until > 0 && until < 60_000) {
          waits.push(
            new Promise((r) => {
              timer = setTimeout(r, until);
            }),
          );
        }
        await Promise.race(waits);
        clearTimeout(timer);
      }
    }
  }

  /** The earliest time a queued task is due (null: none, or the queue cannot be read now). */
  #nextDue(): number | null {
    try {
      return this.#o.queue.nextDue();
    } catch (e) {
      this.#o.log.error("replication queue read failed", { error: String(e) });
      return null;
    }
  }

  #sleep(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      this.#wake.promise,
      new Promise<void>((r) => {
        timer = setTimeout(r, ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Starts due tasks up to the concurrency; how many it started. */
  #fill(): number {
    const room = this.#o.concurrency - this.#busy.size;
    if (room <= 0) return 0;
    let tasks: Task[];
    try {
      const now = this.#o.clock.now();
      // Most wake-ups (a task ended, a kick while copies run) find no task due beyond those
      // running, which stay queued until they end: counted first, the ordered query is skipped
      // (it was ~9% of the server thread at one client). A running task whose row a removed rule
      // dropped may hide one due task until a running one ends.
      if (this.#o.queue.dueCount(now) <= this.#busy.size) return 0;
      tasks = this.#o.queue.due(now, room, this.#busy);
    } catch (e) {
      this.#o.log.error("replication queue read failed", { error: String(e) });
      return 0;
    }
    for (const t of tasks) {
      const k = taskKey(t);
      this.#busy.add(k);
      const p: Promise<void> = this.runTask(t).finally(() => {
        this.#busy.delete(k);
        this.#inFlight.delete(p);
      });
      this.#inFlight.add(p);
    }
    return tasks.length;
  }

  /**
   * Runs every due task until none is left (tests, the CLI): returns how many ran. Tasks that
   * fail are rescheduled by the backoff and are not due again until the clock passes it.
   */
  async drain(): Promise<number> {
    let ran = 0;
    for (;;) {
      const tasks = this.#o.queue.due(this.#o.clock.now(), this.#o.concurrency, this.#busy);
      if (!tasks.length) return ran;
      await Promise.all(tasks.map((t) => this.runTask(t)));
      ran += tasks.length;
      await this.#settleAll();
    }
  }

  /** Copies one task and records its outcome; never throws. */
  async runTask(t: Task): Promise<void> {
    const { queue, clock, log } = this.#o;
    let bytes = 0;
    try {
      bytes = await this.#perform(t);
      queue.done(t.id);
      // Counted as the row leaves the queue: an empty queue means the totals are complete.
      this.#o.onTask?.(t, "done", Math.max(0, bytes));
    } catch (e) {
      const err = copyError(e);
      const attempts = t.attempts + 1;
      // A failure no retry can mend (an SSE-C version: its key is not kept) is dead at once.
      const dead = err.final || attempts >= this.#o.maxAttempts;
      const next = clock.now() +
        backoffDelay(attempts, this.#o.backoffBaseMs, this.#o.backoffMaxMs) *
          (err.permanent ? 4 : 1);
      try {
        queue.failed(t.id, err.message, next, dead);
        if (dead) await this.#settle(t, "FAILED");
      } catch (e2) {
        log.error("replication queue update failed", { error: String(e2) });
      }
      log.warn("replication attempt failed", {
        bucket: t.bucket,
        key: t.key,
        rule: t.ruleId,
        destination: t.destination,
        attempt: attempts,
        dead,
        error: err.message,
      });
      this.#o.onTask?.(t, dead ? "dead" : "retry", 0);
      return;
    }
    // A superseded version keeps its status: this task did not copy it (its row is removed with
    // the next settle all the same).
    this.#settleSoon(
      bytes === SUPERSEDED ? null : { t, outcome: bytes === DROPPED ? "dropped" : null },
    );
  }

  /**
   * Settles the status of a finished task's version a moment later, with those of the tasks that
   * end meanwhile: their status writes go to the group committer together and share one KV
   * commit (one commit per copy, each synced, took about as long as the PUT it followed), and
   * their rows leave the queue in one delete.
   */
  #settleSoon(task: { t: Task; outcome: "dropped" | null } | null): void {
    if (task) this.#toSettle.push(task);
    if (this.#settling) return;
    // Run only if no other settle (stop's, drain's) took its tasks meanwhile: after `stop` the
    // queue's database may be closed.
    const settling: Promise<void> = new Promise<void>((r) => setTimeout(r, SETTLE_GATHER_MS))
      .then(() => this.#settling === settling ? this.#settleAll() : undefined);
    this.#settling = settling;
  }

  /** Removes the finished tasks' rows from the queue and settles their statuses now. */
  async #settleAll(): Promise<void> {
    const tasks = this.#toSettle;
    this.#toSettle = [];
    this.#settling = null;
    try {
      this.#o.queue.removeFinished();
    } catch (e) {
      // Hidden still, they are removed by the next settle (or copied again after a restart).
      this.#o.log.error("replication queue update failed", { error: String(e) });
    }
    await Promise.all(tasks.map(async ({ t, outcome }) => {
      try {
        await this.#settle(t, outcome);
      } catch (e) {
        this.#o.log.error("replication status update failed", { key: t.key, error: String(e) });
      }
    }));
  }

  /**
   * The work of a task; the bytes copied (SUPERSEDED: skipped, a newer change of the key came
   * after it). Returns quietly when there is nothing left to do.
   */
  async #perform(t: Task): Promise<number> {
    const { storage, destinations } = this.#o;
    let bucket: BucketRecord;
    try {
      bucket = await storage.getBucket(t.ns, t.bucket);
    } catch {
      return 0; // the bucket is gone: nothing to copy
    }
    if (bucket.id !== t.bucketId) return 0;
    const cfg = await storage.getBucketConfig<ReplicationConfig>(bucket.id, REPLICATION_CONFIG);
    const rule = cfg?.rules.find((r) => r.id === t.ruleId);
    // The rule was removed or disabled while the task waited: nothing is copied.
    if (!rule || rule.status !== "Enabled") return DROPPED;
    // A task that failed before may have been overtaken: while it waited in the dead-letter list
    // a newer change of the key was copied. Copying it now would put the older state on top.
    // A metadata change is copied to the destination's current object, so only while its
    // version is the source's current one.
    const checkLatest = t.versionId !== null && (t.attempts > 0 || isMetadataOp(t.op));
    if (checkLatest && !await this.#isLatest(bucket, t)) return SUPERSEDED;
    const opened = await destinations.openCredentials(t.ns, t.destination);
    if (!opened) throw new Error(`destination "${t.destination}" is not registered`);
    await destinations.checkBeforeConnect(opened.dest);
    const sender = this.#client(opened.dest, opened.secretKey);
    const client = sender.client;
    if (t.op === "marker") {
      await deleteAtDestination(sender, opened.dest, t.key);
      return 0;
    }
    let size = 0;
    try {
      await storage.readObject(bucket, t.key, t.versionId, async (rec, open) => {
        if (rec.deleteMarker) return;
        const keep = opened.dest.conflict === "newer" &&
          await destinationIsNewer(sender, opened.dest, rec.key, rec.lastModified);
        if (keep) return; // last writer wins: the destination's newer object stays
        // Only the metadata changed: copied alone while the destination holds the object (else
        // the whole version is copied, which carries it).
        if (isMetadataOp(t.op) && await copyMetadata(client, opened.dest, rec, t.op)) return;
        if (rec.enc?.mode === "SSE-C") {
          throw new CopyError(
            "source: the version is encrypted with a customer-provided key (SSE-C), which the " +
              "server does not keep: it cannot be read to be copied",
            "SSE-C",
            true,
            true,
          );
        }
        size = rec.size;
        await copyObject(sender, opened.dest, rec, open, rule.storageClass, this.#stop.signal);
      });
    } catch (e) {
      const code = (e as { code?: string }).code;
      // The version was removed (or is a marker) since it was queued: nothing to copy.
      if (code === "NoSuchVersion" || code === "NoSuchKey" || code === "MethodNotAllowed") return 0;
      throw e;
    }
    return size;
  }

  /** Whether the task's version (object or marker) is still the key's latest at the source. */
  async #isLatest(bucket: BucketRecord, t: Task): Promise<boolean> {
    try {
      return (await this.#o.storage.getObjectRecord(bucket, t.key)).versionId === t.versionId;
    } catch (e) {
      // The latest is a delete marker (its version id in the error's headers), or nothing.
      const headers = (e as { headers?: Record<string, string> }).headers ?? {};
      return headers["x-amz-version-id"] === t.versionId;
    }
  }

  /**
   * Sets the source version's status once its tasks are settled: COMPLETED when the last one
   * finished, FAILED when one was dead-lettered (`failed`); a task dropped with its rule leaves
   * a PENDING version FAILED when no other task of it is left.
   */
  async #settle(t: Task, outcome: "FAILED" | "dropped" | null): Promise<void> {
    if (t.op === "marker" || t.versionId === null) return;
    const left = this.#o.queue.pendingFor(t.bucketId, t.key, t.versionId, t.id);
    if (outcome === "dropped") {
      if (left.queued + left.dead === 0) {
        await this.abandon(t.ns, t.bucket, [{ key: t.key, versionId: t.versionId }]);
      }
      return;
    }
    let status: ReplicationStatus;
    if (outcome === "FAILED" || left.dead > 0) status = "FAILED";
    else if (left.queued === 0) status = "COMPLETED";
    else return;
    await this.#setStatus(
      t.ns,
      t.bucket,
      t.key,
      t.versionId,
      (rec) =>
        rec.replication === status || rec.replication === "REPLICA" ? rec : {
          ...rec,
          replication: status,
        },
    );
  }

  /**
   * Versions whose copies were dropped with their rule (removed or disabled) before they ran: a
   * PENDING status becomes FAILED (the version was not copied), rather than staying PENDING with
   * nothing left to change it.
   */
  async abandon(
    ns: string,
    bucket: string,
    versions: { key: string; versionId: string }[],
  ): Promise<void> {
    for (const v of versions) {
      await this.#setStatus(
        ns,
        bucket,
        v.key,
        v.versionId,
        (rec) => rec.replication === "PENDING" ? { ...rec, replication: "FAILED" } : rec,
      );
    }
  }

  async #setStatus(
    ns: string,
    bucketName: string,
    key: string,
    versionId: string,
    patch: (rec: ObjectRecord) => ObjectRecord,
  ): Promise<void> {
    try {
      const bucket = await this.#o.storage.getBucket(ns, bucketName);
      await this.#o.storage.updateObjectVersion(
        bucket,
        key,
        versionId,
        (rec: ObjectRecord) => rec.deleteMarker ? rec : patch(rec),
      );
    } catch {
      // The version is gone: there is no status to set.
    }
  }

  #client(dest: Destination, secret: string): Sender {
    const id = `${dest.ns}/${dest.name}@${dest.updatedAt}`;
    let c = this.#clients.get(id);
    if (!c) {
      for (const [k, old] of this.#clients) {
        if (k.startsWith(`${dest.ns}/${dest.name}@`)) {
          old.client.destroy();
          this.#clients.delete(k);
        }
      }
      c = { client: destinationClient(dest, secret), lean: new LeanSender(dest, secret) };
      this.#clients.set(id, c);
    }
    return c;
  }
}
