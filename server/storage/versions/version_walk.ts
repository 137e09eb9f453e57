/**
 * Every stored version of a bucket in ListObjectVersions order (key names in byte order, each
 * key's versions newest first). Versions live in `["ver", bucket, key, sortId]`, except the
 * `null` version of a key that never had another one, which is its `["obj"]` record alone
 * (`solo`, see versions.ts): the walk merges the two ranges.
 *
 * The `obj` range is read in step with the `ver` range, never ahead of it: a versioned bucket's
 * `obj` entries are mostly not solo, and a walk that looked for the next solo record read every
 * `obj` entry to the end of the bucket, so a page cost O(bucket). Both ranges are read in
 * batches sized to what the page can still use, so a page costs O(page).
 */
import { objectKey, objectPrefix, versionKey, versionPrefix } from "../meta/keys.ts";
import { compareUtf8 } from "../listing/listing.ts";
import type { MetaStore } from "../meta/store.ts";
import type { ObjectRecord } from "../types.ts";

/** What a walk reads: KV's `list` (tests count the entries). */
export interface VersionSource {
  meta: Pick<MetaStore, "list" | "getMany">;
}

/** One version met by the walk. */
export interface WalkedVersion {
  /** The object key. */
  name: string;
  /** Where the version sorts among its key's versions (a solo version's is derived). */
  sort: string;
  rec: ObjectRecord;
}

/** Where a walk starts: at key `name`, or just after its version `afterSort`. */
export interface WalkStart {
  name: string;
  afterSort?: string;
}

/** How many entries each range reads per round trip. */
export interface WalkBatches {
  /** First read of the `ver` range. */
  ver: number;
  /** First read of the `obj` range. */
  obj: number;
  /**
   * How many versions the caller may take (the page plus one). Each range's reads stay within
   * it: every `obj` entry the walk passes is a solo version it gives or the latest of a key
   * whose `ver` entries it gave, so neither range needs more than the budget plus a look-ahead.
   */
  budget: number;
}

/** Hex digits of a sort id's time part (the rest is 18 random or zero digits). */
export const SORT_HEAD = 14;

/** The time part of a sort id: an inverted microsecond-scaled clock, so newer sorts first. */
export function invertedTime(ms: number): number {
  return 9_000_000_000_000_000 - Math.floor(ms) * 1000;
}

/** A sort id from its time part and tail digits. */
export function sortIdOf(inv: number, tail: string): string {
  return inv.toString(16).padStart(SORT_HEAD, "0") + tail;
}

/**
 * The sort id a solo version takes when it becomes one of several (derived from its time, so
 * every reader agrees; a newer version's `newSortId` sorts before it).
 */
export function soloSort(rec: ObjectRecord): string {
  return sortIdOf(invertedTime(rec.lastModified), "0".repeat(18));
}

/** The record as a `["ver"]` entry holds it (without the solo mark). */
export function unsolo(rec: ObjectRecord): ObjectRecord {
  const { solo: _solo, ...r } = rec;
  return r;
}

/** KV reads are at most this many entries. */
const MAX_BATCH = 1000;
/** The first read after `skipTo` moved past everything read. */
const SEEK_BATCH = 2;

/**
 * A forward cursor over one KV range whose keys are `[...prefix, name, ...]`. It reads in
 * batches: the first of `first` entries, each next one four times larger, but never more than
 * the budget left; `skipTo` drops what lies before a key name and reads again only when the
 * buffer has nothing past it.
 */
class RangeCursor {
  #buf: Deno.KvEntry<ObjectRecord>[] = [];
  #i = 0;
  #done = false;
  #from: Deno.KvKey;
  #batch: number;
  /** Entries moved past with `advance` (those `skipTo` drops are not counted). */
  #consumed = 0;

  constructor(
    private readonly core: VersionSource,
    private readonly prefix: Deno.KvKey,
    from: Deno.KvKey,
    private readonly end: Deno.KvKey | null,
    first: number,
    private readonly budget: number,
    /** The least key after `key` in this range (keys have a fixed number of parts). */
    private readonly after: (key: Deno.KvKey) => Deno.KvKey,
  ) {
    this.#from = from;
    this.#batch = first;
  }

  /** The entry under the cursor (null at the end), read when the buffer is used up. */
  async peek(): Promise<Deno.KvEntry<ObjectRecord> | null> {
    if (this.#i < this.#buf.length) return this.#buf[this.#i];
    if (this.#done) return null;
    const limit = Math.max(1, Math.min(this.#batch, this.budget + 1 - this.#consumed, MAX_BATCH));
    this.#batch = Math.min(this.#batch * 4, MAX_BATCH);
    const sel: Deno.KvListSelector = this.end
      ? { start: this.#from, end: this.end }
      : { prefix: this.prefix, start: this.#from };
    const out: Deno.KvEntry<ObjectRecord>[] = [];
    for await (const e of this.core.meta.list<ObjectRecord>(sel, { limit, batchSize: limit })) {
      out.push(e);
    }
    if (out.length < limit) this.#done = true;
    else this.#from = this.after(out[out.length - 1].key);
    this.#buf = out;
    this.#i = 0;
    return out[0] ?? null;
  }

  advance(): void {
    this.#i++;
    this.#consumed++;
  }

  /** Moves to the first entry whose key name is at least `name` (a name past the last read). */
  skipTo(name: string): void {
    const level = this.prefix.length;
    while (this.#i < this.#buf.length) {
      if (compareUtf8(this.#buf[this.#i].key[level] as string, name) >= 0) return;
      this.#i++;
    }
    if (this.#done) return;
    const from = [...this.prefix, name];
    if (this.end && compareKeyNames(from, this.end, level) >= 0) {
      this.#done = true;
      return;
    }
    this.#from = from;
    // A new seek: past a common prefix the next entry often starts another one, so read a few
    // first (a grown batch read up to 1000 versions per folded prefix).
    this.#batch = SEEK_BATCH;
  }
}

const compareKeyNames = (a: Deno.KvKey, b: Deno.KvKey, level: number) =>
  compareUtf8(a[level] as string, b[level] as string);

/**
 * The versions from `from` up to (not including) key name `endName`, in listing order: `next()`
 * gives one at a time, `skipTo(name)` moves past every version of the names before `name`.
 */
export class VersionWalk {
  readonly #vers: RangeCursor | null;
  readonly #objs: RangeCursor | null;

  constructor(
    core: VersionSource,
    bucketId: string,
    from: WalkStart,
    endName: string | null,
    batches: WalkBatches,
  ) {
    const cursor = (
      prefix: Deno.KvKey,
      start: Deno.KvKey,
      startName: string,
      first: number,
      after: (key: Deno.KvKey) => Deno.KvKey,
    ): RangeCursor | null => {
      if (endName !== null && compareUtf8(startName, endName) >= 0) return null;
      const end = endName === null ? null : [...prefix, endName];
      return new RangeCursor(core, prefix, start, end, first, batches.budget, after);
    };
    // A solo key has one version: resuming after a version of `name` skips its solo record.
    const objName = from.afterSort === undefined ? from.name : from.name + "\0";
    this.#vers = cursor(
      versionPrefix(bucketId),
      from.afterSort === undefined
        ? [...versionPrefix(bucketId), from.name]
        : versionKey(bucketId, from.name, from.afterSort + "\0"),
      from.name,
      batches.ver,
      (k) => [k[0], k[1], k[2], (k[3] as string) + "\0"],
    );
    this.#objs = cursor(
      objectPrefix(bucketId),
      objectKey(bucketId, objName),
      objName,
      batches.obj,
      (k) => [k[0], k[1], (k[2] as string) + "\0"],
    );
  }

  /** The next version, or null when the range is done. */
  async next(): Promise<WalkedVersion | null> {
    for (;;) {
      const v = await this.#vers?.peek() ?? null;
      const o = await this.#objs?.peek() ?? null;
      if (!v && !o) return null;
      // A key is solo or has `ver` entries, never both; on a tie the entries come first.
      if (o && (!v || compareUtf8(o.key[2] as string, v.key[2] as string) < 0)) {
        this.#objs!.advance();
        const rec = o.value;
        // Not solo: the latest of a key whose `ver` entries the walk has passed or will meet.
        if (!rec.solo) continue;
        return { name: o.key[2] as string, sort: soloSort(rec), rec };
      }
      this.#vers!.advance();
      return { name: v!.key[2] as string, sort: v!.key[3] as string, rec: v!.value };
    }
  }

  /** Moves past every version of the key names before `name`. */
  skipTo(name: string): void {
    this.#vers?.skipTo(name);
    this.#objs?.skipTo(name);
  }
}

/** Batches for a walk that reads everything (a key's versions, maintenance). */
const WHOLE: WalkBatches = { ver: 100, obj: 100, budget: Infinity };

/** The versions of one key, newest first. */
export async function keyVersions(
  core: VersionSource,
  bucketId: string,
  key: string,
): Promise<ObjectRecord[]> {
  const out: ObjectRecord[] = [];
  const walk = new VersionWalk(core, bucketId, { name: key }, key + "\0", WHOLE);
  for (let v = await walk.next(); v; v = await walk.next()) out.push(v.rec);
  return out;
}
