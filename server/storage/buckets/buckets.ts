/** Bucket records, configurations and counters in Deno KV. */
import { S3Error } from "../../s3/errors.ts";
import {
  BUCKET_CONFIG_KINDS_BUILT,
  bucketConfigKey,
  bucketConfigKindKey,
  bucketConfigKindPrefix,
  bucketIdKey,
  bucketKey,
  bucketPrefix,
  bucketStatKey,
  objectPrefix,
} from "../meta/keys.ts";
import type { BucketRecord, BucketStats, ListBucketsInput, ListBucketsPage } from "../types.ts";
import type { StorageCore } from "../core.ts";
import { versionsEmpty } from "../versions/versions.ts";
import { validateBucketName } from "../../s3/names.ts";
import { listedBucket } from "./bucket_list.ts";

export async function listBuckets(core: StorageCore, ns: string): Promise<BucketRecord[]> {
  const out: BucketRecord[] = [];
  for await (const e of core.meta.list<BucketRecord>({ prefix: bucketPrefix(ns) })) {
    out.push(e.value);
  }
  return out;
}

/** A ListBuckets page of one namespace (from memory once the namespace was listed). */
export function listBucketsPage(
  core: StorageCore,
  ns: string,
  input: ListBucketsInput,
): Promise<ListBucketsPage> {
  return core.meta.bucketList.page(ns, input);
}

/** Every bucket of every namespace, by namespace and name. */
export async function listAllBuckets(core: StorageCore): Promise<BucketRecord[]> {
  const out: BucketRecord[] = [];
  for await (const e of core.meta.list<BucketRecord>({ prefix: ["bucket"] })) {
    if (e.key.length === 3) out.push(e.value);
  }
  return out;
}

function forgetBucket(core: StorageCore, ns: string, name: string): void {
  core.meta.bucketRecords.forget(`${ns}\n${name}`);
}

/**
 * Commits a write of the bucket record `name` of `ns` and tells the bucket list what it left
 * there: `stored` when it committed, nothing when a check failed, and a dropped copy when its
 * outcome is unknown (it threw).
 */
async function commitBucket(
  core: StorageCore,
  op: { commit(): Promise<{ ok: boolean }> },
  ns: string,
  name: string,
  stored: BucketRecord | null,
): Promise<boolean> {
  let ok: boolean;
  try {
    ok = (await op.commit()).ok;
  } catch (e) {
    core.meta.bucketList.forget(ns);
    throw e;
  } finally {
    forgetBucket(core, ns, name);
  }
  if (ok) core.meta.bucketList.applied(ns, name, stored && listedBucket(stored));
  return ok;
}

export function getBucket(core: StorageCore, ns: string, name: string): Promise<BucketRecord> {
  return core.meta.bucketRecords.get(`${ns}\n${name}`, async () => {
    const e = await core.meta.get<BucketRecord>(bucketKey(ns, name));
    if (!e.value) throw new S3Error("NoSuchBucket", { fields: { BucketName: name } });
    return e.value;
  });
}

export async function getBucketById(core: StorageCore, id: string): Promise<BucketRecord | null> {
  const ref = await core.meta.get<{ ns: string; name: string }>(bucketIdKey(id));
  if (!ref.value) return null;
  const b = await core.meta.get<BucketRecord>(bucketKey(ref.value.ns, ref.value.name));
  return b.value?.id === id ? b.value : null;
}

export interface CreateBucketInput {
  ns: string;
  name: string;
  ownerId: string;
  region: string;
  objectLock?: boolean;
  /** Bucket configurations stored in the creating commit (kind -> value): ACL, ownership. */
  configs?: Record<string, unknown>;
}

export async function createBucket(
  core: StorageCore,
  input: CreateBucketInput,
): Promise<BucketRecord> {
  validateBucketName(input.name);
  const key = bucketKey(input.ns, input.name);
  const existing = await core.meta.get<BucketRecord>(key);
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
  const op = core.meta.write()
    .check(existing)
    .set(key, rec)
    .set(bucketIdKey(rec.id), { v: 1, ns: rec.ns, name: rec.name })
    .set(bucketStatKey(rec.id, "objects"), new Deno.KvU64(0n))
    .set(bucketStatKey(rec.id, "bytes"), new Deno.KvU64(0n));
  for (const [kind, value] of Object.entries(input.configs ?? {})) {
    op.set(bucketConfigKey(rec.id, kind), { v: 1, value });
    op.set(bucketConfigKindKey(kind, rec.id), { v: 1 });
  }
  op.noteStats({ bucketId: rec.id, ns: rec.ns, buckets: 1 });
  if (!(await commitBucket(core, op, rec.ns, rec.name, rec))) throw new S3Error("OperationAborted");
  return rec;
}

/** Replaces a bucket record (versioning state, lock flag) if it has not changed meanwhile. */
export async function updateBucket(
  core: StorageCore,
  bucket: BucketRecord,
  patch: (b: BucketRecord) => BucketRecord,
): Promise<BucketRecord> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const e = await core.meta.get<BucketRecord>(bucketKey(bucket.ns, bucket.name));
    if (!e.value || e.value.id !== bucket.id) throw new S3Error("NoSuchBucket");
    const next = patch(e.value);
    const op = core.meta.write().check(e).set(e.key, next);
    if (await commitBucket(core, op, bucket.ns, bucket.name, next)) return next;
  }
  throw new S3Error("OperationAborted");
}

export async function getBucketStats(core: StorageCore, bucketId: string): Promise<BucketStats> {
  const [o, b] = await core.meta.getMany<[Deno.KvU64, Deno.KvU64]>([
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
    const be = await core.meta.get<BucketRecord>(bucketKey(ns, name));
    if (!be.value) throw new S3Error("NoSuchBucket", { fields: { BucketName: name } });
    const id = be.value.id;
    const [oc, bc] = await core.meta.getMany<[Deno.KvU64, Deno.KvU64]>([
      bucketStatKey(id, "objects"),
      bucketStatKey(id, "bytes"),
    ]);
    if ((oc.value?.value ?? 0n) !== 0n) {
      throw new S3Error("BucketNotEmpty", { fields: { BucketName: name } });
    }
    // Noncurrent versions and delete markers are kept under their own prefix. (Open multipart
    // uploads do not keep a bucket: S3 deletes it, and the maintenance aborts them.)
    if (!(await versionsEmpty(core, id))) {
      throw new S3Error("BucketNotEmpty", { fields: { BucketName: name } });
    }
    const anyObject = core.meta.list({ prefix: objectPrefix(id) }, { limit: 1 });
    for await (const _ of anyObject) {
      throw new S3Error("BucketNotEmpty", { fields: { BucketName: name } });
    }
    const op = core.meta.write().check(be, oc, bc).delete(be.key).delete(bucketIdKey(id))
      .delete(oc.key).delete(bc.key);
    const cfgs = [];
    for await (const c of core.meta.list({ prefix: ["bcfg", id] })) cfgs.push(c.key);
    for (const k of cfgs.slice(0, 450)) {
      op.delete(k).delete(bucketConfigKindKey(k[2] as string, id));
    }
    op.noteStats({ bucketId: id, ns, buckets: -1 });
    if (await commitBucket(core, op, ns, name, null)) {
      forgetConfig(core, id);
      return;
    }
  }
  throw new S3Error("OperationAborted");
}

const cacheId = (bucketId: string, kind: string) => `${bucketId}\n${kind}`;

/** Forgets the cached configurations of a bucket (all kinds, or one). */
function forgetConfig(core: StorageCore, bucketId: string, kind?: string): void {
  const c = core.meta.bucketConfigs;
  if (kind !== undefined) c.forget(cacheId(bucketId, kind));
  else c.forgetPrefix(`${bucketId}\n`);
}

/**
 * Reads a bucket configuration document (policy JSON, lifecycle XML...), or null. The result is
 * shared with every other reader, hence frozen: change a copy.
 */
export async function getBucketConfig<T>(
  core: StorageCore,
  bucketId: string,
  kind: string,
): Promise<T | null> {
  return await core.meta.bucketConfigs.get(cacheId(bucketId, kind), async () => {
    const e = await core.meta.get<{ v: 1; value: T }>(bucketConfigKey(bucketId, kind));
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
  const kindKey = bucketConfigKindKey(kind, bucketId);
  const op = core.meta.write();
  if (value === null) op.delete(key).delete(kindKey);
  else op.set(key, { v: 1, value }).set(kindKey, { v: 1 });
  try {
    await op.commit();
  } finally {
    forgetConfig(core, bucketId, kind);
  }
}

/** The ids of the buckets that have a configuration of `kind` (one scan of ["bcfgk", kind]). */
export async function bucketsWithConfig(core: StorageCore, kind: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of core.meta.list({ prefix: bucketConfigKindPrefix(kind) })) {
    out.push(e.key[2] as string);
  }
  return out;
}

/**
 * Builds ["bcfgk"] from the ["bcfg"] entries once, for a data dir written before it existed
 * (one pass over the configurations, at the first start of this version).
 */
export async function indexBucketConfigKinds(core: StorageCore): Promise<void> {
  if ((await core.meta.get(BUCKET_CONFIG_KINDS_BUILT)).value) return;
  let op = core.meta.write();
  let n = 0;
  for await (const e of core.meta.list({ prefix: ["bcfg"] })) {
    const [, bucketId, kind] = e.key as [string, string, string];
    op.set(bucketConfigKindKey(kind, bucketId), { v: 1 });
    if (++n % 500 === 0) {
      await op.commit();
      op = core.meta.write();
    }
  }
  op.set(BUCKET_CONFIG_KINDS_BUILT, { v: 1, at: core.clock.now() });
  await op.commit();
}
