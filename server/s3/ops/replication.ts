/**
 * Put/Get/DeleteBucketReplication, and what a write learns of replication: the status its
 * record is published with (PENDING when a rule selects it, REPLICA for a copy made by another
 * server's replication), in the write's own commit.
 */
import { S3Error } from "../errors.ts";
import { buildXml, readCheckedXmlDocument } from "../xml.ts";
import {
  parseReplication,
  REPLICATION_CONFIG,
  REPLICATION_FOLLOWER,
  type ReplicationConfig,
  replicationXml,
  rulesFor,
} from "../../features/replication/config.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { BucketRecord, ReplicationStatus } from "../../storage/types.ts";

/**
 * The request header a replicating server sends with its copies and deletes: the write is a
 * replica (stored REPLICA, and not replicated again). Honoured only for an authenticated caller,
 * whom authorization has already allowed the write.
 */
export const REPLICA_HEADER = "x-maxiofs-replica";

function service(ctx: OpContext) {
  const r = ctx.deps.replication;
  if (!r) throw new S3Error("NotImplemented", { message: "Replication is not enabled" });
  return r;
}

export async function getBucketReplication(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const cfg = await ctx.deps.storage.getBucketConfig<ReplicationConfig>(b.id, REPLICATION_CONFIG);
  if (!cfg) {
    throw new S3Error("ReplicationConfigurationNotFoundError", { fields: { BucketName: b.name } });
  }
  return { xml: buildXml("ReplicationConfiguration", replicationXml(cfg)) };
}

export async function putBucketReplication(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const svc = service(ctx);
  // S3 requires an integrity header (Content-MD5 or x-amz-checksum-*) on this request.
  const doc = await readCheckedXmlDocument(ctx.req, ctx.auth, "ReplicationConfiguration", 1 << 20);
  const cfg = parseReplication(doc);
  if (b.versioning !== "Enabled") {
    throw new S3Error("InvalidRequest", {
      message: "Versioning must be 'Enabled' on the bucket to apply a replication configuration",
    });
  }
  await svc.configure(b, cfg);
  return {};
}

export async function deleteBucketReplication(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  await service(ctx).configure(b, null);
  return { status: 204 };
}

/** The replication status a write stores with its record. */
export interface WriteReplication {
  replication?: ReplicationStatus;
  /** The write is a replica (origin.ts marks its change so: followers skip it). */
  replica?: true;
}

/**
 * The replication status of a new object `key` with `tags`: REPLICA when the caller is a
 * replicating server, PENDING when an enabled rule of the bucket selects it. Buckets without
 * rules cost nothing (their record lists no replication follower); others one cached read.
 */
export async function writeReplicationOf(
  ctx: OpContext,
  bucket: BucketRecord,
  key: string,
  tags:
    | Record<string, string>
    | undefined
    | (() => Promise<Record<string, string> | undefined>),
): Promise<WriteReplication> {
  if (ctx.principal && ctx.req.headers.get(REPLICA_HEADER) === "true") {
    return { replication: "REPLICA", replica: true };
  }
  if (!bucket.feed?.includes(REPLICATION_FOLLOWER)) return {};
  const cfg = await ctx.deps.storage.getBucketConfig<ReplicationConfig>(
    bucket.id,
    REPLICATION_CONFIG,
  );
  if (!cfg) return {};
  const t = typeof tags === "function"
    ? (cfg.rules.some((r) => r.filter?.tags?.length) ? await tags() : undefined)
    : tags;
  if (!rulesFor(cfg, key, t).length) return {};
  return { replication: "PENDING" };
}

/**
 * Whether the request comes from a replicating server (its writes and delete markers are not
 * replicated again).
 */
export function isReplicaRequest(ctx: OpContext): boolean {
  return !!ctx.principal && ctx.req.headers.get(REPLICA_HEADER) === "true";
}
