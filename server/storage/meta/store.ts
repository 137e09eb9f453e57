/**
 * The metadata store: one object that holds everything the storage layer keeps about its Deno KV
 * file. Two handles on the file (reads on one, commits on the other), the group committer, the
 * busy retry of commits, the tenant usage accounting, and the in-memory copies (bucket records
 * and configurations, latest object records, the listing copy, new-key guesses), built here and
 * nowhere else.
 *
 * Why two handles: Deno KV runs every call of a handle on that handle's one SQLite thread, so a
 * read on the committing handle waits behind the commits queued there (measured ~1 ms per
 * `getMany` while merged commits run, against ~50 µs on a second handle). SQLite's WAL lets the
 * reading handle see the last committed state meanwhile, and a commit that has resolved is
 * visible to the next read there with the same versionstamp (`store_test.ts` checks this), so
 * checks built from its reads mean what they meant on one handle. The cost of two handles is that
 * either may hold SQLite's write lock for a moment, which a checked commit of the other meets as
 * an error: commits here are therefore sent again while that happens (`busy_retry.ts`).
 */
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import { Tuning } from "../../tuning.ts";
import { type BusyRetryStats, retryBusy } from "./busy_retry.ts";
import {
  type AtomicWrites,
  type CommitOutcome,
  type GroupAtomic,
  GroupCommitter,
} from "./group_commit.ts";
import { ChangeLog, type FeedState, loadFeedState } from "../feed/change_log.ts";
import { prepareKvFile } from "./kv_file.ts";
import { MemoCache } from "./memo_cache.ts";
import { LatestCache } from "../versions/latest_cache.ts";
import { BucketListMemory } from "../buckets/bucket_list.ts";
import { DEFAULT_LIST_MEMORY, type ListChange, ListMemory } from "../listing/list_memory.ts";
import { NewKeyGuesses } from "../versions/new_keys.ts";
import { type StatChange, UsageAccounting } from "../buckets/usage.ts";
import type { BucketRecord, QuotaPolicy, StorageObserver } from "../types.ts";

/**
 * A KV write being built: its checks and mutations go to an atomic operation (a real one, or the
 * group committer's recorder), and what it changes besides is noted on it: counter deltas for the
 * usage accounting, listing changes for the listing copy. `commit()` adds the usage accounting
 * (which may refuse the write over quota, before anything is sent), then commits.
 */
export class MetaWrite {
  /** Counter deltas of this write (`noteStats`), for the tenant usage and quotas. */
  stats: StatChange | null = null;
  /** Listing changes of this write, in order (`list_index.ts` notes them). */
  readonly listChanges: ListChange[] = [];
  /** Values for the change feed, written as one entry with those of the commit (`append`). */
  readonly appends: unknown[] = [];
  #sent = false;

  constructor(
    private readonly op: AtomicWrites,
    private readonly usage: UsageAccounting,
    private readonly send: (op: AtomicWrites, appends: unknown[]) => Promise<CommitOutcome>,
  ) {}

  /**
   * Adds a value to the change feed's entry of this write's commit (merged writes share one
   * entry, positioned when the commit is built: see feed/change_log.ts).
   */
  append(value: unknown): this {
    this.appends.push(value);
    return this;
  }

  check(...checks: Deno.AtomicCheck[]): this {
    this.op.check(...checks);
    return this;
  }

  set(key: Deno.KvKey, value: unknown): this {
    this.op.set(key, value);
    return this;
  }

  delete(key: Deno.KvKey): this {
    this.op.delete(key);
    return this;
  }

  sum(key: Deno.KvKey, n: bigint): this {
    this.op.sum(key, n);
    return this;
  }

  /** Notes a counter change this write makes, for the usage accounting at commit. */
  noteStats(change: Partial<StatChange> & { bucketId: string }): this {
    const cur = this.stats ??= { bucketId: change.bucketId, objects: 0, bytes: 0, buckets: 0 };
    cur.objects += change.objects ?? 0;
    cur.bytes += change.bytes ?? 0;
    cur.buckets += change.buckets ?? 0;
    cur.ns ??= change.ns;
    cur.uploadId ??= change.uploadId;
    return this;
  }

  async commit(): Promise<CommitOutcome> {
    if (this.#sent) throw new TypeError("This write was already committed");
    this.#sent = true;
    if (this.stats) await this.usage.account(this, this.stats);
    return await this.send(this.op, this.appends);
  }
}

export interface MetaStoreOptions {
  log: Logger;
  clock: Clock;
  /** Tenant quotas the usage accounting enforces (none without it). */
  quota?: QuotaPolicy;
  /** Listing entries held in memory over all buckets (see list_memory.ts; 0 disables). */
  listCacheEntries?: number;
  /** Estimated bytes of latest object records held in memory (latest_cache.ts; 0 disables). */
  recordCacheBytes?: number;
  /** Performance mechanisms turned off (benchmarks); all on when absent. */
  tuning?: Tuning;
  /** Told of every KV transaction's size and duration (metrics). */
  observer?: StorageObserver;
}

/** Estimated bytes of latest records kept in memory when not configured (latest_cache.ts). */
export const DEFAULT_RECORD_CACHE_BYTES = 32 * 1024 * 1024;
/**
 * Estimated bytes of bucket records, and of bucket configurations, kept in memory: about 10,000
 * plain bucket records; past that the least recently loaded are read again from KV when used.
 */
const BUCKET_CACHE_BYTES = 8 * 1024 * 1024;
/**
 * Estimated bytes of the bucket lists of recently listed namespaces (bucket_list.ts): about
 * 75,000 buckets.
 */
const BUCKET_LIST_BYTES = 16 * 1024 * 1024;

export class MetaStore {
  /** Commits that found SQLite's write lock taken by the other handle, and their retries. */
  readonly busy: BusyRetryStats = { busyWrites: 0, retries: 0 };
  /** Transactions sent to the writing handle (a merged group counts once). */
  commits = 0;
  readonly #observer: StorageObserver | null;
  /** Reads made (tests check that cached paths read nothing). */
  readonly reads = { get: 0, getMany: 0, list: 0 };
  /** Merges concurrent independent object commits into one KV transaction. */
  readonly committer: GroupCommitter;
  readonly usage: UsageAccounting;
  /** Bucket records by `ns\nname` (every S3 request looks its bucket up). */
  readonly bucketRecords = new MemoCache<BucketRecord>({ maxBytes: BUCKET_CACHE_BYTES });
  /** Bucket configurations by `bucketId\nkind` (x-amz-expiration on object requests). */
  readonly bucketConfigs = new MemoCache<unknown>({ maxBytes: BUCKET_CACHE_BYTES });
  readonly latest: LatestCache;
  readonly listMemory: ListMemory;
  /** The bucket lists of recently listed namespaces (ListBuckets). */
  readonly bucketList: BucketListMemory;
  readonly newKeys: NewKeyGuesses;
  /** The change feed: entries written in the commits of followed buckets' object changes. */
  readonly feed: ChangeLog;
  readonly #grouped: boolean;

  /** Reads go to these in turn, so they do not wait behind queued commits nor one thread. */
  readonly readers: readonly Deno.Kv[];
  #nextReader = 0;

  /** A reading handle, for code that reads KV directly (tests, checks). */
  get reader(): Deno.Kv {
    return this.readers[0];
  }

  private constructor(
    /** Commits (and unchecked writes) go here. */
    readonly writer: Deno.Kv,
    readers: Deno.Kv[],
    opts: MetaStoreOptions,
    feed: FeedState,
  ) {
    this.readers = readers;
    this.#observer = opts.observer ?? null;
    const tuning = opts.tuning ?? new Tuning();
    this.feed = new ChangeLog(this, opts.clock, feed);
    this.committer = new GroupCommitter(
      writer,
      undefined,
      (op, writes) => this.#send(op, writes),
      this.feed,
    );
    this.#grouped = tuning.on("group-commit");
    this.latest = new LatestCache(
      tuning.on("latest-cache") ? opts.recordCacheBytes ?? DEFAULT_RECORD_CACHE_BYTES : 0,
    );
    this.newKeys = new NewKeyGuesses(tuning.on("new-key-guesses"));
    this.usage = new UsageAccounting(this, opts.quota ?? null, opts.clock);
    this.bucketList = new BucketListMemory(
      this,
      tuning.on("bucket-list-memory") ? BUCKET_LIST_BYTES : 0,
    );
    const entries = opts.listCacheEntries;
    this.listMemory = new ListMemory(
      this,
      opts.log,
      entries === undefined ? DEFAULT_LIST_MEMORY : {
        maxEntries: entries,
        maxBucketEntries: Math.min(DEFAULT_LIST_MEMORY.maxBucketEntries, entries),
        maxDirs: entries > 0 ? DEFAULT_LIST_MEMORY.maxDirs : 0,
      },
    );
  }

  /** Prepares the KV file at `path` and opens both handles on it. */
  static async open(path: string, opts: MetaStoreOptions): Promise<MetaStore> {
    const tuning = opts.tuning ?? new Tuning();
    if (tuning.on("partial-expiry-index") && await prepareKvFile(path) === "unknown schema") {
      opts.log.warn("Deno KV's file has a schema this version does not know; left as it is");
    }
    const writer = await Deno.openKv(path);
    const readers = [writer];
    if (tuning.on("read-handle")) {
      readers[0] = await Deno.openKv(path);
      if (tuning.on("second-read-handle")) readers.push(await Deno.openKv(path));
    }
    return new MetaStore(writer, readers, opts, await loadFeedState(readers[0]));
  }

  get<T = unknown>(
    key: Deno.KvKey,
    options?: { consistency?: Deno.KvConsistencyLevel },
  ): Promise<Deno.KvEntryMaybe<T>> {
    this.reads.get++;
    return this.#reader().get<T>(key, options);
  }

  getMany<T extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof T]: Deno.KvKey }],
    options?: { consistency?: Deno.KvConsistencyLevel },
  ): Promise<{ [K in keyof T]: Deno.KvEntryMaybe<T[K]> }> {
    this.reads.getMany++;
    return this.#reader().getMany<T>(keys, options);
  }

  list<T = unknown>(
    selector: Deno.KvListSelector,
    options?: Deno.KvListOptions,
  ): Deno.KvListIterator<T> {
    this.reads.list++;
    return this.#reader().list<T>(selector, options);
  }

  /** A write committed on its own (bucket, upload and maintenance changes). */
  write(): MetaWrite {
    return new MetaWrite(this.writer.atomic(), this.usage, (op, appends) => {
      if (!appends.length) return this.#send(op, 1);
      return this.#sendAppending(op as Deno.AtomicOperation, appends);
    });
  }

  /**
   * A write for the object paths: its commit goes through the group committer, which merges
   * independent concurrent commits into one KV transaction (same results as `write()`).
   */
  groupWrite(): MetaWrite {
    if (!this.#grouped) return this.write();
    return new MetaWrite(this.committer.atomic(), this.usage, (op, appends) => {
      for (const a of appends) (op as GroupAtomic).append(a);
      return op.commit();
    });
  }

  /** A commit of its own with change feed values: their entry is settled whatever the outcome. */
  async #sendAppending(op: Deno.AtomicOperation, appends: unknown[]): Promise<CommitOutcome> {
    const positions = this.feed.add(op, appends);
    let ok = false;
    try {
      const res = await this.#send(op, 1);
      ok = res.ok;
      return res;
    } finally {
      this.feed.settled(positions, ok);
    }
  }

  /** Sets one entry, unchecked. */
  set(key: Deno.KvKey, value: unknown): Promise<CommitOutcome> {
    return this.write().set(key, value).commit();
  }

  /** Deletes one entry, unchecked. */
  delete(key: Deno.KvKey): Promise<CommitOutcome> {
    return this.write().delete(key).commit();
  }

  /**
   * Sends a commit of `writes` merged writes to the writing handle, again while SQLite's write
   * lock is held by the other handle (Deno KV sends an operation's checks and mutations anew on
   * each `commit()`); the observer learns its size and its time, retries included.
   */
  #send(op: AtomicWrites, writes: number): Promise<CommitOutcome> {
    this.commits++;
    const observer = this.#observer;
    if (!observer) return retryBusy(() => op.commit(), this.busy);
    const started = performance.now();
    const done = () => observer.kvCommit(writes, (performance.now() - started) / 1000);
    const sent = retryBusy(() => op.commit(), this.busy);
    sent.then(done, done);
    return sent;
  }

  /**
   * The next reading handle. Each handle runs its calls on its own SQLite thread, and SQLite's
   * WAL lets several read at once: with two, a GET that misses the caches (two point reads)
   * no longer queues behind every other request's reads on one thread.
   */
  #reader(): Deno.Kv {
    const r = this.readers;
    if (r.length === 1) return r[0];
    this.#nextReader = (this.#nextReader + 1) % r.length;
    return r[this.#nextReader];
  }

  close(): void {
    for (const r of this.readers) if (r !== this.writer) r.close();
    this.writer.close();
  }
}
