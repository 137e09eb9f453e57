/** Records kept in the metadata store and the Backend interface the S3 ops call. */
import type { ChecksumAlgorithm } from "./objects/hashing.ts";
import type { CustomerKey, SseSpec, StoredEncryption } from "../crypto/types.ts";
import type { ChangeOrigin } from "./feed/feed_types.ts";
export type {
  ChangeEvent,
  ChangeFeed,
  ChangeOrigin,
  FeedFollower,
  ObjectChange,
} from "./feed/feed_types.ts";

/**
 * `x-amz-replication-status` of an object: PENDING until every replication rule that selects it
 * has copied it (then COMPLETED, or FAILED once one gave up), REPLICA on a copy made by
 * replication from another server.
 */
export type ReplicationStatus = "PENDING" | "COMPLETED" | "FAILED" | "REPLICA";

export type VersioningState = "Unversioned" | "Enabled" | "Suspended";

export interface BucketRecord {
  v: 1;
  /** Random id; object keys are stored under it, not under the name. */
  id: string;
  name: string;
  /** Namespace: "" is the global namespace, otherwise a tenant id. */
  ns: string;
  created: number;
  ownerId: string;
  region: string;
  versioning: VersioningState;
  objectLock: boolean;
  /**
   * Followers of this bucket's change feed (feed/feed_types.ts), by name: its object changes are
   * recorded for them in the commit that makes them. Absent or empty: nothing is recorded.
   */
  feed?: string[];
}

/** What ListBuckets shows of a bucket. Shared with every reader (frozen): never change one. */
export interface ListedBucket {
  readonly name: string;
  readonly created: number;
  readonly region: string;
  readonly ownerId: string;
}

/** A ListBuckets page of one namespace, in name order. */
export interface ListBucketsInput {
  /** Only names that begin with it ("" for all). */
  prefix: string;
  /** Exclusive start (the name a previous page ended at). */
  after?: string;
  /** Only buckets in this region. */
  region?: string;
  /** Only buckets of this owner. */
  ownerId?: string;
  /** Buckets on the page at most (`Infinity`: all). */
  limit: number;
}

export interface ListBucketsPage {
  buckets: ListedBucket[];
  /** More buckets match after the last one on the page. */
  truncated: boolean;
}

/** Standard content headers stored with an object. */
export interface ContentHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  /** `x-amz-website-redirect-location`: the website endpoint answers the object with a 301 there. */
  websiteRedirectLocation?: string;
}

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** Base64 digest; for composite multipart checksums includes the `-N` suffix. */
  value: string;
  type: "FULL_OBJECT" | "COMPOSITE";
}

/** Where an object's bytes live: one blob, or an ordered list of part blobs (multipart). */
export interface PartRef {
  n: number;
  blob: string;
  size: number;
  etag: string;
  checksum?: string;
  /** Encrypted objects: this part's own data key, wrapped like the object's `enc.dk`. */
  dk?: Uint8Array;
  /**
   * What wrapped `dk` when it is not the object's `enc.kek` (the master key or key-service key
   * version changed while the upload was open, or a rotation rewrapped a chunked part list chunk
   * by chunk before its record); absent: `enc.kek`.
   */
  kek?: string;
}

/** ACL permissions (server/iam/acl.ts is the model; this is how records store it). */
export type Permission = "READ" | "WRITE" | "READ_ACP" | "WRITE_ACP" | "FULL_CONTROL";

export type Grantee =
  | { type: "CanonicalUser"; id: string; displayName: string }
  | { type: "Group"; uri: string };

export interface Grant {
  grantee: Grantee;
  permission: Permission;
}

/** An access control list as stored: the resource owner and the grants, in order. */
export interface StoredAcl {
  owner: { id: string; displayName: string };
  grants: Grant[];
}

export interface ObjectRecord {
  v: 1;
  key: string;
  /** "null" in unversioned or suspended buckets. */
  versionId: string;
  deleteMarker?: boolean;
  /** Single-blob objects; null for delete markers and multipart layouts. */
  blob: string | null;
  /** The blob's bytes are in KV (`["blobd", blob]`), not in a file (small PutObject bodies). */
  inline?: true;
  /**
   * How many `["blobd", blob, n]` rows hold the inline bytes; absent on records written before
   * rows existed, whose bytes are the one entry `["blobd", blob]` (objects/inline.ts).
   */
  inlineRows?: number;
  /**
   * The key's only version, the `null` version of a never-versioned bucket, stored as this
   * `["obj"]` record alone: no `["ver"]`, `["vhead"]` or `["vnull"]` entries (versions.ts).
   */
  solo?: true;
  /** Multipart layout: parts stored inline when few, else in ["objparts", ...] chunks. */
  parts?: PartRef[];
  partsChunks?: number;
  partsCount?: number;
  /** Multipart layout: the upload id (blob group of the parts; key of the part chunks). */
  partsId?: string;
  /**
   * Chunked multipart layout: the part sizes in order as unsigned LEB128 varints, so partNumber
   * reads and ranges can be resolved without loading the chunks.
   */
  partSizes?: Uint8Array;
  size: number;
  /** Quoted ETag as sent on the wire. */
  etag: string;
  lastModified: number;
  content: ContentHeaders;
  meta: Record<string, string>;
  checksum?: StoredChecksum;
  storageClass: string;
  tags?: Record<string, string>;
  retention?: { mode: "GOVERNANCE" | "COMPLIANCE"; until: number };
  legalHold?: boolean;
  ownerId: string;
  /** The version's ACL; absent when private (the owner's FULL_CONTROL alone). */
  acl?: StoredAcl;
  /** How the bytes are encrypted (docs/decisions/0012); absent: plaintext. */
  enc?: StoredEncryption;
  /** Replication status (`x-amz-replication-status`); absent: not replicated. */
  replication?: ReplicationStatus;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface WriteConditions {
  /** If-Match: quoted etag or `*`. */
  ifMatch?: string;
  /** If-None-Match: `*` or a quoted etag. */
  ifNoneMatch?: string;
}

export interface ExpectedChecksum {
  algorithm: ChecksumAlgorithm;
  /** Called after the body has been read (trailer values arrive at the end). */
  expected: () => string | undefined;
}

export interface PutObjectInput {
  key: string;
  body: ReadableStream<Uint8Array>;
  /** Exact byte count the client declared; a short body is `IncompleteBody`. */
  contentLength: number | null;
  /** Base64 Content-MD5 to check. */
  contentMd5?: string;
  checksum?: ExpectedChecksum;
  content: ContentHeaders;
  meta: Record<string, string>;
  tags?: Record<string, string>;
  storageClass?: string;
  ownerId: string;
  conditions?: WriteConditions;
  retention?: ObjectRecord["retention"];
  legalHold?: boolean;
  /** The new version's ACL; absent when private. */
  acl?: StoredAcl;
  /** Upper bound for the body (5 GiB for a single PUT). */
  maxSize?: number;
  /** Encrypt the bytes so (resolved by the S3 layer); absent: plaintext. */
  sse?: SseSpec;
  /** What caused the write, for the change feed (ObjectCreated:Put when absent). */
  origin?: ChangeOrigin;
  /** Replication status stored with the record in its publish commit (no second commit). */
  replication?: ReplicationStatus;
}

export interface ListObjectsInput {
  prefix: string;
  delimiter: string;
  /** Exclusive start: marker / start-after / continuation. */
  after: string;
  maxKeys: number;
}

/** What ListObjects shows of an object (its slim `["objl", ...]` listing entry). */
export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  lastModified: number;
  storageClass: string;
  ownerId: string;
  checksum?: Pick<StoredChecksum, "algorithm" | "type">;
}

export interface ListObjectsPage {
  objects: ListedObject[];
  commonPrefixes: string[];
  truncated: boolean;
  /** Last key or prefix returned (the next marker when truncated). */
  last: string | null;
  /**
   * When the page was read from one state that the server tells apart from all others (the
   * in-memory listing copy): no other state of any bucket has this stamp, so the same input and
   * stamp give the same page.
   */
  stamp?: number;
}

export interface BucketStats {
  objects: number;
  bytes: number;
}

/** One bucket's counters, with what names it (`StorageStats.bucketTotals`). */
export interface BucketTotals extends BucketStats {
  ns: string;
  name: string;
}

/** Free and total bytes of the file system that holds the data dir. */
export interface DiskSpace {
  freeBytes: number;
  /** Bytes in use (total less free, the reserved blocks counted as used as `df` counts them). */
  usedBytes: number;
  totalBytes: number;
}

/** Counts kept by storage since it opened (metrics read them when scraped). */
export interface StorageCounters {
  /** Transactions sent to Deno KV (a merged group counts once). */
  kvCommits: number;
  /** Commits that found SQLite's write lock held by another handle at least once. */
  busyCommits: number;
  /** Pauses taken by those commits before they were sent again. */
  lockRetries: number;
}

/**
 * What storage tells about itself, for metrics (with `Backend.diskSpace`): read when a scrape
 * asks, never per request.
 */
export interface StorageStats {
  /** Every bucket's object count and bytes, from the counters its commits keep. */
  bucketTotals(): Promise<BucketTotals[]>;
  counters(): StorageCounters;
}

/**
 * Told of each KV transaction as it ends (metrics): how many writes it carried (more than one
 * when the group committer merged them) and how long it took. Called on the commit path, so it
 * must be cheap and must not throw.
 */
export interface StorageObserver {
  kvCommit(writes: number, seconds: number): void;
}

/** DeleteObject options: conditions, a specific version, and the lock bypass. */
export interface DeleteObjectOptions {
  conditions?: WriteConditions;
  /** Removes this version for good; without it a versioned bucket gets a delete marker. */
  versionId?: string;
  /** `x-amz-bypass-governance-retention: true` from a caller allowed to use it. */
  bypassGovernance?: boolean;
  /** Owner recorded on a new delete marker. */
  ownerId?: string;
  /** What caused the delete, for the change feed (ObjectRemoved:… when absent). */
  origin?: ChangeOrigin;
}

export interface ListVersionsInput {
  prefix: string;
  delimiter: string;
  keyMarker: string;
  /** Only with keyMarker: resume after this version of keyMarker. */
  versionIdMarker: string;
  maxKeys: number;
}

export interface VersionEntry {
  rec: ObjectRecord;
  isLatest: boolean;
}

export interface ListVersionsPage {
  versions: VersionEntry[];
  commonPrefixes: string[];
  truncated: boolean;
  nextKeyMarker: string | null;
  nextVersionIdMarker: string | null;
}

/** A tenant's quota limits (null: unlimited). */
export interface QuotaLimits {
  maxBytes: number | null;
  maxBuckets: number | null;
}

/** A bucket's quota limits (null: unlimited). */
export interface BucketQuotaLimits {
  maxBytes: number | null;
  maxObjects: number | null;
}

/** Where storage learns the quotas (IAM's tenants and bucket quotas); null: none. */
export interface QuotaPolicy {
  limitsOf(ns: string): QuotaLimits | null;
  /** The limits in force for a bucket (its own, else the server's default for buckets). */
  bucketLimitsOf?(bucketId: string): BucketQuotaLimits | null;
}

/** What a bucket namespace stores, as the storage commits count it. */
export interface TenantUsage {
  bytes: number;
  objects: number;
  buckets: number;
  /** Bytes reserved by parts of open multipart uploads (see `UsageLedger.reserve`). */
  reserved: number;
}

/**
 * Tenant usage and multipart part reservations. Stored bytes are counted, and byte and bucket
 * quotas enforced, inside the commit that publishes a write; an UploadPart reserves its length
 * before its body is read, so that parallel parts cannot pass the quota together.
 */
export interface UsageLedger {
  read(ns: string): Promise<TenantUsage>;
  /**
   * Reserves `len` bytes for a part of `uploadId`, checked against stored + reserved bytes
   * (`QuotaExceeded` when they would pass `maxBytes`).
   */
  reserve(ns: string, uploadId: string, len: number, maxBytes: number): Promise<void>;
  /** A part was stored: the part of that number it replaced gives its reservation back. */
  commit(ns: string, uploadId: string, partNumber: number, len: number): Promise<void>;
  /**
   * Gives back `len` bytes (a part that failed), or with null everything the upload still holds,
   * once the upload has ended (an upload still open keeps its reservation).
   */
  release(ns: string, uploadId: string, len: number | null): Promise<void>;
}

/** What a read of an encrypted object needs besides its record: the namespace and an SSE-C key. */
export interface ReadAccess {
  /** The bucket's namespace (SSE-KMS keys belong to one). */
  ns: string;
  customer?: CustomerKey;
}

/** Opens the bytes of the record being read (all, or a range). */
export type OpenBytes = (range?: ByteRange) => Promise<ReadableStream<Uint8Array>>;

export interface GetObjectOptions {
  versionId?: string | null;
  /**
   * Judges each record read before its bytes are opened (it may throw: preconditions, an
   * unsatisfiable range): the range to open, null for every byte, false for none (HEAD).
   */
  range?: (rec: ObjectRecord) => ByteRange | null | false | Promise<ByteRange | null | false>;
  /** The customer key an SSE-C object needs. */
  customer?: CustomerKey;
}

/** A GET's record and bytes (null: nothing to send, an empty object or `range` said false). */
export interface ObjectRead {
  rec: ObjectRecord;
  body: ReadableStream<Uint8Array> | null;
}

/** How a master-key rotation rewraps stored data keys (`Backend.rewrapDataKeys`). */
export interface RewrapOptions {
  /** Whether a `kek` (a record's `enc.kek`, a part's `kek`) is one to leave: an old master key. */
  stale(kek: string): boolean;
  /** Unwraps `dk` under `kek` and wraps it again under the active master key. */
  rewrap(kek: string, dk: Uint8Array): Promise<{ kek: string; dk: Uint8Array }>;
  /** Begin a new pass even when the checkpoint holds an unfinished one (a new rotation). */
  fresh?: boolean;
  /** Stop, checkpointed and unfinished, after examining this many entries (tests, pauses). */
  limit?: number;
  /** Stops the pass at the next entry, checkpointed (server shutdown). */
  signal?: AbortSignal;
}

/** A rewrap pass: its checkpointed progress (`["rewrap"]`, docs/metadata.md). */
export interface RewrapProgress {
  /** Passes begun since the first rotation (a rotation runs passes until one finds nothing). */
  pass: number;
  /** Where the pass is: open uploads, then version records, then latest records. */
  phase: "uploads" | "versions" | "objects" | "done";
  /** Entries examined. */
  scanned: number;
  /** Records whose data keys were rewrapped (a record with parts counts once). */
  rewrapped: number;
  /** Records under an old key left as they were (kept busy by writers): another pass is due. */
  skipped: number;
  /**
   * Stored object versions not yet examined, estimated from the usage counters when the pass
   * began (0 when finished).
   */
  remaining: number;
  started: number;
  /** When the pass ended; null while it runs or was interrupted (it resumes from its cursor). */
  finished: number | null;
}
