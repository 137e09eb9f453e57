/**
 * The public face of storage: the `Backend` interface the S3 ops, the console, IAM and the
 * background features call, how to open the local implementation, and the pure helpers (checksum
 * parsing, Object Lock rules, part numbers, ranges) that callers share with it. Code outside
 * `server/storage/` imports this module and `types.ts` only (checked by scripts/check_layers.ts),
 * so another implementation (an upstream S3 bucket, a cluster node) can stand behind the same seam.
 */
export {
  type Backend,
  DataDirLockedError,
  LocalBackend,
  lockDataDir,
  type OpenedStorage,
  openStorage,
  type OpenStorageOptions,
  unlockDataDir,
} from "./backend.ts";
export type * from "./types.ts";
export { kvFilePath } from "./meta/kv_file.ts";
export {
  compactKvFile,
  type CompactOptions,
  type CompactResult,
  type KvFileSpace,
  kvFileSpace,
} from "./meta/kv_compact.ts";
export type { CreateBucketInput } from "./buckets/buckets.ts";
export type { HealthCheck, StorageHealth } from "./health.ts";
export {
  CHECKSUM_ALGORITHMS,
  CHECKSUM_LENGTH,
  type ChecksumAlgorithm,
  checksumHeaderName,
  digestOf,
  fromBase64,
  type Hasher,
  newChecksumHasher,
  newMd5,
  parseContentMd5,
  toBase64,
  verifyChecksum,
  verifyMd5,
} from "./objects/hashing.ts";
export {
  assertLockAllowed,
  assertRetentionChange,
  type DefaultRetentionRule,
  isLocked,
  LOCK_CONFIG,
  type LockConfig,
  type Retention,
} from "./objects/lock.ts";
export {
  type ChecksumType,
  checksumTypeAllowed,
  defaultChecksumType,
} from "./multipart/multipart_checksum.ts";
export {
  type CreateUploadInput,
  isUploadId,
  type ListPartsInput,
  type ListPartsPage,
  type ListUploadsInput,
  type ListUploadsPage,
  MAX_PART_SIZE,
  parsePartNumber,
  type PartRecord,
  type UploadPartInput,
  type UploadRecord,
} from "./multipart/multipart.ts";
export type { CompletePart, CompleteUploadInput } from "./multipart/multipart_complete.ts";
export { etagListMatches } from "./objects/objects.ts";
export { partRange, partSizesOf } from "./objects/parts.ts";
