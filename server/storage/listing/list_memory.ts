/**
 * An in-memory copy of the listing index (`["objl", bucket, key]`, see list_index.ts) of recently
 * listed buckets. Deno KV costs ~2 µs per listed entry on its one SQLite thread (a page of 1000
 * is ~2 ms, more than a plain file server's whole LIST); from memory a page is a binary search
 * and a slice. A copy is a `SortedChunks`, so a commit changes it in O(log n) plus a bounded
 * splice, whatever the bucket's size.
 *
 * - The first LIST of a bucket is answered from KV and starts loading the bucket's entries in the
 *   background (buckets up to `maxBucketEntries` objects; the least recently listed buckets
 *   are dropped past `maxEntries` in all). A larger bucket gets a summary of its '/' directories
 *   instead (dir_summary.ts), which answers its `delimiter=/` pages; bounded by `maxDirs`.
 * - Every commit that changes listing entries builds them with `setLatest` / `clearLatest`,
 *   which note the change on the atomic operation; versions.ts `commitKey` hands the notes
 *   here when the commit returns: applied when it committed, the bucket's copy dropped when its
 *   outcome is unknown (it threw). Changes that arrive while a bucket loads are replayed over
 *   what the scan read (a change is a key's final state, so replaying one the scan saw is
 *   harmless).
 * - One process owns a data dir, so no other writer can change the entries behind this copy.
 * - Each state of a copy has a stamp that no other state, of any bucket, ever has (a counter
 *   drawn from at every load and every applied commit). A page read from one state carries its
 *   stamp, so the S3 front end can keep the document it wrote for the page (list_documents.ts)
 *   and know when it no longer answers.
 */
import { bucketStatKey, objectListPrefix } from "../meta/keys.ts";
import { walkBatches } from "./listing.ts";
import { decodeListEntry } from "./list_index.ts";
import { SortedChunks } from "./sorted_chunks.ts";
import { DirSummary } from "./dir_summary.ts";
import type { Logger } from "../../log.ts";
import type { ListedObject, ListObjectsInput, ListObjectsPage } from "../types.ts";

/** A key's listing entry after a commit (null: the key has no latest object any more). */
export interface ListChange {
  key: string;
  entry: ListedObject | null;
}

export interface ListMemoryLimits {
  /** Buckets with more objects get a directory summary instead of a copy. */
  maxBucketEntries: number;
  /** Entries kept over all buckets (0 disables the copy). */
  maxEntries: number;
  /**
   * Directories kept in summaries over all buckets (0 disables them); a bucket with more is
   * always listed from KV.
   */
  maxDirs: number;
}

export const DEFAULT_LIST_MEMORY: ListMemoryLimits = {
  maxBucketEntries: 250_000,
  maxEntries: 1_000_000,
  maxDirs: 100_000,
};

/** Distinct strings one load shares (storage classes and owners: a bucket has few). */
const MAX_SHARED_STRINGS = 1_000;

/**
 * Decodes the entries of one load. Each decoded entry would get strings of its own for the
 * values most entries repeat (storage class, owner): sharing them saves ~40 of ~230 heap bytes
 * an entry (server/storage/listing/list_memory_measure.ts).
 */
export class EntryDecoder {
  readonly #strings = new Map<string, string>();

  decode(key: string, bytes: Uint8Array): ListedObject {
    const e = decodeListEntry(key, bytes);
    e.storageClass = this.#shared(e.storageClass);
    e.ownerId = this.#shared(e.ownerId);
    return Object.freeze(e);
  }

  #shared(s: string): string {
    const known = this.#strings.get(s);
    if (known !== undefined) return known;
    if (this.#strings.size < MAX_SHARED_STRINGS) this.#strings.set(s, s);
    return s;
  }
}

/** Buckets remembered as having too many directories; past it, the memory starts over. */
const MAX_REFUSED = 10_000;

/** A bucket's entries in listing (UTF-8 byte) order of their keys. */
type BucketCopy = SortedChunks<ListedObject>;

function summarize(summary: DirSummary, changes: ListChange[]): void {
  for (const ch of changes) {
    if (ch.entry) summary.add(ch.key);
    else summary.remove(ch.key);
  }
}

function applyTo(copy: BucketCopy, changes: ListChange[]): number {
  let delta = 0;
  for (const ch of changes) {
    if (ch.entry) {
      if (copy.set(Object.freeze(ch.entry))) delta++;
    } else if (copy.delete(ch.key)) delta--;
  }
  return delta;
}

export class ListMemory {
  /** Loaded copies, least recently listed first. */
  #copies = new Map<string, BucketCopy>();
  /** Buckets being loaded -> changes committed meanwhile (null: an outcome was unknown). */
  #loading = new Map<string, ListChange[] | null>();
  #total = 0;
  /** Directory summaries of buckets too large for a copy, least recently listed first. */
  #summaries = new Map<string, DirSummary>();
  /** Buckets whose directories exceeded `maxDirs` (listed from KV until restart). */
  #refused = new Set<string>();
  /** Background loads in flight (awaited by `idle`). */
  #pending = new Set<Promise<void>>();
  /** Loaded copies -> the stamp of their current state. */
  #stamps = new Map<string, number>();
  /** The last stamp given out. */
  #lastStamp = 0;

  constructor(
    private readonly kv: Pick<Deno.Kv, "get" | "list">,
    private readonly log: Logger,
    readonly limits: ListMemoryLimits = DEFAULT_LIST_MEMORY,
  ) {}

  /** Entries held over all buckets. */
  get entries(): number {
    return this.#total;
  }

  /** Resolves when no background load is in flight (before KV closes). */
  async idle(): Promise<void> {
    while (this.#pending.size) await Promise.all(this.#pending);
  }

  /** Whether the bucket's listing is held in memory. */
  has(bucketId: string): boolean {
    return this.#copies.has(bucketId);
  }

  /** The bucket's directory summary, if held (for tests). */
  summary(bucketId: string): DirSummary | undefined {
    return this.#summaries.get(bucketId);
  }

  /**
   * The page from memory when the bucket's copy is loaded (or, for a `delimiter=/` page, its
   * directory summary), else null (and the copy or summary starts loading, unless it is already
   * or both are disabled).
   */
  list(bucketId: string, input: ListObjectsInput): Promise<ListObjectsPage> | null {
    const copy = this.#copies.get(bucketId);
    const summary = this.#summaries.get(bucketId);
    if (summary) {
      this.#summaries.delete(bucketId);
      this.#summaries.set(bucketId, summary);
      return DirSummary.answers(input) ? summary.list(this.kv, bucketId, input) : null;
    }
    if (!copy) {
      if (this.limits.maxEntries > 0 && !this.#loading.has(bucketId)) {
        const p = this.load(bucketId);
        this.#pending.add(p);
        p.finally(() => this.#pending.delete(p));
      }
      return null;
    }
    this.#copies.delete(bucketId);
    this.#copies.set(bucketId, copy);
    const stamp = this.#stamps.get(bucketId);
    // The walk awaits between batches: a commit applied meanwhile leaves a page of two states.
    return listCopy(copy, input).then((page) =>
      stamp !== undefined && this.#stamps.get(bucketId) === stamp ? { ...page, stamp } : page
    );
  }

  /**
   * The stamp of the bucket copy's state, if the copy is held; counts as a listing of the bucket
   * (its copy is kept before those listed less recently).
   */
  stamp(bucketId: string): number | null {
    const copy = this.#copies.get(bucketId);
    if (!copy) return null;
    this.#copies.delete(bucketId);
    this.#copies.set(bucketId, copy);
    return this.#stamps.get(bucketId) ?? null;
  }

  /** Gives the bucket's copy a stamp no state has had. */
  #restamp(bucketId: string): void {
    this.#stamps.set(bucketId, ++this.#lastStamp);
  }

  /** Forgets a copy that is no longer held. */
  #forget(bucketId: string, copy: BucketCopy): void {
    this.#copies.delete(bucketId);
    this.#stamps.delete(bucketId);
    this.#total -= copy.size;
  }

  /**
   * Loads a bucket's copy, or its directory summary when it has more than `maxBucketEntries`
   * objects (in the background when called by `list`); resolves when done.
   */
  async load(bucketId: string): Promise<void> {
    if (this.#copies.has(bucketId) || this.#loading.has(bucketId)) return;
    if (this.#summaries.has(bucketId)) return;
    this.#loading.set(bucketId, []);
    try {
      const max = Math.min(this.limits.maxBucketEntries, this.limits.maxEntries);
      const stat = await this.kv.get<Deno.KvU64>(bucketStatKey(bucketId, "objects"));
      if (Number(stat.value?.value ?? 0n) > max) return await this.#loadSummary(bucketId);
      const copy: BucketCopy = new SortedChunks();
      const decoder = new EntryDecoder();
      const iter = this.kv.list<Uint8Array>({ prefix: objectListPrefix(bucketId) }, {
        batchSize: 1000,
      });
      for await (const e of iter) {
        const key = e.key[2] as string;
        copy.append(decoder.decode(key, e.value));
        if (copy.size > max || this.#loading.get(bucketId) === null) return;
      }
      const meanwhile = this.#loading.get(bucketId);
      if (!meanwhile) return;
      applyTo(copy, meanwhile);
      this.#copies.set(bucketId, copy);
      this.#restamp(bucketId);
      this.#total += copy.size;
      this.#evict(bucketId);
    } catch (e) {
      this.log.warn("listing copy load failed; listing from KV", { bucketId, error: String(e) });
    } finally {
      this.#loading.delete(bucketId);
    }
  }

  /** Scans a bucket's keys into a directory summary (while `load` holds its place). */
  async #loadSummary(bucketId: string): Promise<void> {
    if (this.limits.maxDirs <= 0 || this.#refused.has(bucketId)) return;
    const summary = new DirSummary();
    const iter = this.kv.list({ prefix: objectListPrefix(bucketId) }, { batchSize: 1000 });
    for await (const e of iter) {
      summary.add(e.key[2] as string);
      if (summary.dirs > this.limits.maxDirs) return this.#refuse(bucketId);
      if (this.#loading.get(bucketId) === null) return;
    }
    const meanwhile = this.#loading.get(bucketId);
    if (!meanwhile) return;
    summarize(summary, meanwhile);
    this.#summaries.set(bucketId, summary);
    this.#fitSummaries(bucketId);
  }

  /** Applies the listing changes of a commit that succeeded. */
  committed(bucketId: string, changes: ListChange[]): void {
    if (!changes.length) return;
    const copy = this.#copies.get(bucketId);
    if (copy) {
      this.#total += applyTo(copy, changes);
      this.#restamp(bucketId);
      if (this.#total > this.limits.maxEntries) this.#evict(bucketId);
      if (copy.size > this.limits.maxBucketEntries) this.drop(bucketId);
      return;
    }
    const summary = this.#summaries.get(bucketId);
    if (summary) {
      const dirs = summary.dirs;
      summarize(summary, changes);
      // Only a new directory can make the summaries too large.
      if (summary.dirs > dirs) this.#fitSummaries(bucketId);
      return;
    }
    const meanwhile = this.#loading.get(bucketId);
    if (meanwhile) meanwhile.push(...changes);
  }

  /** A commit's outcome is unknown: the bucket is listed from KV until it is loaded again. */
  drop(bucketId: string): void {
    const copy = this.#copies.get(bucketId);
    if (copy) this.#forget(bucketId, copy);
    this.#summaries.delete(bucketId);
    if (this.#loading.has(bucketId)) this.#loading.set(bucketId, null);
  }

  /** The bucket has more directories than summaries may hold: it is listed from KV. */
  #refuse(bucketId: string): void {
    this.#summaries.delete(bucketId);
    if (this.#refused.size >= MAX_REFUSED) this.#refused.clear();
    this.#refused.add(bucketId);
  }

  /**
   * Drops the least recently listed summaries (never `keep`) until the directories fit; `keep`
   * itself when it alone is over the bound.
   */
  #fitSummaries(keep: string): void {
    const own = this.#summaries.get(keep)?.dirs ?? 0;
    if (own > this.limits.maxDirs) return this.#refuse(keep);
    let total = 0;
    for (const s of this.#summaries.values()) total += s.dirs;
    for (const [id, s] of this.#summaries) {
      if (total <= this.limits.maxDirs) return;
      if (id === keep) continue;
      this.#summaries.delete(id);
      total -= s.dirs;
    }
  }

  /** Drops the least recently listed copies (never `keep`) until the total fits. */
  #evict(keep: string): void {
    for (const [id, copy] of this.#copies) {
      if (this.#total <= this.limits.maxEntries) return;
      if (id === keep) continue;
      this.#forget(id, copy);
    }
    if (this.#total > this.limits.maxEntries) this.drop(keep);
  }
}

/**
 * A page from a copy, through the same delimiter walk as the KV listing. Each batch is located
 * again by name, so the walk never depends on positions staying put.
 */
function listCopy(copy: BucketCopy, input: ListObjectsInput): Promise<ListObjectsPage> {
  const objects: ListedObject[] = [];
  const commonPrefixes: string[] = [];
  const seek = async function* (start: string, inclusive: boolean) {
    let from = start;
    let incl = inclusive;
    // With a delimiter a seek often ends after one entry (the next common prefix).
    for (let batch = input.delimiter ? 16 : 1001;; batch = Math.min(batch * 4, 1001)) {
      const out = copy.slice(from, incl, batch);
      if (!out.length) return;
      yield out;
      from = out[out.length - 1].key;
      incl = false;
    }
  };
  return walkBatches(
    input,
    seek,
    (e) => e.key,
    (e) => objects.push(e),
    (p) => commonPrefixes.push(p),
  ).then((r) => ({ objects, commonPrefixes, truncated: r.truncated, last: r.last }));
}
