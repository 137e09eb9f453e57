/**
 * Put/GetBucketLogging (`?logging`): server access logging of a bucket. The records are made and
 * delivered by features/access_logging/delivery.ts, which each change is told of.
 */
import { isS3Error, S3Error } from "../errors.ts";
import { parseXmlDocument } from "../xml.ts";
import { readBodyBytes, utf8Text } from "../body.ts";
import {
  type BucketLogging,
  bucketLoggingXml,
  LOGGING_CONFIG,
  parseBucketLoggingStatus,
} from "../../features/access_logging/config.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { BucketRecord } from "../../storage/types.ts";

export async function getBucketLogging(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const cfg = await ctx.deps.storage.getBucketConfig<BucketLogging>(b.id, LOGGING_CONFIG);
  return { xml: bucketLoggingXml(cfg) };
}

/**
 * The target must be a bucket of the source's namespace that the caller may write to; anything
 * else is `InvalidTargetBucketForLogging`, as AWS answers a target that does not exist or that
 * logs cannot be delivered to.
 */
async function resolveTarget(
  ctx: OpContext,
  source: BucketRecord,
  name: string,
  prefix: string,
): Promise<BucketRecord> {
  const invalid = (message?: string) =>
    new S3Error("InvalidTargetBucketForLogging", {
      ...(message ? { message } : {}),
      fields: { TargetBucket: name },
    });
  let target: BucketRecord;
  try {
    target = await ctx.bucketNamed(name);
  } catch (e) {
    if (isS3Error(e) && (e.code === "NoSuchBucket" || e.code === "InvalidBucketName")) {
      throw invalid();
    }
    throw e;
  }
  if (target.ns !== source.ns) throw invalid();
  try {
    await ctx.deps.authorizer.authorize({
      ...ctx,
      ep: {
        op: "PutObject",
        bucket: name,
        key: prefix || "log",
        query: new URLSearchParams(),
        style: "path",
      },
      bucket: () => Promise.resolve(target),
    }, target);
  } catch (e) {
    if (isS3Error(e) && e.code === "AccessDenied") {
      throw invalid("You may not deliver logs to the target bucket");
    }
    throw e;
  }
  return target;
}

export async function putBucketLogging(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const bytes = await readBodyBytes(ctx.auth.body, 1 << 20);
  const req = parseBucketLoggingStatus(
    parseXmlDocument(utf8Text(bytes), "BucketLoggingStatus"),
    ctx.deps.grantees,
  );
  let cfg: BucketLogging | null = null;
  if (req) {
    const target = await resolveTarget(ctx, b, req.targetBucket, req.targetPrefix);
    cfg = {
      v: 1,
      targetBucket: req.targetBucket,
      targetId: target.id,
      targetNs: target.ns,
      targetPrefix: req.targetPrefix,
      grants: req.grants,
      ...(req.keyFormat ? { keyFormat: req.keyFormat } : {}),
    };
  }
  await ctx.deps.storage.putBucketConfig(b.id, LOGGING_CONFIG, cfg);
  ctx.deps.accessLogs?.configured(b, cfg);
  return {};
}
