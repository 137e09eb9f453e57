/**
 * The change feed as kept in Deno KV (feed_types.ts): `["feed", seq]` entries written by the
 * commit of the object change they describe, read in order and removed in batches once the
 * followers have them. Positions come from one counter per process (a data dir has one writer):
 * at least the clock in ms × 1000 and always above the last position handed out, in the feed, or
 * removed (`["feedseq"]`, written with each removal), so a position is never reused, whatever the
 * clock does across restarts.
 *
 * A position is taken when a write is built, and concurrent writes may commit out of that order.
 * The log therefore knows the positions still being committed, and `read` stops below the lowest
 * of them: whatever it has returned, no lower position can appear later, so a reader may go on
 * from the last position it was given (and remove lazily) without ever missing a change.
 */
import type { Clock } from "../../clock.ts";
import type { MetaStore, MetaWrite } from "../meta/store.ts";
import { FEED_HIGH_WATER, FEED_PREFIX, feedKey } from "../meta/keys.ts";
import type { BucketRecord } from "../types.ts";
import type { ChangeEvent, ChangeFeed, ChangeOrigin, ObjectChange } from "./feed_types.ts";

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
  /** Positions recorded in writes not yet committed (or failed), lowest first in practice. */
  readonly #inFlight = new Set<bigint>();
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
   * Adds the change to `op` when the bucket has followers; returns its position (null: nothing
   * recorded). The caller calls `settled(position, ok)` once the commit of `op` has ended,
   * whatever its outcome.
   */
  record(
    op: MetaWrite,
    bucket: BucketRecord,
    origin: ChangeOrigin,
    facts: ChangeFacts,
  ): bigint | null {
    if (!this.follows(bucket)) return null;
    const now = this.clock.now();
    const floor = BigInt(Math.max(0, Math.floor(now))) * 1000n;
    const seq = this.#last >= floor ? this.#last + 1n : floor;
    this.#last = seq;
    op.set(feedKey(seq), encodeChange(now, bucket, origin, facts));
    this.#inFlight.add(seq);
    return seq;
  }

  /** The commit of the change at `seq` ended (`ok`: it committed). */
  settled(seq: bigint, ok: boolean): void {
    this.#inFlight.delete(seq);
    if (ok) this.#depth++;
    // A failed commit may have held back changes after it: readers look again.
    this.#pending = true;
    this.#wake?.();
  }

  async read(limit: number, after?: string): Promise<ObjectChange[]> {
    this.#pending = false;
    let below: bigint | null = null;
    for (const s of this.#inFlight) if (below === null || s < below) below = s;
    const selector: Deno.KvListSelector = after === undefined
      ? { prefix: FEED_PREFIX }
      : { prefix: FEED_PREFIX, start: feedKey(BigInt(after) + 1n) };
    const out: ObjectChange[] = [];
    for await (const e of this.meta.list<StoredChange>(selector, { limit })) {
      const seq = e.key[1] as bigint;
      if (below !== null && seq >= below) break;
      out.push(decodeChange(seq, e.value));
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

/** The event names, by their index in a stored change. */
const EVENTS: readonly ChangeEvent[] = [
  "ObjectCreated:Put",
  "ObjectCreated:Post",
  "ObjectCreated:Copy",
  "ObjectCreated:CompleteMultipartUpload",
  "ObjectRemoved:Delete",
  "ObjectRemoved:DeleteMarkerCreated",
  "ObjectTagging:Put",
  "ObjectTagging:Delete",
  "ObjectAcl:Put",
  "ObjectRestore:Post",
  "ObjectRestore:Completed",
  "LifecycleExpiration:Delete",
  "LifecycleExpiration:DeleteMarkerCreated",
];
const EVENT_INDEX = new Map(EVENTS.map((e, i) => [e, i]));

/**
 * A change as stored: a tuple, not an object, so no field name is written with every change (each
 * byte of it is in the object's commit: a 4 KiB PUT into a followed bucket lost ~7% of its rate
 * with the object form at one client, ~20% at 32).
 * [time, bucketId, ns, bucket, key, versionId, event, size, etag, flags, principalId, sourceIp,
 * requestId]; flags: 1 delete marker, 2 replica.
 */
type StoredChange = [
  number,
  string,
  string,
  string,
  string,
  string | null,
  number,
  number | null,
  string | null,
  number,
  string | null,
  string | null,
  string | null,
];

function encodeChange(
  time: number,
  bucket: BucketRecord,
  origin: ChangeOrigin,
  facts: ChangeFacts,
): StoredChange {
  return [
    time,
    bucket.id,
    bucket.ns,
    bucket.name,
    facts.key,
    facts.versionId,
    EVENT_INDEX.get(origin.event) ?? 0,
    facts.size ?? null,
    facts.etag ?? null,
    (facts.deleteMarker ? 1 : 0) | (origin.replica ? 2 : 0),
    origin.principalId ?? null,
    origin.sourceIp ?? null,
    origin.requestId ?? null,
  ];
}

function decodeChange(seq: bigint, v: StoredChange): ObjectChange {
  const [time, bucketId, ns, bucket, key, versionId, ev, size, etag, flags, who, ip, req] = v;
  const c: ObjectChange = {
    event: EVENTS[ev],
    seq: seq.toString(),
    time,
    bucketId,
    ns,
    bucket,
    key,
    versionId,
  };
  if (size !== null) c.size = size;
  if (etag !== null) c.etag = etag;
  if (flags & 1) c.deleteMarker = true;
  if (flags & 2) c.replica = true;
  if (who !== null) c.principalId = who;
  if (ip !== null) c.sourceIp = ip;
  if (req !== null) c.requestId = req;
  return c;
}
