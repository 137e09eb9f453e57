/**
 * Hands the change feed to its followers (storage/feed/feed_types.ts): reads a batch of changes,
 * gives it to every follower (each stores what it needs durably and idempotently), goes on after
 * it, and removes what was handed over in batches (up to 999 changes per commit, at most once a
 * second while the feed is quiet). A follower that throws keeps the batch in the feed; the batch
 * is handed to every follower again after a pause, and changes not yet removed at a crash are
 * handed over again after the restart, so followers see a change at least once. One dispatcher
 * per storage.
 */
import type { Backend, BucketRecord, FeedFollower, ObjectChange } from "../../storage/mod.ts";
import type { Logger } from "../../log.ts";

/** Changes read and handed over at a time. */
const BATCH = 256;
/** Handed-over changes removed in one commit at most (Deno KV: 1000 mutations). */
const REMOVE_BATCH = 999;
/**
 * A feed that has gone quiet is cleared of what was handed over at most this often: under a
 * steady stream of writes, one removal commit per handover would add a commit for every group of
 * PUTs (measured: 11-22% fewer 4 KiB PUTs at 32 at a time); this way it is one per second, or per
 * 999 changes.
 */
const REMOVE_EVERY_MS = 1000;
/**
 * After a wake-up, changes are left to gather this long before they are read: a read per commit
 * (every PUT at one client) cost the followed bucket's PUTs ~10%; the price is this much more
 * latency before a notification or a copy starts.
 */
const GATHER_MS = 20;
/** Pause after a follower failed, doubled each time up to the maximum. */
const RETRY_MS = 500;
const RETRY_MAX_MS = 30_000;

export interface DispatcherOptions {
  /** Waits `ms` or until `signal` aborts (tests replace it). */
  pause?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Minimum time between removals of a quiet feed's handed-over changes (tests: 0). */
  removeEveryMs?: number;
  /** How long changes gather after a wake-up before they are read. */
  gatherMs?: number;
}

export class FeedDispatcher {
  #stop = new AbortController();
  #loop: Promise<void> | null = null;
  #idle: (() => void)[] = [];
  /** The last position handed over (reads go on after it). */
  #after: string | undefined;
  /** Handed over to every follower, not yet removed from the feed. */
  #handed: ObjectChange[] = [];
  #removedAt = -Infinity;
  readonly #pause: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #removeEveryMs: number;
  readonly #gatherMs: number;
  /** Batches handed over and changes removed since start (tests, metrics). */
  readonly counts = { batches: 0, changes: 0, removals: 0, failures: 0 };

  constructor(
    private readonly storage: Backend,
    private readonly followers: FeedFollower[],
    private readonly log: Logger,
    opts: DispatcherOptions = {},
  ) {
    this.#pause = opts.pause ?? abortableSleep;
    this.#removeEveryMs = opts.removeEveryMs ?? REMOVE_EVERY_MS;
    this.#gatherMs = opts.gatherMs ?? GATHER_MS;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Stops after the batch in hand, removing what was handed over (what is not removed is handed
   * over again at the next start: followers take it idempotently).
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await this.#removeHanded().catch((e) =>
      this.log.warn("change feed: handed-over changes not removed at stop", { error: String(e) })
    );
  }

  /** Resolves the next time the running dispatcher finds the feed empty and cleared (tests). */
  idle(): Promise<void> {
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Hands over and removes what is in the feed now; resolves when it is empty (tests). */
  async drain(): Promise<void> {
    while (await this.#handOver() > 0) { /* next batch */ }
    await this.#removeHanded();
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let wait = RETRY_MS;
    while (!signal.aborted) {
      try {
        if (await this.#handOver() > 0) {
          wait = RETRY_MS;
          continue;
        }
        // Quiet: clear what was handed over, unless that was done a moment ago.
        const due = this.#removedAt + this.#removeEveryMs - performance.now();
        if (this.#handed.length > 0 && due > 0) {
          await Promise.race([this.storage.changes.next(signal), this.#pause(due, signal)]);
        } else {
          await this.#removeHanded();
          for (const r of this.#idle.splice(0)) r();
          await this.storage.changes.next(signal);
        }
        if (this.#gatherMs > 0) await this.#pause(this.#gatherMs, signal);
      } catch (e) {
        this.counts.failures++;
        this.log.warn("change feed: a follower failed; the batch is handed over again", {
          error: String(e),
          retryMs: wait,
        });
        await this.#pause(wait, signal);
        wait = Math.min(wait * 2, RETRY_MAX_MS);
      }
    }
  }

  /** Hands the next batch to every follower; returns its size. */
  async #handOver(): Promise<number> {
    const batch = await this.storage.changes.read(BATCH, this.#after);
    if (batch.length === 0) return 0;
    for (const f of this.followers) await f.accept(batch);
    this.#after = batch[batch.length - 1].seq;
    this.#handed.push(...batch);
    this.counts.batches++;
    this.counts.changes += batch.length;
    while (this.#handed.length >= REMOVE_BATCH) {
      await this.#remove(this.#handed.slice(0, REMOVE_BATCH));
    }
    return batch.length;
  }

  async #removeHanded(): Promise<void> {
    if (this.#handed.length > 0) await this.#remove(this.#handed.slice());
  }

  async #remove(changes: ObjectChange[]): Promise<void> {
    await this.storage.changes.remove(changes);
    this.#handed.splice(0, changes.length);
    this.#removedAt = performance.now();
    this.counts.removals++;
  }
}

/**
 * Adds (`on`) or removes the follower `follower` in the bucket's `feed`: from the next write on,
 * the bucket's changes are (or are no longer) recorded for it. Returns the updated record.
 */
export function setFollowing(
  storage: Backend,
  bucket: BucketRecord,
  follower: string,
  on: boolean,
): Promise<BucketRecord> {
  return storage.updateBucket(bucket, (b) => {
    const rest = (b.feed ?? []).filter((n) => n !== follower);
    const feed = on ? [...rest, follower].sort() : rest;
    const next: BucketRecord = { ...b, feed };
    if (feed.length === 0) delete next.feed;
    return next;
  });
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
