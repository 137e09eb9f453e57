/**
 * The change feed as kept in Deno KV (feed_types.ts): `["feed", seq]` entries written by the
 * commit of the object change they describe, read oldest first and removed in batches once the
 * followers have them. Positions come from one counter per process (a data dir has one writer):
 * at least the clock in microseconds-ish units (ms × 1000) and always above the last position
 * handed out, in the feed, or removed (`["feedseq"]`, written with each removal), so a position is
 * never reused, whatever the clock does across restarts.
 */
import type { Clock } from "../../clock.ts";
import type { MetaStore, MetaWrite } from "../meta/store.ts";
import { FEED_HIGH_WATER, FEED_PREFIX, feedKey } from "../meta/keys.ts";
import type { BucketRecord } from "../types.ts";
import type { ChangeFeed, ChangeOrigin, ObjectChange } from "./feed_types.ts";

/** Mutations per removal commit (Deno KV allows 1000; one more is the high-water mark). */
const REMOVE_BATCH = 500;

/** What a write tells the log about the change it commits. */
export interface ChangeFacts {
  key: string;
  versionId: string | null;
  size?: number;
  etag?: string;
  deleteMarker?: boolean;
}

export class ChangeLog implements ChangeFeed {
  #last = 0n;
  #depth = 0;
  /** Resolves the waiters of `next()` at the next commit that records a change. */
  #wake: (() => void) | null = null;
  #woken: Promise<void>;
  /** A change was committed since the last `read` (so `next` resolves at once). */
  #pending = false;

  private constructor(private readonly meta: MetaStore, private readonly clock: Clock) {
    this.#woken = this.#arm();
  }

  /** Loads the counter (the last entry, the high-water mark) and the depth. */
  static async open(meta: MetaStore, clock: Clock): Promise<ChangeLog> {
    const log = new ChangeLog(meta, clock);
    const hw = await meta.get<bigint>(FEED_HIGH_WATER);
    let last = typeof hw.value === "bigint" ? hw.value : 0n;
    let depth = 0;
    for await (const e of meta.list({ prefix: FEED_PREFIX })) {
      depth++;
      const seq = e.key[1] as bigint;
      if (seq > last) last = seq;
    }
    log.#last = last;
    log.#depth = depth;
    log.#pending = depth > 0;
    return log;
  }

  /** Whether writes to `bucket` are recorded (it has a follower). */
  follows(bucket: BucketRecord): boolean {
    return (bucket.feed?.length ?? 0) > 0;
  }

  /**
   * Adds the change to `op` when the bucket has followers; returns whether it did. The caller
   * calls `committed()` once `op` has committed.
   */
  record(op: MetaWrite, bucket: BucketRecord, origin: ChangeOrigin, facts: ChangeFacts): boolean {
    if (!this.follows(bucket)) return false;
    const now = this.clock.now();
    const floor = BigInt(Math.max(0, Math.floor(now))) * 1000n;
    const seq = this.#last >= floor ? this.#last + 1n : floor;
    this.#last = seq;
    const change: ObjectChange = {
      ...origin,
      seq: seq.toString(),
      time: now,
      bucketId: bucket.id,
      ns: bucket.ns,
      bucket: bucket.name,
      ...facts,
    };
    for (const k of Object.keys(change) as (keyof ObjectChange)[]) {
      if (change[k] === undefined) delete change[k];
    }
    op.set(feedKey(seq), change);
    return true;
  }

  /** A commit with a recorded change succeeded. */
  committed(): void {
    this.#depth++;
    this.#pending = true;
    this.#wake?.();
  }

  async read(limit: number): Promise<ObjectChange[]> {
    this.#pending = false;
    const out: ObjectChange[] = [];
    for await (const e of this.meta.list<ObjectChange>({ prefix: FEED_PREFIX }, { limit })) {
      out.push(e.value);
    }
    return out;
  }

  async remove(changes: ObjectChange[]): Promise<void> {
    for (let i = 0; i < changes.length; i += REMOVE_BATCH) {
      const batch = changes.slice(i, i + REMOVE_BATCH);
      const op = this.meta.write();
      let high = 0n;
      for (const c of batch) {
        const seq = BigInt(c.seq);
        if (seq > high) high = seq;
        op.delete(feedKey(seq));
      }
      const hw = await this.meta.get<bigint>(FEED_HIGH_WATER);
      if (typeof hw.value !== "bigint" || hw.value < high) op.set(FEED_HIGH_WATER, high);
      await op.commit();
      this.#depth = Math.max(0, this.#depth - batch.length);
    }
  }

  next(signal?: AbortSignal): Promise<void> {
    if (this.#pending) return Promise.resolve();
    if (!signal) return this.#woken;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      signal.addEventListener("abort", done);
      this.#woken.then(done);
    });
  }

  depth(): number {
    return this.#depth;
  }

  #arm(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = () => {
        this.#woken = this.#arm();
        resolve();
      };
    });
  }
}
