/**
 * The Backend the S3 ops call, named after S3 operations, and its local implementation
 * (Deno KV metadata + blob files). One process owns a data dir; a lock file enforces it.
 */
import { BlobStore } from "./blob/blob_store.ts";
import { MetaStore } from "./meta/store.ts";
import { kvFilePath } from "./meta/kv_file.ts";
import { type Clock, systemClock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { Tuning } from "../tuning.ts";
import type { StorageCore } from "./core.ts";
import * as buckets from "./buckets/buckets.ts";
import * as objects from "./objects/objects.ts";
import { listObjects } from "./listing/listing.ts";
import { buildListIndex } from "./listing/list_index.ts";
import { updateVersion } from "./versions/versions.ts";
import { listObjectVersions } from "./versions/version_listing.ts";
import { sweepOrphanBlobs, type SweepResult } from "./sweep.ts";
import * as multipart from "./multipart/multipart.ts";
import { loadParts } from "./objects/parts.ts";
import { completeUpload, type CompleteUploadInput } from "./multipart/multipart_complete.ts";
import {
  type MaintenanceOptions,
  type MaintenanceResult,
  multipartMaintenance,
} from "./multipart/multipart_maintenance.ts";
import type {
  BucketRecord,
  BucketStats,
  ByteRange,
  ChangeFeed,
  ChangeOrigin,
  DeleteObjectOptions,
  DiskSpace,
  GetObjectOptions,
  ListBucketsInput,
  ListBucketsPage,
  ListObjectsInput,
  ListObjectsPage,
  ListVersionsInput,
  ListVersionsPage,
  ObjectRead,
  ObjectRecord,
  OpenBytes,
  PartRef,
  PutObjectInput,
  QuotaPolicy,
  ReadAccess,
  RewrapOptions,
  RewrapProgress,
  StorageObserver,
  StorageStats,
  UsageLedger,
} from "./types.ts";
import { LocalStorageStats } from "./stats.ts";
import { rewrapDataKeys, rewrapProgress } from "./rewrap/rewrap.ts";
import { InFlightWrites } from "./rewrap/in_flight.ts";
import { S3Error } from "../s3/errors.ts";
import { diskSpace, type StorageHealth, storageHealth } from "./health.ts";
import type { CustomerKey, ObjectKeys } from "../crypto/types.ts";
import { openDataKey } from "./objects/sealed.ts";

export interface Backend {
  /** Every bucket record of a namespace, in name order. */
  listBuckets(ns: string): Promise<BucketRecord[]>;
  /** A ListBuckets page: what it shows of the namespace's buckets `input` selects. */
  listBucketsPage(ns: string, input: ListBucketsInput): Promise<ListBucketsPage>;
  /** Every bucket of every namespace (background work: lifecycle). */
  listAllBuckets(): Promise<BucketRecord[]>;
  createBucket(input: buckets.CreateBucketInput): Promise<BucketRecord>;
  getBucket(ns: string, name: string): Promise<BucketRecord>;
  updateBucket(
    bucket: BucketRecord,
    patch: (b: BucketRecord) => BucketRecord,
  ): Promise<BucketRecord>;
  deleteBucket(ns: string, name: string): Promise<void>;
  bucketStats(bucketId: string): Promise<BucketStats>;
  getBucketConfig<T>(bucketId: string, kind: string): Promise<T | null>;
  putBucketConfig<T>(bucketId: string, kind: string, value: T | null): Promise<void>;
  /** The ids of the buckets that have a configuration of `kind` (workers loading at start). */
  bucketsWithConfig(kind: string): Promise<string[]>;

  putObject(bucket: BucketRecord, input: PutObjectInput): Promise<ObjectRecord>;
  /** The latest record, or with `versionId` that version (see versions.ts for marker errors). */
  getObjectRecord(
    bucket: BucketRecord,
    key: string,
    versionId?: string | null,
  ): Promise<ObjectRecord>;
  /**
   * The bytes of a record (all, or a plaintext range); an encrypted one needs `access`: its
   * bucket's namespace and, for SSE-C, the customer key.
   */
  openObject(
    rec: ObjectRecord,
    range?: ByteRange,
    access?: ReadAccess,
  ): Promise<ReadableStream<Uint8Array>>;
  /**
   * Reads the record `(bucket, key, versionId)` names and hands it to `use` with a way to open
   * its bytes. When the bytes vanish because the object was replaced meanwhile (when opened, or
   * while `use` reads them: a copy), the new record is read and `use` called again. `customer`
   * is the key `open` uses for an SSE-C object.
   */
  readObject<T>(
    bucket: BucketRecord,
    key: string,
    versionId: string | null | undefined,
    use: (rec: ObjectRecord, open: OpenBytes) => Promise<T>,
    customer?: CustomerKey,
  ): Promise<T>;
  /**
   * GET: the record and a stream of its bytes (or of the range `opts.range` picks). An SSE-C
   * object needs `opts.customer` even when no byte is opened (HEAD, empty objects).
   */
  getObject(bucket: BucketRecord, key: string, opts?: GetObjectOptions): Promise<ObjectRead>;
  deleteObject(
    bucket: BucketRecord,
    key: string,
    opts?: DeleteObjectOptions,
  ): Promise<ObjectRecord | null>;
  /** Changes one version's tags, retention or legal hold in place. */
  updateObjectVersion(
    bucket: BucketRecord,
    key: string,
    versionId: string | null | undefined,
    patch: (rec: ObjectRecord, now: number) => ObjectRecord,
    origin?: ChangeOrigin,
  ): Promise<ObjectRecord>;
  listObjectVersions(bucket: BucketRecord, input: ListVersionsInput): Promise<ListVersionsPage>;
  listObjects(bucket: BucketRecord, input: ListObjectsInput): Promise<ListObjectsPage>;
  /**
   * The stamp of the bucket's listing state (`ListObjectsPage.stamp`) when pages of it carry
   * one now, else null.
   */
  listingStamp(bucket: BucketRecord): number | null;

  createMultipartUpload(
    bucket: BucketRecord,
    input: multipart.CreateUploadInput,
  ): Promise<multipart.UploadRecord>;
  /** The open upload `uploadId` of this bucket and key; `NoSuchUpload` otherwise. */
  getMultipartUpload(
    bucket: BucketRecord,
    key: string,
    uploadId: string,
  ): Promise<multipart.UploadRecord>;
  uploadPart(bucket: BucketRecord, input: multipart.UploadPartInput): Promise<multipart.PartRecord>;
  completeMultipartUpload(bucket: BucketRecord, input: CompleteUploadInput): Promise<ObjectRecord>;
  abortMultipartUpload(bucket: BucketRecord, key: string, uploadId: string): Promise<void>;
  listParts(
    bucket: BucketRecord,
    key: string,
    uploadId: string,
    input: multipart.ListPartsInput,
  ): Promise<multipart.ListPartsPage>;
  listMultipartUploads(
    bucket: BucketRecord,
    input: multipart.ListUploadsInput,
  ): Promise<multipart.ListUploadsPage>;
  /** The part list of a multipart record (inline or chunked); [] for single-blob objects. */
  objectParts(rec: ObjectRecord): Promise<PartRef[]>;
  /**
   * The bytes of a version as stored, or of one of its parts (`objectParts`), read from the disk
   * or KV past every memory cache: the integrity scrubber re-verifies what is really stored. A
   * multipart object is read part by part. An encrypted object's bytes are those a GET would
   * send (decrypted, so a corrupted segment fails to read); an SSE-C object cannot be read.
   */
  openStored(
    bucket: BucketRecord,
    rec: ObjectRecord,
    part?: PartRef,
  ): Promise<ReadableStream<Uint8Array>>;
  /** Tenant usage and part reservations (quota accounting). */
  readonly usage: UsageLedger;
  /** Bucket counters and commit counters, for metrics (read when scraped). */
  readonly stats: StorageStats;
  /** Object changes of buckets with followers (feed/feed_types.ts). */
  readonly changes: ChangeFeed;
  /** Whether storage can serve (the readiness probe): KV reads, a synced write, free space. */
  health(minFreeBytes: number): Promise<StorageHealth>;
  /** The data dir's file system: its size, the bytes still free and in use (one statfs). */
  diskSpace(): DiskSpace;
  /**
   * Runs (or resumes from its checkpoint) one pass over every stored data key wrapped under a
   * master key `opts.stale` names, rewrapping it with `opts.rewrap` in checked commits; object
   * bytes are not touched (rewrap/rewrap.ts).
   */
  rewrapDataKeys(opts: RewrapOptions): Promise<RewrapProgress>;
  /** The checkpointed progress of the latest rewrap pass (null: none ever ran). */
  rewrapProgress(): Promise<RewrapProgress | null>;
  /**
   * Resolves once every object write in progress at the call (PUT, UploadPart, Complete: each
   * may hold a data key wrapped before a rotation) has ended.
   */
  writesSettled(): Promise<void>;
}

/** Attempts of a read whose object keeps being replaced under it. */
const READ_ATTEMPTS = 5;

export class LocalBackend implements Backend {
  readonly usage: UsageLedger;
  readonly stats: StorageStats;
  readonly changes: ChangeFeed;
  /** Writes that may commit a data key wrapped before a rotation (rewrap/in_flight.ts). */
  readonly #writes = new InFlightWrites();

  constructor(readonly core: StorageCore) {
    this.usage = core.meta.usage;
    this.stats = new LocalStorageStats(core);
    this.changes = core.feed;
  }

  health(minFreeBytes: number): Promise<StorageHealth> {
    return storageHealth(this.core, minFreeBytes);
  }
  rewrapDataKeys(opts: RewrapOptions): Promise<RewrapProgress> {
    return rewrapDataKeys(this.core, opts);
  }
  rewrapProgress(): Promise<RewrapProgress | null> {
    return rewrapProgress(this.core);
  }
  writesSettled(): Promise<void> {
    return this.#writes.settled();
  }

  diskSpace() {
    return diskSpace(this.core.blobs.dataDir);
  }

  listBuckets(ns: string) {
    return buckets.listBuckets(this.core, ns);
  }
  listBucketsPage(ns: string, input: ListBucketsInput) {
    return buckets.listBucketsPage(this.core, ns, input);
  }
  createBucket(input: buckets.CreateBucketInput) {
    return buckets.createBucket(this.core, input);
  }
  getBucket(ns: string, name: string) {
    return buckets.getBucket(this.core, ns, name);
  }
  updateBucket(bucket: BucketRecord, patch: (b: BucketRecord) => BucketRecord) {
    return buckets.updateBucket(this.core, bucket, patch);
  }
  listAllBuckets() {
    return buckets.listAllBuckets(this.core);
  }
  deleteBucket(ns: string, name: string) {
    return buckets.deleteBucket(this.core, ns, name);
  }
  bucketStats(bucketId: string) {
    return buckets.getBucketStats(this.core, bucketId);
  }
  getBucketConfig<T>(bucketId: string, kind: string) {
    return buckets.getBucketConfig<T>(this.core, bucketId, kind);
  }
  bucketsWithConfig(kind: string) {
    return buckets.bucketsWithConfig(this.core, kind);
  }

  putBucketConfig<T>(bucketId: string, kind: string, value: T | null) {
    return buckets.putBucketConfig<T>(this.core, bucketId, kind, value);
  }
  putObject(bucket: BucketRecord, input: PutObjectInput) {
    return this.#writes.track(() => objects.putObject(this.core, bucket, input));
  }
  getObjectRecord(bucket: BucketRecord, key: string, versionId?: string | null) {
    return objects.getObjectRecord(this.core, bucket, key, versionId);
  }
  openObject(rec: ObjectRecord, range?: ByteRange, access?: ReadAccess) {
    return objects.openObject(this.core, rec, range, access);
  }
  async readObject<T>(
    bucket: BucketRecord,
    key: string,
    versionId: string | null | undefined,
    use: (rec: ObjectRecord, open: OpenBytes) => Promise<T>,
    customer?: CustomerKey,
  ): Promise<T> {
    const access: ReadAccess = { ns: bucket.ns, customer };
    for (let attempt = 1;; attempt++) {
      const rec = await this.getObjectRecord(bucket, key, versionId);
      try {
        return await use(rec, (range) => objects.openObject(this.core, rec, range, access));
      } catch (e) {
        if (!(e instanceof objects.BlobGone)) throw e;
        if (attempt >= READ_ATTEMPTS) throw new S3Error("InternalError");
      }
    }
  }
  getObject(bucket: BucketRecord, key: string, opts: GetObjectOptions = {}) {
    return this.readObject(bucket, key, opts.versionId, async (rec, open): Promise<ObjectRead> => {
      const range = opts.range ? await opts.range(rec) : null;
      const body = range === false || rec.size === 0 ? null : await open(range ?? undefined);
      // No bytes opened: an SSE-C object's key is still checked, as every read of it is.
      if (!body && rec.enc?.mode === "SSE-C") {
        await openDataKey(this.core, rec.enc, { ns: bucket.ns, customer: opts.customer });
      }
      return { rec, body };
    }, opts.customer);
  }
  deleteObject(bucket: BucketRecord, key: string, opts?: DeleteObjectOptions) {
    return objects.deleteObject(this.core, bucket, key, opts);
  }
  updateObjectVersion(
    bucket: BucketRecord,
    key: string,
    versionId: string | null | undefined,
    patch: (rec: ObjectRecord, now: number) => ObjectRecord,
    origin?: ChangeOrigin,
  ) {
    return updateVersion(this.core, bucket, key, versionId, patch, origin);
  }
  listObjectVersions(bucket: BucketRecord, input: ListVersionsInput) {
    return listObjectVersions(this.core, bucket.id, input);
  }
  listObjects(bucket: BucketRecord, input: ListObjectsInput) {
    return this.core.meta.listMemory.list(bucket.id, input) ??
      listObjects(this.core, bucket.id, input);
  }
  listingStamp(bucket: BucketRecord) {
    return this.core.meta.listMemory.stamp(bucket.id);
  }
  createMultipartUpload(bucket: BucketRecord, input: multipart.CreateUploadInput) {
    return multipart.createUpload(this.core, bucket, input);
  }
  async getMultipartUpload(bucket: BucketRecord, key: string, uploadId: string) {
    return (await multipart.getUploadEntry(this.core, bucket, key, uploadId)).value;
  }
  uploadPart(bucket: BucketRecord, input: multipart.UploadPartInput) {
    return this.#writes.track(() => multipart.uploadPart(this.core, bucket, input));
  }
  completeMultipartUpload(bucket: BucketRecord, input: CompleteUploadInput) {
    return this.#writes.track(() => completeUpload(this.core, bucket, input));
  }
  abortMultipartUpload(bucket: BucketRecord, key: string, uploadId: string) {
    return multipart.abortUpload(this.core, bucket, key, uploadId);
  }
  listParts(
    bucket: BucketRecord,
    key: string,
    uploadId: string,
    input: multipart.ListPartsInput,
  ) {
    return multipart.listParts(this.core, bucket, key, uploadId, input);
  }
  listMultipartUploads(bucket: BucketRecord, input: multipart.ListUploadsInput) {
    return multipart.listUploads(this.core, bucket, input);
  }
  objectParts(rec: ObjectRecord) {
    return loadParts(this.core, rec);
  }
  openStored(bucket: BucketRecord, rec: ObjectRecord, part?: PartRef) {
    return objects.openStored(this.core, rec, part, { ns: bucket.ns });
  }
  /**
   * Aborts expired uploads and finishes interrupted multipart cleanups (server/app.ts timer),
   * then releases the part reservations of uploads that ended without releasing them.
   */
  async multipartMaintenance(opts: MaintenanceOptions): Promise<MaintenanceResult> {
    const res = await multipartMaintenance(this.core, opts);
    await this.core.meta.usage.reconcile();
    return res;
  }
  /** Recomputes the tenant usage counters from the bucket counters (admin CLI). */
  recountUsage(): Promise<void> {
    return this.core.meta.usage.recount();
  }
  sweep(graceMs: number): Promise<SweepResult> {
    return sweepOrphanBlobs(this.core, graceMs);
  }
}

export class DataDirLockedError extends Error {}

/** Takes an exclusive lock on `data_dir/.lock`; released by the OS when the process dies. */
export async function lockDataDir(dataDir: string): Promise<Deno.FsFile> {
  await Deno.mkdir(dataDir, { recursive: true });
  const path = `${dataDir}/.lock`;
  const file = await Deno.open(path, { read: true, write: true, create: true });
  const locked = await Promise.race([
    file.lock(true).then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 300)),
  ]);
  if (!locked) {
    const holder = await Deno.readTextFile(path).catch(() => "");
    throw new DataDirLockedError(
      `Cannot open data dir "${dataDir}": it is in use by another MaxIOFS process${
        holder.trim() ? ` (pid ${holder.trim()})` : ""
      }. One process owns a data dir.`,
    );
  }
  await file.truncate(0);
  await file.write(new TextEncoder().encode(String(Deno.pid)));
  return file;
}

/** Releases a lock `lockDataDir` took. */
export async function unlockDataDir(lock: Deno.FsFile): Promise<void> {
  await lock.unlock().catch(() => {});
  lock.close();
}

export interface OpenStorageOptions {
  dataDir: string;
  /**
   * The data dir's lock when the caller took it first (`lockDataDir`, to open the dir's other
   * stores under it); taken here otherwise. Released by `close()`.
   */
  lock?: Deno.FsFile;
  fsync?: boolean;
  /** A request body that sends nothing this long fails with RequestTimeout (0: never). */
  bodyIdleMs?: number;
  /** Memory for the bytes of small blobs (see blob/hot_cache.ts); default none. */
  hotCacheBytes?: number;
  /** Listing entries held in memory over all buckets (see list_memory.ts; 0 disables). */
  listCacheEntries?: number;
  /** Estimated bytes of latest object records held in memory (latest_cache.ts); default 32 MiB. */
  recordCacheBytes?: number;
  /** Tenant quotas enforced in the commits that publish writes (none without it). */
  quota?: QuotaPolicy;
  /**
   * Data keys for encrypted objects (server/crypto/object_keys.ts); without it a write that
   * asks for encryption, or a read of an encrypted object, fails.
   */
  keys?: ObjectKeys;
  /** Performance mechanisms turned off (benchmarks); all on by default. */
  tuning?: Tuning;
  /** Told of every KV transaction's size and duration (metrics); none by default. */
  observer?: StorageObserver;
  clock?: Clock;
  log: Logger;
}

export interface OpenedStorage {
  backend: LocalBackend;
  core: StorageCore;
  close(): Promise<void>;
}

/** Locks the data dir, opens KV and the blob store, and sweeps orphans left by a crash. */
export async function openStorage(opts: OpenStorageOptions): Promise<OpenedStorage> {
  const lock = opts.lock ?? await lockDataDir(opts.dataDir);
  const tuning = opts.tuning ?? new Tuning();
  const blobs = new BlobStore(opts.dataDir, {
    fsync: opts.fsync ?? true,
    bodyIdleMs: opts.bodyIdleMs ?? 0,
    hotCacheBytes: opts.hotCacheBytes ?? 0,
  });
  const clock = opts.clock ?? systemClock;
  let meta: MetaStore | null = null;
  let backend: LocalBackend;
  let core: StorageCore;
  try {
    await blobs.init();
    meta = await MetaStore.open(kvFilePath(opts.dataDir), {
      log: opts.log,
      clock,
      quota: opts.quota,
      listCacheEntries: opts.listCacheEntries,
      recordCacheBytes: opts.recordCacheBytes,
      tuning,
      observer: opts.observer,
    });
    core = { meta, blobs, clock, log: opts.log, tuning, keys: opts.keys ?? null, feed: meta.feed };
    await buildListIndex(core);
    await buckets.indexBucketConfigKinds(core);
    await meta.usage.init();
    backend = new LocalBackend(core);
    await backend.sweep(0);
  } catch (e) {
    // What this open opened is closed again; a lock the caller gave stays the caller's.
    blobs.close();
    meta?.close();
    if (!opts.lock) await unlockDataDir(lock);
    throw e;
  }
  const opened = meta;
  return {
    backend,
    core,
    close: async () => {
      await opened.listMemory.idle();
      blobs.close();
      opened.close();
      await unlockDataDir(lock);
    },
  };
}
