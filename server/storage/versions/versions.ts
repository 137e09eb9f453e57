/**
 * Versioning inside the shared write and delete path. Every stored version (and delete marker)
 * of a key is a `["ver", bucket, key, sortId]` record, newest first; `["obj", bucket, key]`
 * mirrors the latest version when it is not a marker, so ListObjects never sees versions;
 * `["vhead", ...]` names the latest entry and is rewritten by every commit that changes a key's
 * versions, which serializes concurrent writers of one key. The bucket's versioning state is
 * read inside the retry loop, so a write racing PutBucketVersioning commits under one state.
 *
 * Solo versions: in an Unversioned bucket a key has one version, the `null` one, and it is
 * stored as its `["obj"]` record alone, marked `solo` (no `ver`, `vhead` or `vnull` entries: a
 * small PUT's commit writes half as many rows). Readers see a solo key as one version whose sort
 * id is `soloSort(rec)`; the first write that keeps it as a noncurrent version (the bucket is
 * versioned now) gives it those entries in the same commit.
 */
import { randomHex } from "../../hex.ts";
import { S3Error } from "../../s3/errors.ts";
import {
  blobRefKey,
  bucketConfigKey,
  bucketKey,
  bucketStatKey,
  objectKey,
  u64Delta,
  versionHeadKey,
  versionKey,
  versionKeyPrefix,
  versionNullKey,
  versionPrefix,
} from "../meta/keys.ts";
import { blobGroup, blobsOf, type StorageCore } from "../core.ts";
import type { MetaWrite } from "../meta/store.ts";
import {
  checkWriteConditions,
  type PublishOptions,
  removeBlobs,
  withoutUndefined,
} from "../objects/objects.ts";
import { freePartsGroup } from "../objects/parts.ts";
import { deleteInlineRows, inlineRowCount, setInlineRows } from "../objects/inline.ts";
import { clearLatest, setLatest } from "../listing/list_index.ts";
import { invertedTime, soloSort, SORT_HEAD, sortIdOf, unsolo } from "./version_walk.ts";
import {
  assertDeletable,
  assertLockAllowed,
  defaultRetention,
  LOCK_CONFIG,
  type LockConfig,
} from "../objects/lock.ts";
import type { BucketRecord, ChangeOrigin, DeleteObjectOptions, ObjectRecord } from "../types.ts";

/** The origin of a write whose caller names none. */
const PUT_ORIGIN: ChangeOrigin = { event: "ObjectCreated:Put" };

/**
 * The origin of a delete: the caller's, with the event made to say whether a delete marker was
 * created (ObjectRemoved:… or LifecycleExpiration:…).
 */
function removalOrigin(origin: ChangeOrigin | undefined, marker: boolean): ChangeOrigin {
  const family = origin?.event.startsWith("LifecycleExpiration:")
    ? "LifecycleExpiration"
    : "ObjectRemoved";
  return { ...origin, event: `${family}:${marker ? "DeleteMarkerCreated" : "Delete"}` };
}

/** The latest entry of a key. */
export interface VersionHead {
  v: 1;
  sort: string;
  versionId: string;
  marker: boolean;
}

/** Where the `null` version of a key sorts. */
export interface NullPointer {
  v: 1;
  sort: string;
}

/** A version id (and sort id): 32 lower-case hex digits. */
export const VERSION_ID_RE = /^[0-9a-f]{32}$/;

/**
 * A sort id newer than `headSort`: 14 hex digits of an inverted microsecond-scaled clock (newest
 * sorts first) and 18 random ones. When the clock has not advanced past the head (same
 * millisecond, or a clock step back) it takes the head's value minus one, so the order of a
 * key's versions is always the commit order.
 */
export function newSortId(now: number, headSort: string | null): string {
  let inv = invertedTime(now);
  if (headSort) {
    const h = parseInt(headSort.slice(0, SORT_HEAD), 16);
    if (inv >= h) inv = h - 1;
  }
  return sortIdOf(inv, randomHex(9));
}

/** Validates a `versionId` parameter (`null` or an id this server issued). */
export function validateVersionId(v: string): void {
  if (v === "null" || VERSION_ID_RE.test(v)) return;
  throw new S3Error("InvalidArgument", {
    message: v === "" ? "Version id cannot be the empty string" : "Invalid version id specified",
    fields: { ArgumentName: "versionId", ArgumentValue: v },
  });
}

/** A stored version found by id: its sort id and entry (the `obj` entry of a solo version). */
interface FoundVersion {
  sort: string;
  entry: Deno.KvEntry<ObjectRecord>;
}

/** A stored version by id (markers included), or null. */
async function findVersion(
  core: StorageCore,
  bucketId: string,
  key: string,
  versionId: string,
): Promise<FoundVersion | null> {
  validateVersionId(versionId);
  let sort = versionId;
  if (versionId === "null") {
    const [p, o] = await core.meta.getMany<[NullPointer, ObjectRecord]>([
      versionNullKey(bucketId, key),
      objectKey(bucketId, key),
    ]);
    if (o.value?.solo) {
      return { sort: soloSort(o.value), entry: o as Deno.KvEntry<ObjectRecord> };
    }
    if (!p.value) return null;
    sort = p.value.sort;
  }
  const e = await core.meta.get<ObjectRecord>(versionKey(bucketId, key, sort));
  if (!e.value || e.value.versionId !== versionId) return null;
  return { sort, entry: e as Deno.KvEntry<ObjectRecord> };
}

function markerHeaders(versionId: string, extra: Record<string, string> = {}) {
  return { "x-amz-delete-marker": "true", "x-amz-version-id": versionId, ...extra };
}

/**
 * The record GET/HEAD/COPY/tagging address: the latest without a versionId (404 with
 * `x-amz-delete-marker` when the latest is a marker), else that version (405 for a marker).
 */
export async function getObjectRecord(
  core: StorageCore,
  bucket: BucketRecord,
  key: string,
  versionId?: string | null,
): Promise<ObjectRecord> {
  if (versionId === undefined || versionId === null) {
    // The head is only needed to tell a delete marker from no key: read it on a miss only (a
    // one-key get is cheaper on KV's single thread than a two-key getMany on every GET).
    const o = await core.meta.latest.get(bucket.id, key, async () => {
      return (await core.meta.get<ObjectRecord>(objectKey(bucket.id, key))).value;
    });
    if (o) return o;
    const h = await core.meta.get<VersionHead>(versionHeadKey(bucket.id, key));
    const headers = h.value?.marker ? markerHeaders(h.value.versionId) : undefined;
    throw new S3Error("NoSuchKey", { fields: { Key: key }, headers });
  }
  const e = (await findVersion(core, bucket.id, key, versionId))?.entry;
  if (!e) throw new S3Error("NoSuchVersion", { fields: { Key: key, VersionId: versionId } });
  if (e.value.deleteMarker) {
    throw new S3Error("MethodNotAllowed", {
      fields: { Method: "GET", ResourceType: "DeleteMarker" },
      headers: markerHeaders(versionId, {
        "last-modified": new Date(e.value.lastModified).toUTCString(),
      }),
    });
  }
  return e.value;
}

/**
 * Adds the mutations that drop a version's blob references. Spilled part lists are keyed by
 * their upload id and freed once the reference is gone (`freeRecord`).
 */
function dropVersionData(op: MetaWrite, rec: ObjectRecord): void {
  deleteInlineRows(op, rec);
  for (const b of new Set(blobsOf(rec).map(blobGroup))) op.delete(blobRefKey(b));
}

/**
 * Frees the bytes of a record whose references the last commit dropped: its blob or part files
 * now, and a chunked part list (files, chunk entries) too, like a single blob. A crash before
 * this leaves unreferenced files for the sweep and chunk indexes for the multipart maintenance.
 */
async function freeRecord(core: StorageCore, rec: ObjectRecord): Promise<void> {
  if (rec.blob || rec.parts || !rec.partsId) return await removeBlobs(core, rec);
  await freePartsGroup(core, rec.partsId).catch((e) =>
    core.log.warn("part list removal failed; the multipart maintenance will retry", {
      partsId: rec.partsId,
      error: String(e),
    })
  );
}

function refValue(bucketId: string, rec: ObjectRecord) {
  return { v: 1, bucketId, key: rec.key, versionId: rec.versionId };
}

/**
 * Commits a change of one key's versions and drops the key's cached latest record when the
 * commit returns (or throws: its outcome is then unknown), before any replaced blob is freed.
 * The in-memory listing copy gets the commit's listing changes (or drops the bucket when the
 * outcome is unknown).
 * `latest`: the record the commit makes the key's latest, cached instead when it succeeds (a
 * GET soon after a PUT is common; the record is exactly what was committed).
 */
async function commitKey(
  core: StorageCore,
  op: MetaWrite,
  bucketId: string,
  key: string,
  latest?: ObjectRecord,
): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
  let res: Deno.KvCommitResult | Deno.KvCommitError | null = null;
  try {
    res = await op.commit();
    if (res.ok) core.meta.listMemory.committed(bucketId, op.listChanges);
    return res;
  } catch (e) {
    // A quota's refusal (an S3Error) comes before the commit: nothing changed.
    // Anything else leaves the outcome unknown, and the bucket is listed from KV until reloaded.
    if (!(e instanceof S3Error)) core.meta.listMemory.drop(bucketId);
    throw e;
  } finally {
    if (latest && res?.ok) core.meta.latest.remember(bucketId, key, latest);
    else core.meta.latest.forget(bucketId, key);
  }
}

/** Counter deltas of one commit. */
interface Tally {
  objects: number;
  bytes: number;
}

/**
 * Adds the counter sums and notes the change for the usage accounting (tenant usage, quotas). A
 * zero sum still rewrites the counters, which aborts a racing DeleteBucket (it checks them).
 */
function applyStats(op: MetaWrite, bucket: BucketRecord, t: Tally): void {
  op.sum(bucketStatKey(bucket.id, "objects"), u64Delta(t.objects));
  op.sum(bucketStatKey(bucket.id, "bytes"), u64Delta(t.bytes));
  op.noteStats({ bucketId: bucket.id, ns: bucket.ns, objects: t.objects, bytes: t.bytes });
}

/** Live versions count in `objects`; markers hold no bytes and are not counted. */
const countOf = (r: ObjectRecord | null) => (r && !r.deleteMarker ? 1 : 0);

/**
 * A per-key entry as read, or derived for a solo key: a value with no entry behind it (its
 * versionstamp null, so a commit checking it checks that the entry does not exist).
 */
interface KeySlot<T> {
  key: Deno.KvKey;
  value: T | null;
  versionstamp: string | null;
}

interface KeyState {
  be: Deno.KvEntryMaybe<BucketRecord>;
  cur: Deno.KvEntryMaybe<ObjectRecord>;
  head: KeySlot<VersionHead>;
  nul: KeySlot<NullPointer>;
  lock: Deno.KvEntryMaybe<{ v: 1; value: LockConfig }>;
  bucket: BucketRecord;
  /**
   * The key's only version is its solo `obj` record. `head` and `nul` then describe it
   * (values derived, versionstamps null: the entries do not exist and commits check that).
   */
  solo: boolean;
}

/**
 * The checks a commit makes on the key's `vhead` and `vnull` entries. In an Unversioned bucket
 * (as the checked bucket entry says) a key is solo or absent, or a key written before solo
 * records existed, whose `obj` entry every write of it rewrites; so when neither entry exists,
 * the check on `obj` already covers them, and the two lookups are left out of the commit (the KV
 * thread is what bounds small writes). Entries that exist are checked as always.
 */
function versionChecks(s: KeyState): Deno.AtomicCheck[] {
  if (s.bucket.versioning === "Unversioned" && !s.head.versionstamp && !s.nul.versionstamp) {
    return [];
  }
  return [s.head, s.nul];
}

/** Makes a solo key's state read like any other: one null version, the latest. */
function withSolo(s: KeyState): KeyState {
  const rec = s.cur.value;
  if (!rec?.solo) return s;
  const sort = soloSort(rec);
  return {
    ...s,
    solo: true,
    head: {
      key: s.head.key,
      value: { v: 1, sort, versionId: "null", marker: false },
      versionstamp: null,
    },
    nul: { key: s.nul.key, value: { v: 1, sort }, versionstamp: null },
  };
}

async function readKeyState(core: StorageCore, bucket: BucketRecord, key: string) {
  const [be, cur, head, nul, lock] = await core.meta.getMany<
    [BucketRecord, ObjectRecord, VersionHead, NullPointer, { v: 1; value: LockConfig }]
  >([
    bucketKey(bucket.ns, bucket.name),
    objectKey(bucket.id, key),
    versionHeadKey(bucket.id, key),
    versionNullKey(bucket.id, key),
    bucketConfigKey(bucket.id, LOCK_CONFIG),
  ]);
  if (!be.value || be.value.id !== bucket.id) {
    throw new S3Error("NoSuchBucket", { fields: { BucketName: bucket.name } });
  }
  core.meta.newKeys.rememberBucket(be as Deno.KvEntry<BucketRecord>);
  return withSolo({ be, cur, head, nul, lock, bucket: be.value, solo: false });
}

/**
 * The state of a key guessed to be new (see new_keys.ts): every per-key entry absent, the bucket
 * as last read. Null when the guess is not worth making: write conditions or extra checks (the
 * caller needs the real state), object lock (needs its configuration), a key known to exist.
 */
function guessNewKeyState(
  core: StorageCore,
  bucket: BucketRecord,
  rec: ObjectRecord,
  opts: PublishOptions,
): KeyState | null {
  const key = rec.key;
  if (opts.conditions || opts.checks?.length || opts.extra) return null;
  // Lock settings are judged against the bucket as stored, not as last read.
  if (rec.retention || rec.legalHold !== undefined) return null;
  if (core.meta.latest.has(bucket.id, key)) return null;
  const be = core.meta.newKeys.guessBucket(bucket.id);
  if (!be || be.value.objectLock) return null;
  const none = (k: Deno.KvKey) => ({ key: k, value: null, versionstamp: null });
  return {
    be,
    cur: none(objectKey(bucket.id, key)),
    head: none(versionHeadKey(bucket.id, key)),
    nul: none(versionNullKey(bucket.id, key)),
    lock: none(bucketConfigKey(bucket.id, LOCK_CONFIG)),
    bucket: be.value,
    solo: false,
  };
}

/** A stored version: its `ver` key, record, and the entry a commit must check (if any). */
interface StoredVersion {
  key: Deno.KvKey;
  value: ObjectRecord;
  check?: Deno.KvEntry<ObjectRecord>;
}

/**
 * The current `null` version of a key (for in-place replacement). When it is the latest, its
 * `obj` mirror (already read and checked by the caller, and always rewritten together with the
 * version entry) stands in for it, which saves a read on every unversioned overwrite.
 */
async function nullVersion(
  core: StorageCore,
  s: KeyState,
  key: string,
): Promise<StoredVersion | null> {
  if (!s.nul.value) return null;
  const vKey = versionKey(s.bucket.id, key, s.nul.value.sort);
  const h = s.head.value;
  if (
    h && !h.marker && h.versionId === "null" && h.sort === s.nul.value.sort &&
    s.cur.value?.versionId === "null"
  ) {
    return { key: vKey, value: s.cur.value };
  }
  const e = await core.meta.get<ObjectRecord>(vKey);
  return e.value ? { key: vKey, value: e.value, check: e as Deno.KvEntry<ObjectRecord> } : null;
}

/**
 * Publishes a fully written record as the newest version of its key. Enabled buckets get a
 * fresh version id (the previous latest stays as noncurrent); Suspended and Unversioned buckets
 * use the `null` version, replacing an existing one. Sets `rec.versionId` (and the bucket's
 * default retention) and returns the record it replaced, whose blobs have been removed.
 */
export async function publishVersion(
  core: StorageCore,
  bucket: BucketRecord,
  rec: ObjectRecord,
  opts: PublishOptions = {},
): Promise<ObjectRecord | null> {
  const explicitRetention = rec.retention;
  const b = bucket.id;
  let guess = guessNewKeyState(core, bucket, rec, opts);
  for (let attempt = 0; attempt < 50; attempt++) {
    const guessed = guess !== null;
    const s = guess ?? await readKeyState(core, bucket, rec.key);
    guess = null;
    checkWriteConditions(s.cur.value, opts.conditions);
    const now = core.clock.now();
    rec.retention = explicitRetention;
    assertLockAllowed(rec, s.bucket.objectLock);
    if (s.bucket.objectLock && !rec.retention) {
      rec.retention = defaultRetention(s.lock.value?.value ?? null, now);
    }
    withoutUndefined(rec);
    const versioned = s.bucket.versioning === "Enabled";
    // An Unversioned bucket's key keeps one version: it is stored solo (the `obj` record only,
    // so it needs no sort id).
    const solo = s.bucket.versioning === "Unversioned";
    const sort = solo ? "" : newSortId(now, s.head.value?.sort ?? null);
    rec.versionId = versioned ? sort : "null";
    const old = versioned ? null : await nullVersion(core, s, rec.key);
    // Overwriting in place destroys the old bytes: a locked null version refuses it.
    if (old) assertDeletable(old.value, now, false);
    const op = core.meta.groupWrite().check(s.be, s.cur, ...versionChecks(s));
    if (old?.check) op.check(old.check);
    op.check(...(opts.checks ?? []));
    if (solo) rec.solo = true;
    else delete rec.solo;
    setLatest(op, b, rec);
    if (rec.inline) {
      if (
        !rec.blob || !opts.inlineData ||
        rec.inlineRows !== inlineRowCount(opts.inlineData.length)
      ) throw new Error("inline record without its bytes");
      setInlineRows(op, rec, opts.inlineData);
    }
    if (solo) {
      // Entries of a key written before solo records existed go.
      if (s.head.versionstamp) op.delete(versionHeadKey(b, rec.key));
      if (s.nul.versionstamp) op.delete(versionNullKey(b, rec.key));
    } else {
      op.set(versionKey(b, rec.key, sort), rec);
      op.set(versionHeadKey(b, rec.key), { v: 1, sort, versionId: rec.versionId, marker: false });
      if (!versioned) op.set(versionNullKey(b, rec.key), { v: 1, sort });
      if (versioned) keepSoloAsNoncurrent(op, s);
    }
    if (old) {
      if (!s.solo) op.delete(old.key);
      dropVersionData(op, old.value);
    }
    for (const g of new Set(blobsOf(rec).map(blobGroup))) op.set(blobRefKey(g), refValue(b, rec));
    applyStats(op, s.bucket, {
      objects: 1 - countOf(old?.value ?? null),
      bytes: rec.size - (old?.value.size ?? 0),
    });
    opts.extra?.(op, rec);
    core.feed.record(op, s.bucket, opts.origin ?? PUT_ORIGIN, {
      key: rec.key,
      versionId: rec.versionId,
      size: rec.size,
      etag: rec.etag,
      replicationPending: rec.replication === "PENDING",
    });
    let res: Deno.KvCommitResult | Deno.KvCommitError;
    try {
      res = await commitKey(core, op, b, rec.key, rec);
    } catch (e) {
      // The quota judged the guessed change (a new key); an overwrite frees bytes,
      // so it is judged again on the key's real state. Quotas refuse before committing.
      if (guessed && e instanceof S3Error) continue;
      throw e;
    }
    if (!res.ok) {
      if (guessed) core.meta.newKeys.missed(b);
      continue;
    }
    if (old) await freeRecord(core, old.value);
    return old?.value ?? null;
  }
  throw new S3Error("OperationAborted");
}

/**
 * A solo version that a new version (or marker) of a versioned bucket leaves noncurrent gets
 * the entries of a version in the same commit (its `obj` record is replaced by that commit).
 */
function keepSoloAsNoncurrent(op: MetaWrite, s: KeyState): void {
  if (!s.solo) return;
  const sort = s.nul.value!.sort;
  op.set(versionKey(s.bucket.id, s.cur.value!.key, sort), unsolo(s.cur.value!));
  op.set(versionNullKey(s.bucket.id, s.cur.value!.key), { v: 1, sort });
}

function markerRecord(key: string, versionId: string, now: number, ownerId: string): ObjectRecord {
  return {
    v: 1,
    key,
    versionId,
    deleteMarker: true,
    blob: null,
    size: 0,
    etag: "",
    lastModified: now,
    content: {},
    meta: {},
    storageClass: "STANDARD",
    ownerId,
  };
}

/**
 * Removes the version at `sort` from a pending commit, moving the latest pointer (and the
 * `obj` mirror) to the next version when it was the latest; counter deltas go to `tally`.
 */
async function removeVersionOps(
  core: StorageCore,
  op: MetaWrite,
  s: KeyState,
  target: StoredVersion,
  sort: string,
  tally: Tally,
): Promise<void> {
  const b = s.bucket.id;
  const key = target.value.key;
  dropVersionData(op, target.value);
  tally.objects -= countOf(target.value);
  tally.bytes -= target.value.size;
  if (s.solo) {
    // The key's only version, stored as its `obj` record alone.
    clearLatest(op, b, key);
    return;
  }
  op.delete(target.key);
  if (target.value.versionId === "null") op.delete(versionNullKey(b, key));
  if (s.head.value?.sort !== sort) {
    if (s.head.value) op.set(versionHeadKey(b, key), s.head.value);
    return;
  }
  let next: Deno.KvEntry<ObjectRecord> | null = null;
  // A bucket that was never versioned holds one version per key: no successor to look up (saves
  // a KV round trip on every DeleteObject there).
  const versionsLeft = s.bucket.versioning === "Unversioned" ? [] : core.meta.list<ObjectRecord>(
    { prefix: versionKeyPrefix(b, key) },
    { limit: 2 },
  );
  for await (const e of versionsLeft) {
    if (e.key[3] !== sort) {
      next = e;
      break;
    }
  }
  if (!next) {
    op.delete(versionHeadKey(b, key));
    clearLatest(op, b, key);
    return;
  }
  op.check(next);
  const n = next.value;
  op.set(versionHeadKey(b, key), {
    v: 1,
    sort: next.key[3] as string,
    versionId: n.versionId,
    marker: !!n.deleteMarker,
  });
  if (n.deleteMarker) clearLatest(op, b, key);
  else setLatest(op, b, n);
}

/**
 * DeleteObject. With `versionId` the version is removed for good (locks permitting); without,
 * an Enabled bucket gets a delete marker, a Suspended bucket a `null` marker replacing the null
 * version, and an Unversioned bucket loses the object. Idempotent. Returns the marker created,
 * the version removed, or null when nothing existed.
 */
export async function deleteVersioned(
  core: StorageCore,
  bucket: BucketRecord,
  key: string,
  opts: DeleteObjectOptions = {},
): Promise<ObjectRecord | null> {
  if (opts.versionId !== undefined) validateVersionId(opts.versionId);
  const b = bucket.id;
  for (let attempt = 0; attempt < 50; attempt++) {
    const s = await readKeyState(core, bucket, key);
    if (!s.cur.value && opts.conditions?.ifMatch !== undefined) throw new S3Error("NoSuchKey");
    checkWriteConditions(s.cur.value, opts.conditions);
    const now = core.clock.now();
    const op = core.meta.groupWrite().check(s.be, s.cur, ...versionChecks(s));
    const tally: Tally = { objects: 0, bytes: 0 };
    let removed: ObjectRecord | null = null;
    let result: ObjectRecord | null;
    if (opts.versionId !== undefined) {
      const found = await findVersion(core, b, key, opts.versionId);
      if (!found) return null;
      const target = found.entry;
      assertDeletable(target.value, now, !!opts.bypassGovernance);
      op.check(target);
      const stored = { key: versionKey(b, key, found.sort), value: target.value };
      await removeVersionOps(core, op, s, stored, found.sort, tally);
      removed = result = target.value;
    } else if (s.bucket.versioning === "Enabled") {
      const sort = newSortId(now, s.head.value?.sort ?? null);
      result = markerRecord(key, sort, now, opts.ownerId ?? s.bucket.ownerId);
      keepSoloAsNoncurrent(op, s);
      op.set(versionKey(b, key, sort), result);
      op.set(versionHeadKey(b, key), { v: 1, sort, versionId: sort, marker: true });
      clearLatest(op, b, key);
    } else {
      const old = await nullVersion(core, s, key);
      if (old) {
        assertDeletable(old.value, now, !!opts.bypassGovernance);
        if (old.check) op.check(old.check);
      }
      if (s.bucket.versioning === "Unversioned") {
        if (!old) return null;
        await removeVersionOps(core, op, s, old, s.nul.value!.sort, tally);
        removed = result = old.value;
      } else {
        const sort = newSortId(now, s.head.value?.sort ?? null);
        result = markerRecord(key, "null", now, opts.ownerId ?? s.bucket.ownerId);
        if (old) {
          if (!s.solo) op.delete(old.key);
          dropVersionData(op, old.value);
          tally.objects -= countOf(old.value);
          tally.bytes -= old.value.size;
          removed = old.value;
        }
        op.set(versionKey(b, key, sort), result);
        op.set(versionNullKey(b, key), { v: 1, sort });
        op.set(versionHeadKey(b, key), { v: 1, sort, versionId: "null", marker: true });
        clearLatest(op, b, key);
      }
    }
    applyStats(op, s.bucket, tally);
    const marker = !!result?.deleteMarker && result !== removed;
    core.feed.record(op, s.bucket, removalOrigin(opts.origin, marker), {
      key,
      versionId: result?.versionId ?? null,
      ...(marker ? { deleteMarker: true } : {}),
    });
    const res = await commitKey(core, op, b, key);
    if (!res.ok) continue;
    if (removed) await freeRecord(core, removed);
    return result;
  }
  throw new S3Error("OperationAborted");
}

/**
 * Changes the metadata of one version in place (tags, retention, legal hold): the version
 * record and, when it is the latest, its `obj` mirror, in one commit (through the group
 * committer: replication settles a status per copied version, and those commits merge with the
 * writes going on). A marker answers 405.
 */
export async function updateVersion(
  core: StorageCore,
  bucket: BucketRecord,
  key: string,
  versionId: string | null | undefined,
  patch: (rec: ObjectRecord, now: number) => ObjectRecord,
  origin?: ChangeOrigin,
): Promise<ObjectRecord> {
  const b = bucket.id;
  /** Notes the change for the feed (only when the caller names what it was). */
  const note = (op: MetaWrite, next: ObjectRecord) => {
    if (!origin) return op;
    core.feed.record(op, bucket, origin, {
      key,
      versionId: next.versionId,
      size: next.size,
      etag: next.etag,
    });
    return op;
  };
  for (let attempt = 0; attempt < 50; attempt++) {
    const rec = await getObjectRecord(core, bucket, key, versionId);
    const found = await findVersion(core, b, key, rec.versionId);
    if (!found) continue;
    if (found.entry.value.solo) {
      const next: ObjectRecord = { ...patch(found.entry.value, core.clock.now()), solo: true };
      const op = core.meta.groupWrite().check(found.entry);
      setLatest(op, b, next);
      if ((await commitKey(core, note(op, next), b, key)).ok) return next;
      continue;
    }
    const [ve, oe] = await core.meta.getMany<[ObjectRecord, ObjectRecord]>([
      versionKey(b, key, found.sort),
      objectKey(b, key),
    ]);
    if (!ve.value || ve.value.versionId !== rec.versionId) continue;
    const next = patch(ve.value, core.clock.now());
    const op = core.meta.groupWrite().check(ve, oe).set(ve.key, next);
    if (oe.value?.versionId === rec.versionId) setLatest(op, b, next);
    if ((await commitKey(core, note(op, next), b, key)).ok) return next;
  }
  throw new S3Error("OperationAborted");
}

/** DeleteBucket's check: no versions or markers remain. */
export async function versionsEmpty(core: StorageCore, bucketId: string): Promise<boolean> {
  for await (const _ of core.meta.list({ prefix: versionPrefix(bucketId) }, { limit: 1 })) {
    return false;
  }
  return true;
}
