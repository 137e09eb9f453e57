/**
 * Hands the change feed to its followers (storage/feed/feed_types.ts): reads a batch of changes,
 * gives it to every follower (each stores what it needs durably and idempotently), then removes
 * it from the feed. A follower that throws keeps the batch in the feed; the batch is handed to
 * every follower again after a pause, so followers see a change at least once, also across
 * restarts. One dispatcher per storage.
 */
import type { Backend, BucketRecord, FeedFollower } from "../../storage/mod.ts";
import type { Logger } from "../../log.ts";

/** Changes read and handed over at a time. */
const BATCH = 256;
/** Pause after a follower failed, doubled each time up to the maximum. */
const RETRY_MS = 500;
const RETRY_MAX_MS = 30_000;

export class FeedDispatcher {
  #stop = new AbortController();
  #loop: Promise<void> | null = null;
  #idle: (() => void)[] = [];
  /** Batches handed over and changes removed since start (tests, metrics). */
  readonly counts = { batches: 0, changes: 0, failures: 0 };

  constructor(
    private readonly storage: Backend,
    private readonly followers: FeedFollower[],
    private readonly log: Logger,
    /** Waits `ms` or until `signal` aborts (tests replace it). */
    private readonly pause: (ms: number, signal: AbortSignal) => Promise<void> = abortableSleep,
  ) {}

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops after the batch in hand (a batch not yet removed is handed over again next start). */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  /** Resolves the next time the running dispatcher finds the feed empty (tests, shutdown). */
  idle(): Promise<void> {
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Hands over and removes what is in the feed now; resolves when it is empty (tests). */
  async drain(): Promise<void> {
    while (await this.#once() > 0) { /* next batch */ }
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let wait = RETRY_MS;
    while (!signal.aborted) {
      try {
        if (await this.#once() > 0) {
          wait = RETRY_MS;
          continue;
        }
        for (const r of this.#idle.splice(0)) r();
        await this.storage.changes.next(signal);
      } catch (e) {
        this.counts.failures++;
        this.log.warn("change feed: a follower failed; the batch is handed over again", {
          error: String(e),
          retryMs: wait,
        });
        await this.pause(wait, signal);
        wait = Math.min(wait * 2, RETRY_MAX_MS);
      }
    }
  }

  async #once(): Promise<number> {
    const batch = await this.storage.changes.read(BATCH);
    if (batch.length === 0) return 0;
    for (const f of this.followers) await f.accept(batch);
    await this.storage.changes.remove(batch);
    this.counts.batches++;
    this.counts.changes += batch.length;
    return batch.length;
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
