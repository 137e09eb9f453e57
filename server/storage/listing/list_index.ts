/**
 * The slim listing index: `["objl", bucket, key]` mirrors `["obj", bucket, key]` with only what a
 * ListObjects `<Contents>` shows, as UTF-8 JSON bytes. Deno KV decodes a byte value without V8
 * deserialization, so a 1000-key page costs about half of what decoding full object records did.
 * Every commit that sets or deletes an `obj` entry does the same to its `objl` entry
 * (`setLatest` / `clearLatest`), so the two never disagree; data written before the index
 * existed is indexed once at start (`buildListIndex`).
 */
import { objectKey, objectListKey } from "../meta/keys.ts";
import type { StorageCore } from "../core.ts";
import type { ListedObject, ObjectRecord } from "../types.ts";
import type { MetaWrite } from "../meta/store.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** ["objlmeta"] -> { v, builtAt }: set once every `obj` entry has its `objl` entry. */
export const LIST_INDEX_META: Deno.KvKey = ["objlmeta"];

/** The listing entry of a record. */
export function listEntry(rec: ObjectRecord): Uint8Array {
  const v: unknown[] = [1, rec.size, rec.etag, rec.lastModified, rec.storageClass, rec.ownerId];
  if (rec.checksum) v.push(rec.checksum.algorithm, rec.checksum.type);
  return enc.encode(JSON.stringify(v));
}

/** What `decodeListEntry(rec.key, listEntry(rec))` gives, without the round trip. */
function listedOf(rec: ObjectRecord): ListedObject {
  const o: ListedObject = {
    key: rec.key,
    size: rec.size,
    etag: rec.etag,
    lastModified: rec.lastModified,
    storageClass: rec.storageClass,
    ownerId: rec.ownerId,
  };
  if (rec.checksum) o.checksum = { algorithm: rec.checksum.algorithm, type: rec.checksum.type };
  return o;
}

/** Decodes a listing entry of `key`. */
export function decodeListEntry(key: string, bytes: Uint8Array): ListedObject {
  const v = JSON.parse(dec.decode(bytes));
  const o: ListedObject = {
    key,
    size: v[1],
    etag: v[2],
    lastModified: v[3],
    storageClass: v[4],
    ownerId: v[5],
  };
  if (v.length > 6) o.checksum = { algorithm: v[6], type: v[7] };
  return o;
}

/**
 * Makes `rec` the latest object of its key: the `obj` record and its listing entry (noted on the
 * write for the listing copy).
 */
export function setLatest(op: MetaWrite, bucketId: string, rec: ObjectRecord): void {
  op.set(objectKey(bucketId, rec.key), rec);
  op.set(objectListKey(bucketId, rec.key), listEntry(rec));
  op.listChanges.push({ key: rec.key, entry: listedOf(rec) });
}

/** The key has no latest object (none, or a delete marker): drops both entries. */
export function clearLatest(op: MetaWrite, bucketId: string, key: string): void {
  op.delete(objectKey(bucketId, key));
  op.delete(objectListKey(bucketId, key));
  op.listChanges.push({ key, entry: null });
}

/**
 * Indexes the `obj` entries of data written before the listing index existed. Runs at start,
 * before the listeners open (nothing else writes then); a crash midway redoes it.
 */
export async function buildListIndex(core: StorageCore): Promise<number> {
  if ((await core.meta.get(LIST_INDEX_META)).value) return 0;
  let n = 0;
  let op = core.meta.write();
  let inOp = 0;
  for await (const e of core.meta.list<ObjectRecord>({ prefix: ["obj"] }, { batchSize: 500 })) {
    const bucketId = e.key[1] as string;
    op.set(objectListKey(bucketId, e.value.key), listEntry(e.value));
    n++;
    if (++inOp >= 200) {
      await op.commit();
      op = core.meta.write();
      inOp = 0;
    }
  }
  if (inOp) await op.commit();
  await core.meta.set(LIST_INDEX_META, { v: 1, builtAt: core.clock.now() });
  return n;
}
