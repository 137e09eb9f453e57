/**
 * Every stored version of a bucket in ListObjectVersions order (key names in byte order, each
 * key's versions newest first). Versions live in `["ver", bucket, key, sortId]`, except the
 * `null` version of a key that never had another one, which is its `["obj"]` record alone
 * (`solo`, see versions.ts): the walk merges the two ranges.
 */
import { objectKey, objectPrefix, versionKey, versionPrefix } from "../meta/keys.ts";
import { compareUtf8 } from "../listing/listing.ts";
import type { StorageCore } from "../core.ts";
import type { ObjectRecord } from "../types.ts";

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

type Range = { start: Deno.KvKey; end: Deno.KvKey } | { prefix: Deno.KvKey; start: Deno.KvKey };

/** The versions from `from` up to (not including) key name `endName`, in listing order. */
export async function* walkVersions(
  core: StorageCore,
  bucketId: string,
  from: WalkStart,
  endName: string | null,
  batchSize = 500,
): AsyncGenerator<WalkedVersion> {
  const range = (prefix: Deno.KvKey, start: Deno.KvKey, startName: string): Range | null => {
    if (endName === null) return { prefix, start };
    if (compareUtf8(startName, endName) >= 0) return null;
    return { start, end: [...prefix, endName] };
  };
  // A solo key has one version: resuming after a version of `name` skips its solo record.
  const objName = from.afterSort === undefined ? from.name : from.name + "\0";
  const verRange = range(
    versionPrefix(bucketId),
    from.afterSort === undefined
      ? [...versionPrefix(bucketId), from.name]
      : versionKey(bucketId, from.name, from.afterSort + "\0"),
    from.name,
  );
  const objRange = range(objectPrefix(bucketId), objectKey(bucketId, objName), objName);
  const vers = verRange ? core.meta.list<ObjectRecord>(verRange, { batchSize }) : null;
  const objs = objRange ? core.meta.list<ObjectRecord>(objRange, { batchSize }) : null;
  const nextVer = async (): Promise<WalkedVersion | null> => {
    const r = await vers?.next();
    if (!r || r.done) return null;
    return { name: r.value.key[2] as string, sort: r.value.key[3] as string, rec: r.value.value };
  };
  const nextSolo = async (): Promise<WalkedVersion | null> => {
    for (;;) {
      const r = await objs?.next();
      if (!r || r.done) return null;
      const rec = r.value.value;
      if (rec.solo) return { name: r.value.key[2] as string, sort: soloSort(rec), rec };
    }
  };
  let v = await nextVer();
  let o = await nextSolo();
  while (v || o) {
    // A key is solo or has `ver` entries, never both; on a tie the entries come first.
    if (o && (!v || compareUtf8(o.name, v.name) < 0)) {
      yield o;
      o = await nextSolo();
    } else {
      yield v!;
      v = await nextVer();
    }
  }
}

/** The versions of one key, newest first. */
export async function keyVersions(
  core: StorageCore,
  bucketId: string,
  key: string,
): Promise<ObjectRecord[]> {
  const out: ObjectRecord[] = [];
  for await (const v of walkVersions(core, bucketId, { name: key }, key + "\0")) out.push(v.rec);
  return out;
}
