/** Object Lock: bucket configuration, per-version retention and legal hold. */
import { isS3Error, S3Error } from "../errors.ts";
import { buildXml, child, childText, parseXmlDocument, type XmlObject } from "../xml.ts";
import { readIntegrityCheckedBody, utf8Text } from "../body.ts";
import {
  assertRetentionChange,
  type DefaultRetentionRule,
  LOCK_CONFIG,
  type LockConfig,
  type Retention,
} from "../../storage/mod.ts";
import type { OpContext, OpResult } from "../context.ts";
import { originOf } from "../origin.ts";
import type { Endpoint } from "../endpoint.ts";
import type { BucketRecord, ObjectRecord } from "../../storage/types.ts";

/**
 * Whether the request asks to bypass GOVERNANCE retention and the caller may: the authorizer is
 * asked about the pseudo-operation `BypassGovernanceRetention` (IAM action
 * `s3:BypassGovernanceRetention`), so owners and admins may, grants need full access, and an
 * explicit policy Deny wins.
 */
export async function bypassGovernance(ctx: OpContext): Promise<boolean> {
  const h = ctx.req.headers.get("x-amz-bypass-governance-retention");
  if (h?.trim().toLowerCase() !== "true" || !ctx.principal) return false;
  const ep = { ...ctx.ep, op: "BypassGovernanceRetention" } as unknown as Endpoint;
  try {
    await ctx.deps.authorizer.authorize({ ...ctx, ep }, await ctx.bucket());
    return true;
  } catch (e) {
    if (isS3Error(e) && e.code === "AccessDenied") return false;
    throw e;
  }
}

/**
 * The XML body of PutObjectLockConfiguration, PutObjectRetention and PutObjectLegalHold. Like
 * DeleteObjects and PutBucketLifecycleConfiguration these require Content-MD5 or an
 * `x-amz-checksum-*` value (the AWS API model marks them "request checksum required").
 */
async function readLockXml(ctx: OpContext, root: string) {
  const bytes = await readIntegrityCheckedBody(ctx.req, ctx.auth.body, ctx.auth.trailers, 1 << 16);
  return parseXmlDocument(utf8Text(bytes), root);
}

function requireLockBucket(b: BucketRecord): void {
  if (!b.objectLock) {
    throw new S3Error("InvalidRequest", { message: "Bucket is missing Object Lock Configuration" });
  }
}

async function lockConfigOf(ctx: OpContext, b: BucketRecord): Promise<LockConfig | null> {
  if (!b.objectLock) return null;
  return await ctx.deps.storage.getBucketConfig<LockConfig>(b.id, LOCK_CONFIG) ??
    { enabled: true };
}

export async function getObjectLockConfiguration(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const cfg = await lockConfigOf(ctx, b);
  if (!cfg) {
    throw new S3Error("ObjectLockConfigurationNotFoundError", { fields: { BucketName: b.name } });
  }
  const body: XmlObject = { ObjectLockEnabled: "Enabled" };
  if (cfg.rule) {
    const dr: XmlObject = { Mode: cfg.rule.mode };
    if (cfg.rule.days !== undefined) dr.Days = cfg.rule.days;
    if (cfg.rule.years !== undefined) dr.Years = cfg.rule.years;
    body.Rule = { DefaultRetention: dr };
  }
  return { xml: buildXml("ObjectLockConfiguration", body) };
}

function positiveInt(s: string | undefined, name: string): number | undefined {
  if (s === undefined) return undefined;
  const n = /^\s*-?\d+\s*$/.test(s) ? Number(s) : NaN;
  if (Number.isNaN(n)) throw new S3Error("MalformedXML");
  if (n <= 0) {
    // AWS's answer (InvalidArgument, not InvalidRetentionPeriod), naming the element.
    throw new S3Error("InvalidArgument", {
      message: "Default retention period must be a positive integer value.",
      fields: { ArgumentName: name },
    });
  }
  return n;
}

export async function putObjectLockConfiguration(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const doc = await readLockXml(ctx, "ObjectLockConfiguration");
  if (childText(doc, "ObjectLockEnabled") !== "Enabled") throw new S3Error("MalformedXML");
  const cfg: LockConfig = { enabled: true };
  const rule = child(doc, "Rule");
  if (rule) {
    const dr = child(rule, "DefaultRetention");
    if (!dr) throw new S3Error("MalformedXML");
    const mode = childText(dr, "Mode");
    if (mode !== "GOVERNANCE" && mode !== "COMPLIANCE") throw new S3Error("MalformedXML");
    const days = positiveInt(childText(dr, "Days"), "Days");
    const years = positiveInt(childText(dr, "Years"), "Years");
    if ((days === undefined) === (years === undefined)) throw new S3Error("MalformedXML");
    if ((days ?? 0) > 36500 || (years ?? 0) > 100) {
      throw new S3Error("InvalidArgument", {
        message: "Default retention period is too large.",
      });
    }
    const r: DefaultRetentionRule = { mode };
    if (days !== undefined) r.days = days;
    if (years !== undefined) r.years = years;
    cfg.rule = r;
  }
  if (!b.objectLock) {
    // Object Lock can be turned on for an existing bucket only while versioning is Enabled.
    if (ctx.req.headers.has("x-amz-bucket-object-lock-token")) {
      throw new S3Error("InvalidRequest", { message: "Object Lock token is not supported" });
    }
    await ctx.deps.storage.updateBucket(b, (x) => {
      if (x.versioning !== "Enabled") {
        throw new S3Error("InvalidBucketState", {
          message:
            "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
        });
      }
      return { ...x, objectLock: true };
    });
  }
  await ctx.deps.storage.putBucketConfig(b.id, LOCK_CONFIG, cfg);
  return {};
}

function versionHeader(rec: ObjectRecord): Record<string, string> {
  return rec.versionId === "null" ? {} : { "x-amz-version-id": rec.versionId };
}

export async function getObjectRetention(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  requireLockBucket(b);
  const rec = await ctx.deps.storage.getObjectRecord(b, ctx.ep.key!, ctx.ep.query.get("versionId"));
  if (!rec.retention) {
    throw new S3Error("NoSuchObjectLockConfiguration", {
      message: "The specified object does not have a ObjectLock configuration",
    });
  }
  return {
    headers: versionHeader(rec),
    xml: buildXml("Retention", {
      Mode: rec.retention.mode,
      RetainUntilDate: new Date(rec.retention.until).toISOString(),
    }),
  };
}

/** Parses a retain-until date (ISO 8601); garbage is `InvalidArgument` like S3. */
export function parseRetainUntil(s: string): number {
  const t = Date.parse(s);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(s.trim())) {
    throw new S3Error("InvalidArgument", {
      message: "The retain until date must be provided in ISO 8601 format",
    });
  }
  return t;
}

export async function putObjectRetention(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const doc = await readLockXml(ctx, "Retention");
  requireLockBucket(b);
  const mode = childText(doc, "Mode");
  const until = childText(doc, "RetainUntilDate");
  let next: Retention | undefined;
  if (mode !== undefined || until !== undefined) {
    if (mode !== "GOVERNANCE" && mode !== "COMPLIANCE") throw new S3Error("MalformedXML");
    if (until === undefined) throw new S3Error("MalformedXML");
    next = { mode, until: parseRetainUntil(until) };
    if (next.until <= ctx.deps.clock.now()) {
      throw new S3Error("InvalidArgument", {
        message: "The retain until date must be in the future!",
      });
    }
  }
  const bypass = await bypassGovernance(ctx);
  const rec = await ctx.deps.storage.updateObjectVersion(
    b,
    ctx.ep.key!,
    ctx.ep.query.get("versionId"),
    (r, now) => {
      assertRetentionChange(r.retention, next, now, bypass);
      const { retention: _old, ...rest } = r;
      return next ? { ...rest, retention: next } : rest;
    },
    originOf(ctx, "ObjectRetention:Put"),
  );
  return { headers: versionHeader(rec) };
}

export async function getObjectLegalHold(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  requireLockBucket(b);
  const rec = await ctx.deps.storage.getObjectRecord(b, ctx.ep.key!, ctx.ep.query.get("versionId"));
  if (rec.legalHold === undefined) {
    throw new S3Error("NoSuchObjectLockConfiguration", {
      message: "The specified object does not have a ObjectLock configuration",
    });
  }
  return {
    headers: versionHeader(rec),
    xml: buildXml("LegalHold", { Status: rec.legalHold ? "ON" : "OFF" }),
  };
}

export async function putObjectLegalHold(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const doc = await readLockXml(ctx, "LegalHold");
  requireLockBucket(b);
  const status = childText(doc, "Status");
  if (status !== "ON" && status !== "OFF") throw new S3Error("MalformedXML");
  const rec = await ctx.deps.storage.updateObjectVersion(
    b,
    ctx.ep.key!,
    ctx.ep.query.get("versionId"),
    (r) => ({ ...r, legalHold: status === "ON" }),
    originOf(ctx, "ObjectLegalHold:Put"),
  );
  return { headers: versionHeader(rec) };
}
