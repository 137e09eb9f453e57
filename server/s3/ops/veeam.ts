/**
 * Veeam's Smart Object Storage API (SOSAPI): two virtual objects under a fixed prefix in every
 * bucket tell Veeam Backup & Replication what the storage can do (`system.xml`) and how much room
 * is left (`capacity.xml`), so it sizes its requests and places backups by free space. They are
 * read with GetObject's permission on their key (the authorizer has decided before this runs); an
 * object stored under the same key wins, so an operator can publish their own document.
 */
import { S3Error } from "../errors.ts";
import { digestOf, newMd5 } from "../../storage/mod.ts";
import { hex } from "../../hex.ts";
import { buildXml } from "../xml.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { BucketRecord } from "../../storage/types.ts";

export const SOSAPI_PREFIX = ".system-d26a9498-cb7c-4a87-a44a-8ae204f5ba6c/";
const SYSTEM_KEY = `${SOSAPI_PREFIX}system.xml`;
const CAPACITY_KEY = `${SOSAPI_PREFIX}capacity.xml`;

/** Block size Veeam is told to use (KiB): large objects suit the blob store and its fsyncs. */
export const SOSAPI_BLOCK_KIB = 4096;
/** Parallel S3 requests Veeam is told it may run against one bucket. */
export const SOSAPI_TASK_LIMIT = 64;

export function isSosapiKey(key: string | null | undefined): boolean {
  return key === SYSTEM_KEY || key === CAPACITY_KEY;
}

/** What capacity.xml reports, in bytes. */
export interface Capacity {
  capacity: number;
  available: number;
  used: number;
}

/**
 * The room a bucket has: its own byte quota when one is set (used = what the bucket stores), else
 * its namespace's (used = what the namespace stores), else the data dir's file system (used =
 * what is not free on it).
 */
export async function capacityOf(ctx: OpContext, bucket: BucketRecord): Promise<Capacity> {
  const own = ctx.deps.quotas?.bucketLimitsOf?.(bucket.id)?.maxBytes ?? null;
  if (own !== null) {
    const used = (await ctx.deps.storage.bucketStats(bucket.id)).bytes;
    return { capacity: own, available: Math.max(0, own - used), used };
  }
  const maxBytes = ctx.deps.quotas?.limitsOf(bucket.ns)?.maxBytes ?? null;
  if (maxBytes !== null) {
    const used = (await ctx.deps.storage.usage.read(bucket.ns)).bytes;
    return { capacity: maxBytes, available: Math.max(0, maxBytes - used), used };
  }
  const disk = ctx.deps.storage.diskSpace();
  return {
    capacity: disk.totalBytes,
    available: disk.freeBytes,
    used: Math.max(0, disk.totalBytes - disk.freeBytes),
  };
}

export function systemXml(): string {
  return buildXml("SystemInfo", {
    ProtocolVersion: '"1.0"',
    ModelName: '"MaxIOFS"',
    ProtocolCapabilities: { CapacityInfo: true, UploadSessions: false, IAMSTS: false },
    SystemRecommendations: {
      S3ConcurrentTaskLimit: SOSAPI_TASK_LIMIT,
      KbBlockSize: SOSAPI_BLOCK_KIB,
    },
  }, { ns: null });
}

export function capacityXml(c: Capacity): string {
  return buildXml("CapacityInfo", {
    Capacity: c.capacity,
    Available: c.available,
    Used: c.used,
  }, { ns: null });
}

/**
 * GET or HEAD of a SOSAPI key with no stored object under it: the generated document, or null
 * when an object is stored there (the caller serves it as usual).
 */
export async function serveSosapi(ctx: OpContext, withBody: boolean): Promise<OpResult | null> {
  const bucket = await ctx.bucket();
  const key = ctx.ep.key!;
  const stored = await ctx.deps.storage.getObjectRecord(bucket, key).then(() => true, (e) => {
    if (e instanceof S3Error && e.code === "NoSuchKey") return false;
    throw e;
  });
  if (stored) return null;
  const text = key === SYSTEM_KEY ? systemXml() : capacityXml(await capacityOf(ctx, bucket));
  const bytes = new TextEncoder().encode(text);
  const headers: Record<string, string> = {
    "content-type": "application/xml",
    "content-length": String(bytes.byteLength),
    etag: `"${hex(digestOf(newMd5(), bytes))}"`,
    "last-modified": new Date(ctx.deps.clock.now()).toUTCString(),
  };
  return withBody ? { status: 200, headers, body: bytes } : { status: 200, headers };
}
