/**
 * The Deno KV keyspace. The first tuple element names the record type; docs/metadata.md
 * describes each one. Every stored value carries `v` (record version) for migrations.
 */

/** ["bucket", ns, name] -> BucketRecord */
export const bucketKey = (ns: string, name: string): Deno.KvKey => ["bucket", ns, name];
/** ["bucket", ns] prefix: all buckets of a namespace, ordered by name. */
export const bucketPrefix = (ns: string): Deno.KvKey => ["bucket", ns];
/** ["bucketid", id] -> { v, ns, name }: reverse lookup for background workers. */
export const bucketIdKey = (id: string): Deno.KvKey => ["bucketid", id];
/** ["bcfg", bucketId, kind] -> { v, value }: bucket configurations (policy, lifecycle, tags...). */
export const bucketConfigKey = (
  bucketId: string,
  kind: string,
): Deno.KvKey => ["bcfg", bucketId, kind];
/**
 * ["bcfgk", kind, bucketId] -> { v }: which buckets have a configuration of `kind`, written and
 * removed in the same commits as ["bcfg", bucketId, kind], so a feature finds its buckets at
 * start with one short scan instead of a read per bucket (Backend.bucketsWithConfig).
 */
export const bucketConfigKindKey = (kind: string, bucketId: string): Deno.KvKey => [
  "bcfgk",
  kind,
  bucketId,
];
export const bucketConfigKindPrefix = (kind: string): Deno.KvKey => ["bcfgk", kind];
/** ["bcfgkidx"] -> { v, at }: set once ["bcfgk"] was built from the existing ["bcfg"] entries. */
export const BUCKET_CONFIG_KINDS_BUILT: Deno.KvKey = ["bcfgkidx"];
/** ["bstat", bucketId, "objects" | "bytes"] -> Deno.KvU64 counters, updated in publish commits. */
export const bucketStatKey = (bucketId: string, stat: "objects" | "bytes"): Deno.KvKey => [
  "bstat",
  bucketId,
  stat,
];
/** ["obj", bucketId, key] -> ObjectRecord of the current (latest, non-marker) version. */
export const objectKey = (bucketId: string, key: string): Deno.KvKey => ["obj", bucketId, key];
export const objectPrefix = (bucketId: string): Deno.KvKey => ["obj", bucketId];
/**
 * ["objl", bucketId, key] -> Uint8Array (UTF-8 JSON `[1, size, etag, lastModified, storageClass,
 * ownerId, checksumAlgorithm?, checksumType?]`): the slim listing entry of ["obj", bucketId, key],
 * written and deleted in the same commits. ListObjects reads only these (decoding 1000 full
 * records was most of a LIST). See server/storage/listing/list_index.ts.
 */
export const objectListKey = (bucketId: string, key: string): Deno.KvKey => ["objl", bucketId, key];
export const objectListPrefix = (bucketId: string): Deno.KvKey => ["objl", bucketId];
/**
 * ["objparts", partsId, chunk] -> { v, parts: PartRef[] }: part lists too large to inline in the
 * object record. partsId is the upload id (also the blob group of the parts), so the chunks do
 * not depend on the version id the publish assigns; written in the Complete commit, removed by
 * the multipart maintenance once the group's ["blob", partsId] reference is gone.
 */
export const objectPartsKey = (partsId: string, chunk: number): Deno.KvKey => [
  "objparts",
  partsId,
  chunk,
];
export const objectPartsPrefix = (partsId: string): Deno.KvKey => ["objparts", partsId];
/**
 * ["objpartsidx", partsId] -> { v, chunks, at }: one small entry per chunked part list (the most
 * chunks ever written for it), so the maintenance finds orphaned chunks without reading them.
 */
export const objectPartsIndexKey = (partsId: string): Deno.KvKey => ["objpartsidx", partsId];
/** ["mpu", uploadId] -> UploadRecord: an open multipart upload (state, headers, seal). */
export const uploadKey = (uploadId: string): Deno.KvKey => ["mpu", uploadId];
/**
 * ["mpul", bucketId, key, initiated, uploadId] -> UploadListing: ListMultipartUploads order
 * (key, then initiation time); written and removed in the same commits as ["mpu", uploadId].
 */
export const uploadListKey = (
  bucketId: string,
  key: string,
  initiated: number,
  uploadId: string,
): Deno.KvKey => ["mpul", bucketId, key, initiated, uploadId];
export const uploadListPrefix = (bucketId: string): Deno.KvKey => ["mpul", bucketId];
/** ["mpart", uploadId, partNumber] -> PartRecord: the current blob of one uploaded part. */
export const partKey = (uploadId: string, n: number): Deno.KvKey => ["mpart", uploadId, n];
export const partPrefix = (uploadId: string): Deno.KvKey => ["mpart", uploadId];
/**
 * ["mpclean", uploadId] -> { v, keep: Uint8Array | null }: an upload that was completed (keep =
 * bitmap of the part numbers the object uses) or aborted (keep = null) whose leftover part
 * records and unused part blobs still have to be removed. Written in the Complete/Abort commit.
 */
export const uploadCleanKey = (uploadId: string): Deno.KvKey => ["mpclean", uploadId];
/**
 * ["mpdone", uploadId] -> { v, bucketId, key, versionId, etag, at }: a completed upload, so a
 * retried CompleteMultipartUpload (client timeout after success) gets the same answer instead of
 * NoSuchUpload. Written in the Complete commit; the maintenance drops it after a day.
 */
export const uploadDoneKey = (uploadId: string): Deno.KvKey => ["mpdone", uploadId];
/**
 * ["ver", bucketId, key, sortId] -> ObjectRecord of every stored version and delete marker.
 * sortId is an inverted time-ordered id, so a key's versions list newest first; for versions
 * other than `null` the versionId is the sortId itself (no separate id index).
 */
export const versionKey = (bucketId: string, key: string, sortId: string): Deno.KvKey => [
  "ver",
  bucketId,
  key,
  sortId,
];
export const versionKeyPrefix = (bucketId: string, key: string): Deno.KvKey => [
  "ver",
  bucketId,
  key,
];
export const versionPrefix = (bucketId: string): Deno.KvKey => ["ver", bucketId];
/** ["vhead", bucketId, key] -> VersionHead: the latest version (or marker) of a key. */
export const versionHeadKey = (bucketId: string, key: string): Deno.KvKey => [
  "vhead",
  bucketId,
  key,
];
/** ["vnull", bucketId, key] -> { v, sort }: where the `null` version of a key sorts. */
export const versionNullKey = (bucketId: string, key: string): Deno.KvKey => [
  "vnull",
  bucketId,
  key,
];
/** ["blob", blobId] -> { v, bucketId, key, kind }: every referenced blob (orphan sweep). */
export const blobRefKey = (blobId: string): Deno.KvKey => ["blob", blobId];
/**
 * ["blobd", blobId] -> Uint8Array: the bytes of a small object stored in KV instead of a file, as
 * one row (`inline` records written before `inlineRows` existed; read and dropped, never written).
 */
export const inlineDataKey = (blobId: string): Deno.KvKey => ["blobd", blobId];
/**
 * ["blobd", blobId, n] -> Uint8Array: bytes `n * INLINE_ROW_BYTES` onwards of a small object
 * stored in KV (`rec.inlineRows` rows, see objects/inline.ts); written and deleted in the
 * commits that publish and drop the version that owns them.
 */
export const inlineRowKey = (blobId: string, n: number): Deno.KvKey => ["blobd", blobId, n];

/** Wrap-around u64 delta for `atomic().sum` (negative deltas subtract). */
export function u64Delta(n: number): bigint {
  const big = BigInt(n);
  return big >= 0n ? big : (1n << 64n) + big;
}

/** ["tstat", ns, stat] -> Deno.KvU64: usage of a bucket namespace ("" = global). */
export const tenantStatKey = (
  ns: string,
  stat: "bytes" | "objects" | "buckets" | "reserved",
): Deno.KvKey => ["tstat", ns, stat];
/** ["tstatmeta"] -> { v, initializedAt }: set once the counters were computed from buckets. */
export const TENANT_STAT_META: Deno.KvKey = ["tstatmeta"];
/**
 * ["tresv", ns, uploadId] -> Deno.KvU64: bytes reserved by accepted UploadPart requests of one
 * open upload; their sum per tenant is `["tstat", ns, "reserved"]`.
 */
export const reservationKey = (ns: string, uploadId: string): Deno.KvKey => [
  "tresv",
  ns,
  uploadId,
];
/**
 * ["tresvp", ns, uploadId, partNumber] -> Deno.KvU64: the reservation held by the stored part of
 * that number, so that a re-uploaded part releases the one it replaces.
 */
export const partReservationKey = (
  ns: string,
  uploadId: string,
  partNumber: number,
): Deno.KvKey => ["tresvp", ns, uploadId, partNumber];

/**
 * ["rewrap"] -> { v, progress: RewrapProgress, cursor, estimate, seen }: the checkpoint of the
 * master-key rewrap pass (rewrap/rewrap.ts), so a restart resumes it where it stopped.
 */
export const REWRAP_STATE: Deno.KvKey = ["rewrap"];

/** The object changes of one KV commit (feed/change_log.ts), in the order commits were built. */
export const feedKey = (entry: bigint): Deno.KvKey => ["feed", entry];
export const FEED_PREFIX: Deno.KvKey = ["feed"];
/** The highest feed position ever removed, so positions are never handed out twice. */
export const FEED_HIGH_WATER: Deno.KvKey = ["feedseq"];
