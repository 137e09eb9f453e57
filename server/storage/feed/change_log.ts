/**
 * The change feed as kept in Deno KV (feed_types.ts): `["feed", entry]` entries, each the list of
 * the changes one KV commit made (the group committer merges concurrent writes into one commit,
 * and their changes into one entry: one mutation per commit, not per write), written by that
 * commit, read in order and removed in batches once the followers have them.
 *
 * Entry positions come from one counter per process (a data dir has one writer): at least the
 * clock in ms × 1000 and always above the last position handed out, in the feed, or removed
 * (`["feedseq"]`, written with each removal), so a position is never reused, whatever the clock
 * does across restarts. A change's own position (`ObjectChange.seq`) is its entry's × 1024 plus
 * its index in the entry.
 *
 * An entry is positioned when its commit is built, and commits (a merged one and a write of its
 * own) may end out of that order. The log therefore knows the entries still being committed, and
 * `read` stops below the lowest of them: whatever it has returned, no lower position can appear
 * later, so a reader may go on from the last position it was given (and remove lazily) without
 * ever missing a change.
 */
import type { Clock } from "../../clock.ts";
import type { MetaStore, MetaWrite } from "../meta/store.ts";
import { type AppendLog, valueSize } from "../meta/group_commit.ts";
import { FEED_HIGH_WATER, FEED_PREFIX, feedKey } from "../meta/keys.ts";
import type { BucketRecord } from "../types.ts";
import type { ChangeEvent, ChangeFeed, ChangeOrigin, ObjectChange } from "./feed_types.ts";

/** Entries per removal commit (Deno KV allows 1000 mutations; one more is the high-water mark). */
const REMOVE_BATCH = 500;
/** Changes per entry at most: a change's position is its entry's × 1024 plus its index. */
const ENTRY_CHANGES = 1024;
/** Estimated bytes of one entry at most (Deno KV takes values up to 64 KiB). */
const ENTRY_BYTES = 60_000;

/** What a write tells the log about the change it commits. */
export interface ChangeFacts {
  key: string;
  versionId: string | null;
  size?: number;
  etag?: string;
  deleteMarker?: boolean;
  /** The version this write made was marked replication PENDING (its record says so). */
  replicationPending?: boolean;
}

/** What the log knows of the feed when the store opens (`loadFeedState`). */
export interface FeedState {
  /** The highest entry position in the feed or ever removed. */
  last: bigint;
  /** Changes in the feed. */
  depth: number;
}

/** Reads the counter (the last entry, the high-water mark) and the depth from KV. */
export async function loadFeedState(kv: Deno.Kv): Promise<FeedState> {
  const hw = await kv.get<bigint>(FEED_HIGH_WATER);
  let last = typeof hw.value === "bigint" ? hw.value : 0n;
  let depth = 0;
  for await (const e of kv.list<StoredEntry>({ prefix: FEED_PREFIX })) {
    depth += changesOf(e.value).length;
    const seq = e.key[1] as bigint;
    if (seq > last) last = seq;
  }
  return { last, depth };
}

export class ChangeLog implements ChangeFeed, AppendLog {
  #last: bigint;
  #depth: number;
  /** Entries in commits not yet ended -> their number of changes. */
  readonly #inFlight = new Map<bigint, number>();
  /** Resolves the waiters of `next()` at the next commit that records a change. */
  #wake: (() => void) | null = null;
  #woken: Promise<void>;
  /** A change was committed since the last `read` (so `next` resolves at once). */
  #pending: boolean;

  constructor(
    private readonly meta: MetaStore,
    private readonly clock: Clock,
    state: FeedState,
  ) {
    this.#last = state.last;
    this.#depth = state.depth;
    this.#pending = state.depth > 0;
    this.#woken = this.#arm();
  }

  /** Whether writes to `bucket` are recorded (it has a follower). */
  follows(bucket: BucketRecord): boolean {
    return (bucket.feed?.length ?? 0) > 0;
  }

  /** Adds the change to the feed entry of `op`'s commit when the bucket has followers. */
  record(op: MetaWrite, bucket: BucketRecord, origin: ChangeOrigin, facts: ChangeFacts): void {
    if (!this.follows(bucket)) return;
    op.append(encodeChange(this.clock.now(), bucket, origin, facts));
  }

  /** AppendLog: sets the entries of one commit's changes on `op`. */
  add(op: Deno.AtomicOperation, values: unknown[]): bigint[] {
    const positions: bigint[] = [];
    let chunk: unknown[] = [];
    let bytes = 0;
    const flush = () => {
      const seq = this.#take();
      op.set(feedKey(seq), chunk);
      this.#inFlight.set(seq, chunk.length);
      positions.push(seq);
      chunk = [];
      bytes = 0;
    };
    for (const v of values) {
      const size = valueSize(v);
      if (chunk.length && (bytes + size > ENTRY_BYTES || chunk.length === ENTRY_CHANGES)) flush();
      chunk.push(v);
      bytes += size;
    }
    if (chunk.length) flush();
    return positions;
  }

  /** AppendLog: the commit of the entries at `positions` ended (`ok`: it committed). */
  settled(positions: bigint[], ok: boolean): void {
    for (const seq of positions) {
      const n = this.#inFlight.get(seq) ?? 0;
      this.#inFlight.delete(seq);
      if (ok) this.#depth += n;
    }
    // A failed commit may have held back changes after it: readers look again.
    this.#pending = true;
    this.#wake?.();
  }

  /** Whole entries only: the answer may pass `limit` by the rest of its last entry. */
  async read(limit: number, after?: string): Promise<ObjectChange[]> {
    this.#pending = false;
    let below: bigint | null = null;
    for (const s of this.#inFlight.keys()) if (below === null || s < below) below = s;
    const from = after === undefined ? null : BigInt(after);
    const first = from === null ? null : from / BigInt(ENTRY_CHANGES);
    const selector: Deno.KvListSelector = first === null
      ? { prefix: FEED_PREFIX }
      : { prefix: FEED_PREFIX, start: feedKey(first) };
    const out: ObjectChange[] = [];
    for await (const e of this.meta.list<StoredEntry>(selector)) {
      const entry = e.key[1] as bigint;
      if (below !== null && entry >= below) break;
      changesOf(e.value).forEach((c, i) => {
        const seq = entry * BigInt(ENTRY_CHANGES) + BigInt(i);
        if (from === null || seq > from) out.push(decodeChange(seq, c));
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Removes the entries of `changes` (reads end at whole entries, so each is fully handed over). */
  async remove(changes: ObjectChange[]): Promise<void> {
    const entries = new Map<bigint, number>();
    for (const c of changes) {
      const entry = BigInt(c.seq) / BigInt(ENTRY_CHANGES);
      entries.set(entry, (entries.get(entry) ?? 0) + 1);
    }
    const all = [...entries];
    for (let i = 0; i < all.length; i += REMOVE_BATCH) {
      const batch = all.slice(i, i + REMOVE_BATCH);
      const op = this.meta.write();
      let high = 0n;
      let n = 0;
      for (const [entry, count] of batch) {
        if (entry > high) high = entry;
        op.delete(feedKey(entry));
        n += count;
      }
      const hw = await this.meta.get<bigint>(FEED_HIGH_WATER);
      if (typeof hw.value !== "bigint" || hw.value < high) op.set(FEED_HIGH_WATER, high);
      await op.commit();
      this.#depth = Math.max(0, this.#depth - n);
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

  /** The next entry position. */
  #take(): bigint {
    const floor = BigInt(Math.max(0, Math.floor(this.clock.now()))) * 1000n;
    const seq = this.#last >= floor ? this.#last + 1n : floor;
    this.#last = seq;
    return seq;
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
  // Appended, never inserted: a stored change keeps its event's index.
  "ObjectRetention:Put",
  "ObjectLegalHold:Put",
];
const EVENT_INDEX = new Map(EVENTS.map((e, i) => [e, i]));

/**
 * A change as stored: a tuple, not an object, so no field name is written with every change (each
 * byte of it is in the object's commit: a 4 KiB PUT into a followed bucket lost ~7% of its rate
 * with the object form at one client, ~20% at 32).
 * [time, bucketId, ns, bucket, key, versionId, event, size, etag, flags, principalId, sourceIp,
 * requestId]; flags: 1 delete marker, 2 replica, 4 marked replication PENDING, 8 whether it was
 * marked is known (changes written before flag 4 existed leave it unknown).
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
    (facts.deleteMarker ? 1 : 0) | (origin.replica ? 2 : 0) |
    (facts.replicationPending === undefined ? 0 : facts.replicationPending ? 12 : 8),
    origin.principalId ?? null,
    origin.sourceIp ?? null,
    origin.requestId ?? null,
  ];
}

/** A stored entry: the changes of one commit (a single change: written before entries were lists). */
type StoredEntry = StoredChange[] | StoredChange;

function changesOf(v: StoredEntry): StoredChange[] {
  return Array.isArray(v[0]) ? v as StoredChange[] : [v as StoredChange];
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
  if (flags & 8) c.replicationPending = (flags & 4) !== 0;
  if (who !== null) c.principalId = who;
  if (ip !== null) c.sourceIp = ip;
  if (req !== null) c.requestId = req;
  return c;
}
