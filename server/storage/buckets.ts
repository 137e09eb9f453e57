/** Bucket records, configurations and counters in Deno KV. */
import { S3Error } from "../s3/errors.ts";
import {
  bucketConfigKey,
  bucketIdKey,
  bucketKey,
  bucketPrefix,
  bucketStatKey,
  objectPrefix,
} from "./meta/keys.ts";
import type { BucketRecord, BucketStats } from "./types.ts";
import { commitWithHooks, noteStatChange, type StorageCore } from "./core.ts";

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** S3 bucket naming rules; throws `InvalidBucketName`. */
export function validateBucketName(name: string): void {
  const bad = !BUCKET_NAME.test(name) ||
    name.includes("..") ||
    name.includes(".-") ||
    name.includes("-.") ||
    /^\d+\.\d+\.\d+\.\d+$/.test(name) ||
    name.startsWith("xn--") ||
    name.startsWith("sthree-") ||
    name.startsWith("amzn-s3-demo-") ||
    name.endsWith("-s3alias") ||
    name.endsWith("--ol-s3") ||
    name.endsWith(".mrap") ||
    name.endsWith("--x-s3");
  if (bad) throw new S3Error("InvalidBucketName", { fields: { BucketName: name } });
}

export async function listBuckets(core: StorageCore, ns: string): Promise<BucketRecord[]> {
  const out: BucketRecord[] = [];
  for await (const e of core.kv.list<BucketRecord>({ prefix: bucketPrefix(ns) })) out.push(e.value);
  return out;
}

/**
 * KV values that only this process changes, kept in memory. One process owns the data dir and
 * every change of a bucket record or configuration is made in this module, which drops the
 * entry afterwards. `gen` moves on every change, so a read that started before one does not
 * store what it read. Writes never trust these copies: they check the stored record in their
 * commit.
 */
class ReadCache<V> {
  #values = new Map<string, V>();
  #gen = 0;

  /** The cached value, else `load()`'s (kept unless something changed meanwhile). */
  async get(id: string, load: () => Promise<V>): Promise<V> {
    if (this.#values.has(id)) return this.#values.get(id)!;
    const gen = this.#gen;
    const v = await load();
    if (gen === this.#gen) this.#values.set(id, v);
    return v;
  }

  /** Drops one entry, or every entry whose id starts with `prefix`. */
  forget(id: string, opts: { prefix?: boolean } = {}): void {
    this.#gen++;
    if (!opts.prefix) this.#values.delete(id);
    else for (const k of this.#values.keys()) if (k.startsWith(id)) this.#values.delete(k);
  }
}

/** Per storage core: bucket records by `ns\nname` (every S3 request looks its bucket up). */
const recordCaches = new WeakMap<StorageCore, ReadCache<BucketRecord>>();
/** Per storage core: configurations by `bucketId\nkind` (x-amz-expiration on object requests). */
const configCaches = new WeakMap<StorageCore, ReadCache<unknown>>();

function cacheOf<V>(caches: WeakMap<StorageCore, ReadCache<V>>, core: StorageCore): ReadCache<V> {
  let c = caches.get(core);
  if (!c) caches.set(core, c = new ReadCache<V>());
  return c;
}

function forgetBucket(core: StorageCore, ns: string, name: string): void {
  cacheOf(recordCaches, core).forget(`${ns}\n${name}`);
}

export function getBucket(core: StorageCore, ns: string, name: string): Promise<BucketRecord> {
  return cacheOf(recordCaches, core).get(`${ns}\n${name}`, async () => {
    const e = await core.kv.get<BucketRecord>(bucketKey(ns, name));
    if (!e.value) throw new S3Error("NoSuchBucket", { fields: { BucketName: name } });
    // Frozen: the cached record is shared by every request that reads it.
    return Object.freeze(e.value);
  });
}

export async function getBucketById(core: StorageCore, id: string): Promise<BucketRecord | null> {
  const ref = await core.kv.get<{ ns: string; name: string }>(bucketIdKey(id));
  if (!ref.value) return null;
  const b = await core.kv.get<BucketRecord>(bucketKey(ref.value.ns, ref.value.name));
  return b.value?.id === id ? b.value : null;
}

export interface CreateBucketInput {
  ns: string;
  name: string;
  ownerId: string;
  region: string;
  objectLock?: boolean;
}

export async function createBucket(
  core: StorageCore,
  input: CreateBucketInput,
): Promise<BucketRecord> {
  validateBucketName(input.name);
  const key = bucketKey(input.ns, input.name);
  const existing = await core.kv.get<BucketRecord>(key);
  if (existing.value) {
    throw new S3Error(
      existing.value.ownerId === input.ownerId ? "BucketAlreadyOwnedByYou" : "BucketAlreadyExists",
      { fields: { BucketName: input.name } },
    );
  }
  const rec: BucketRecord = {
    v: 1,
    id: crypto.randomUUID().replaceAll("-", ""),
    name: input.name,
    ns: input.ns,
    created: core.clock.now(),
    ownerId: input.ownerId,
    region: input.region,
    versioning: input.objectLock ? "Enabled" : "Unversioned",
    objectLock: !!input.objectLock,
  };
  const op = core.kv.atomic()
    .check(existing)
    .set(key, rec)
    .set(bucketIdKey(rec.id), { v: 1, ns: rec.ns, name: rec.name })
    .set(bucketStatKey(rec.id, "objects"), new Deno.KvU64(0n))
    .set(bucketStatKey(rec.id, "bytes"), new Deno.KvU64(0n));
  noteStatChange(op, { bucketId: rec.id, ns: rec.ns, buckets: 1 });
  const res = await commitWithHooks(core, op);
  forgetBucket(core, input.ns, input.name);
  if (!res.ok) throw new S3Error("OperationAborted");
  return rec;
}

/** Replaces a bucket record (versioning state, lock flag) if it has not changed meanwhile. */
export async function updateBucket(
  core: StorageCore,
  bucket: BucketRecord,
  patch: (b: BucketRecord) => BucketRecord,
): Promise<BucketRecord> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const e = await core.kv.get<BucketRecord>(bucketKey(bucket.ns, bucket.name));
    if (!e.value || e.value.id !== bucket.id) throw new S3Error("NoSuchBucket");
    const next = patch(e.value);
    const res = await core.kv.atomic().check(e).set(e.key, next).commit();
    if (res.ok) {
      forgetBucket(core, bucket.ns, bucket.name);
      return next;
    }
  }
  throw new S3Error("OperationAborted");
}

export async function getBucketStats(core: StorageCore, bucketId: string): Promise<BucketStats> {
  const [o, b] = await core.kv.getMany<[Deno.KvU64, Deno.KvU64]>([
    bucketStatKey(bucketId, "objects"),
    bucketStatKey(bucketId, "bytes"),
  ]);
  return { objects: Number(o.value?.value ?? 0n), bytes: Number(b.value?.value ?? 0n) };
}

/**
 * Deletes an empty bucket. The check on the counter entries makes a concurrent write
 * (which bumps them in its publish commit) abort this delete instead of orphaning an object.
 */
export async function deleteBucket(core: StorageCore, ns: string, name: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const be = await core.kv.get<BucketRecord>(bucketKey(ns, name));
    if (!be.value) throw new S3Error("NoSuchBucket", { fields: { BucketName: name } });
    const id = be.value.id;
    const [oc, bc] = await core.kv.getMany<[Deno.KvU64, Deno.KvU64]>([
      bucketStatKey(id, "objects"),
      bucketStatKey(id, "bytes"),
    ]);
    if ((oc.value?.value ?? 0n) !== 0n) {
      throw new S3Error("BucketNotEmpty", { fields: { BucketName: name } });
    }
    // Versions, delete markers and multipart uploads are kept under other prefixes by later
    // features; each registers a check here through `core.bucketEmptyChecks`.
    for (const check of core.bucketEmptyChecks) {
      if (!(await check(id))) throw new S3Error("BucketNotEmpty", { fields: { BucketName: name } });
    }
    const anyObject = core.kv.list({ prefix: objectPrefix(id) }, { limit: 1 });
    for await (const _ of anyObject) {
      throw new S3Error("BucketNotEmpty", { fields: { BucketName: name } });
    }
    const op = core.kv.atomic().check(be, oc, bc).delete(be.key).delete(bucketIdKey(id))
      .delete(oc.key).delete(bc.key);
    const cfgs = [];
    for await (const c of core.kv.list({ prefix: ["bcfg", id] })) cfgs.push(c.key);
    for (const k of cfgs.slice(0, 900)) op.delete(k);
    noteStatChange(op, { bucketId: id, ns, buckets: -1 });
    const res = await commitWithHooks(core, op);
    if (res.ok) {
      forgetBucket(core, ns, name);
      forgetConfig(core, id);
      return;
    }
  }
  throw new S3Error("OperationAborted");
}

const cacheId = (bucketId: string, kind: string) => `${bucketId}\n${kind}`;

/** Forgets the cached configurations of a bucket (all kinds, or one). */
function forgetConfig(core: StorageCore, bucketId: string, kind?: string): void {
  const c = cacheOf(configCaches, core);
  if (kind !== undefined) c.forget(cacheId(bucketId, kind));
  else c.forget(`${bucketId}\n`, { prefix: true });
}

/** Reads a bucket configuration document (policy JSON, lifecycle XML...), or null. */
export async function getBucketConfig<T>(
  core: StorageCore,
  bucketId: string,
  kind: string,
): Promise<T | null> {
  return await cacheOf(configCaches, core).get(cacheId(bucketId, kind), async () => {
    const e = await core.kv.get<{ v: 1; value: T }>(bucketConfigKey(bucketId, kind));
    return e.value?.value ?? null;
  }) as T | null;
}

/** Stores (or with null removes) a bucket configuration document. */
export async function putBucketConfig<T>(
  core: StorageCore,
  bucketId: string,
  kind: string,
  value: T | null,
): Promise<void> {
  const key = bucketConfigKey(bucketId, kind);
  try {
    if (value === null) await core.kv.delete(key);
    else await core.kv.set(key, { v: 1, value });
  } finally {
    forgetConfig(core, bucketId, kind);
  }
}
