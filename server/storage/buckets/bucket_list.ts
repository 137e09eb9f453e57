/**
 * ListBuckets pages, and an in-memory copy of the bucket lists of recently listed namespaces.
 * Deno KV costs ~5-15 µs per listed bucket record (a KV scan of 10,000 buckets is 50-150 ms), so a
 * namespace's list is read once and then kept in name order as slim, frozen entries: a page is a
 * binary search and a walk.
 *
 * - The first ListBuckets of a namespace reads its records (concurrent first requests share the
 *   read) and keeps them while the namespaces held stay within `maxBytes` (estimated by
 *   heap_size.ts, ~220 bytes a bucket; the least recently listed go first; a namespace larger
 *   than the bound is always paged from KV).
 * - Every commit that creates, changes or deletes a bucket record (buckets.ts) reports it when it
 *   returns: the entry is put in place by a binary search (`applied`), or the namespace's copy is
 *   dropped when the commit's outcome is unknown (`forget`). A read that overlaps any change is
 *   answered but not kept.
 * - One process owns a data dir, so no other writer can change the records behind this copy.
 */
import { bucketPrefix } from "../meta/keys.ts";
import { heapBytes, MAP_ENTRY } from "../meta/heap_size.ts";
import type { BucketRecord, ListBucketsInput, ListBucketsPage, ListedBucket } from "../types.ts";

/** The longest bucket name (names.ts). */
const MAX_BUCKET_NAME = 63;

/** What a namespace's copy costs besides its entries (map entry, array and copy objects). */
export const COPY_BYTES = MAP_ENTRY + 64;

/** Estimated bytes of one entry in a copy (the entry and its array slot). */
export function entryBytes(b: ListedBucket): number {
  return heapBytes(b) + 8;
}

/** The listing entry of a bucket record. */
export function listedBucket(rec: BucketRecord): ListedBucket {
  return Object.freeze({
    name: rec.name,
    created: rec.created,
    region: rec.region,
    ownerId: rec.ownerId,
  });
}

/**
 * First index whose name is > `start` (>= when `inclusive`). Bucket names are ASCII (names.ts),
 * so string order is KV's byte order.
 */
function searchFrom(entries: readonly ListedBucket[], start: string, inclusive: boolean): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const name = entries[mid].name;
    if (name < start || (!inclusive && name === start)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function wanted(b: ListedBucket, input: ListBucketsInput): boolean {
  return (input.region === undefined || b.region === input.region) &&
    (input.ownerId === undefined || b.ownerId === input.ownerId);
}

/** The page `input` asks for, out of a namespace's entries in name order. */
export function pageOf(entries: readonly ListedBucket[], input: ListBucketsInput): ListBucketsPage {
  const { prefix, after } = input;
  let i = after !== undefined && after >= prefix
    ? searchFrom(entries, after, false)
    : searchFrom(entries, prefix, true);
  const buckets: ListedBucket[] = [];
  // The walk starts at or past `prefix`: the first name without it is past every name with it.
  for (; i < entries.length && entries[i].name.startsWith(prefix); i++) {
    if (!wanted(entries[i], input)) continue;
    if (buckets.length >= input.limit) return { buckets, truncated: true };
    buckets.push(entries[i]);
  }
  return { buckets, truncated: false };
}

/** The page `input` asks for, read from KV (from its first possible name on). */
export async function scanPage(
  kv: Pick<Deno.Kv, "list">,
  ns: string,
  input: ListBucketsInput,
): Promise<ListBucketsPage> {
  const { prefix, after } = input;
  // No bucket name is longer (names.ts), and a longer prefix could pass KV's key size limit.
  if (prefix.length > MAX_BUCKET_NAME) return { buckets: [], truncated: false };
  // "\0" sorts right after `after` itself: the page starts past it.
  const start = after !== undefined && after >= prefix ? after + "\0" : prefix;
  const buckets: ListedBucket[] = [];
  const iter = kv.list<BucketRecord>(
    { prefix: bucketPrefix(ns), start: [...bucketPrefix(ns), start] },
    { batchSize: Math.min(1000, Math.max(10, input.limit + 1)) },
  );
  for await (const e of iter) {
    const b = listedBucket(e.value);
    if (!b.name.startsWith(prefix)) break;
    if (!wanted(b, input)) continue;
    if (buckets.length >= input.limit) return { buckets, truncated: true };
    buckets.push(b);
  }
  return { buckets, truncated: false };
}

/** A namespace's buckets in name order, and what they cost. */
interface BucketCopy {
  entries: ListedBucket[];
  bytes: number;
}

export class BucketListMemory {
  /** Namespace -> its copy; least recently listed first. */
  #copies = new Map<string, BucketCopy>();
  /** Reads of a namespace's records in flight, shared by the requests that wait for them. */
  #loads = new Map<string, Promise<ListedBucket[] | null>>();
  /** Namespaces found larger than the bound, paged from KV until one of their buckets goes. */
  #tooLarge = new Set<string>();
  /** Moves on every change: a read that overlapped one is not kept. */
  #gen = 0;
  /** Estimated bytes held over all namespaces. */
  #total = 0;

  constructor(
    private readonly kv: Pick<Deno.Kv, "list">,
    /** Estimated bytes held over all namespaces (0 disables the copy: pages are read from KV). */
    readonly maxBytes: number,
  ) {}

  /** Estimated bytes held over all namespaces. */
  get bytes(): number {
    return this.#total;
  }

  /** Whether the namespace's list is held in memory. */
  has(ns: string): boolean {
    return this.#copies.has(ns);
  }

  /** A page of the namespace's buckets, from memory once its list has been read. */
  async page(ns: string, input: ListBucketsInput): Promise<ListBucketsPage> {
    const copy = this.#copies.get(ns);
    if (copy) {
      this.#copies.delete(ns);
      this.#copies.set(ns, copy);
      return pageOf(copy.entries, input);
    }
    if (this.maxBytes === 0 || this.#tooLarge.has(ns)) return scanPage(this.kv, ns, input);
    let load = this.#loads.get(ns);
    if (!load) {
      load = this.#load(ns);
      this.#loads.set(ns, load);
    }
    const entries = await load;
    return entries ? pageOf(entries, input) : scanPage(this.kv, ns, input);
  }

  /**
   * After a commit that stored the bucket `name` of `ns` (`entry`) or deleted it (null): the
   * namespace's copy, if held, is changed to match.
   */
  applied(ns: string, name: string, entry: ListedBucket | null): void {
    this.#gen++;
    if (!entry) this.#tooLarge.delete(ns);
    const copy = this.#copies.get(ns);
    if (!copy) return;
    const list = copy.entries;
    const i = searchFrom(list, name, true);
    const present = i < list.length && list[i].name === name;
    const before = copy.bytes;
    if (present) copy.bytes -= entryBytes(list[i]);
    if (entry) copy.bytes += entryBytes(entry);
    if (entry && present) list[i] = entry;
    else if (entry) list.splice(i, 0, entry);
    else if (present) list.splice(i, 1);
    this.#total += copy.bytes - before;
    this.#evict();
  }

  /** A commit on the namespace's buckets has an unknown outcome: its copy is dropped. */
  forget(ns: string): void {
    this.#gen++;
    this.#tooLarge.delete(ns);
    this.#drop(ns);
  }

  /** Reads the namespace's entries; keeps them unless a change overlapped or they are too many. */
  async #load(ns: string): Promise<ListedBucket[] | null> {
    const gen = this.#gen;
    const entries: ListedBucket[] = [];
    let bytes = COPY_BYTES;
    try {
      const iter = this.kv.list<BucketRecord>({ prefix: bucketPrefix(ns) }, { batchSize: 1000 });
      for await (const e of iter) {
        const b = listedBucket(e.value);
        entries.push(b);
        bytes += entryBytes(b);
        // Past the bound the copy would not be kept: pages come from KV instead.
        if (bytes > this.maxBytes) {
          this.#tooLarge.add(ns);
          return null;
        }
      }
    } finally {
      this.#loads.delete(ns);
    }
    if (gen === this.#gen) {
      this.#copies.set(ns, { entries, bytes });
      this.#total += bytes;
      this.#evict(ns);
    }
    return entries;
  }

  #drop(ns: string): void {
    const copy = this.#copies.get(ns);
    if (!copy) return;
    this.#copies.delete(ns);
    this.#total -= copy.bytes;
  }

  /** Drops the least recently listed namespaces (never `keep`) while over the bound. */
  #evict(keep?: string): void {
    for (const ns of this.#copies.keys()) {
      if (this.#total <= this.maxBytes) return;
      if (ns !== keep) this.#drop(ns);
    }
  }
}
