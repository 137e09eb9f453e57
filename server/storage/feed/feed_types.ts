/**
 * The change feed: a durable record of object changes in buckets that something downstream
 * follows (event notifications, replication). A change is written by the same KV commit as the
 * object change it describes (one more key in that atomic operation, never a second commit on the
 * request path), and only for buckets whose record names a follower (`BucketRecord.feed`). A
 * dispatcher reads the feed in order, hands each batch to every follower (which stores what it
 * needs durably, idempotently by `seq`), then removes the batch: delivery to followers is at
 * least once, and survives restarts.
 */

/**
 * The S3 event names a change carries (AWS's names, without the `s3:` prefix). The two
 * `ObjectRetention:Put` and `ObjectLegalHold:Put` have no AWS event notification: they are
 * recorded for replication (which copies them, as AWS's does), and no notification rule can
 * name them.
 */
export type ChangeEvent =
  | "ObjectCreated:Put"
  | "ObjectCreated:Post"
  | "ObjectCreated:Copy"
  | "ObjectCreated:CompleteMultipartUpload"
  | "ObjectRemoved:Delete"
  | "ObjectRemoved:DeleteMarkerCreated"
  | "ObjectTagging:Put"
  | "ObjectTagging:Delete"
  | "ObjectAcl:Put"
  | "ObjectRestore:Post"
  | "ObjectRestore:Completed"
  | "LifecycleExpiration:Delete"
  | "LifecycleExpiration:DeleteMarkerCreated"
  | "ObjectRetention:Put"
  | "ObjectLegalHold:Put";

/**
 * Who and what caused a write: given by the caller of a storage write (the S3 layer, the
 * lifecycle worker, replication). Storage records a change only when the bucket has followers.
 */
export interface ChangeOrigin {
  event: ChangeEvent;
  /** The principal's id (user or access key owner); absent: anonymous or the system. */
  principalId?: string;
  /** The client address, as the listener resolved it. */
  sourceIp?: string;
  requestId?: string;
  /**
   * The write was made by replication from another server: followers that copy data elsewhere
   * skip it (no loops between two servers replicating to each other).
   */
  replica?: boolean;
}

/** One committed object change, as read from the feed. */
export interface ObjectChange extends ChangeOrigin {
  /**
   * Feed position: increases with every change this server records (decimal digits, compare as
   * BigInt or by length then text). AWS's `sequencer` can be derived from it.
   */
  seq: string;
  /**
   * Whether the write marked the version replication PENDING; absent when unknown (a change
   * written before the feed said so), and for changes that make no version.
   */
  replicationPending?: boolean;
  /** Commit time (ms since the epoch, the storage clock). */
  time: number;
  bucketId: string;
  /** The bucket's namespace ("" global, else a tenant id) and name. */
  ns: string;
  bucket: string;
  key: string;
  /** The version written or removed, or the delete marker created ("null" when unversioned). */
  versionId: string | null;
  /** The object's size and ETag (quoted) after a create; absent on removals. */
  size?: number;
  etag?: string;
  /** The change created a delete marker. */
  deleteMarker?: boolean;
}

/** A follower of the feed, registered with the dispatcher under its name. */
export interface FeedFollower {
  /** The name buckets list in `BucketRecord.feed` to be followed by it. */
  readonly name: string;
  /**
   * Stores what this follower needs of `changes` durably (its own queue), idempotently by `seq`:
   * a batch may be handed over again after a crash. Changes of buckets not following it are in
   * the batch too; skip them. Throwing keeps the batch in the feed; it is handed over again.
   */
  accept(changes: ObjectChange[]): Promise<void>;
}

/** The feed as storage keeps it (Backend.changes). */
export interface ChangeFeed {
  /**
   * Up to `limit` oldest changes still in the feed (after position `after`, when given), in
   * order. A change still being committed ends the answer before it: no change below the last one
   * returned can appear later.
   */
  read(limit: number, after?: string): Promise<ObjectChange[]>;
  /** Removes changes every follower has accepted. */
  remove(changes: ObjectChange[]): Promise<void>;
  /** Resolves at the next commit that records a change (or at once if one came since `read`). */
  next(signal?: AbortSignal): Promise<void>;
  /** Changes in the feed not yet removed (gauge; counted from KV at start). */
  depth(): number;
}
