/**
 * Server access logging of a bucket (Put/GetBucketLogging): the `BucketLoggingStatus` document
 * parsed and validated, its stored form (bucket configuration `logging`) and rendered back.
 */
import { isS3Error, S3Error } from "../../s3/errors.ts";
import { child, children, childText, escapeXml, type XmlNode } from "../../s3/xml.ts";
import { type GranteeLookup, grantXml, parseGrantee } from "../../iam/acl.ts";
import type { Grant } from "../../storage/types.ts";

/** Bucket config kind of the logging configuration. */
export const LOGGING_CONFIG = "logging";
/** The namespace AWS answers GetBucketLogging with (not the usual S3 one). */
export const LOGGING_NS = "http://doc.s3.amazonaws.com/2006-03-01";

export type TargetGrantPermission = "FULL_CONTROL" | "READ" | "WRITE";

/** How log object keys are formed (TargetObjectKeyFormat). */
export type KeyFormat =
  | { kind: "SimplePrefix" }
  | { kind: "PartitionedPrefix"; dateSource: "EventTime" | "DeliveryTime" };

export interface BucketLogging {
  v: 1;
  /** The target bucket as the document named it. */
  targetBucket: string;
  /** The target bucket record's id and namespace when it was configured (a recreated bucket of
   * the same name is not the target). */
  targetId: string;
  targetNs: string;
  targetPrefix: string;
  /** Grants given on each delivered log object (besides the target bucket owner's). */
  grants: Grant[];
  /** Absent when the document named none (SimplePrefix). */
  keyFormat?: KeyFormat;
}

/** What a PutBucketLogging document asks for, before its target is resolved. */
export interface LoggingRequest {
  targetBucket: string;
  targetPrefix: string;
  grants: Grant[];
  keyFormat?: KeyFormat;
}

const malformed = () => new S3Error("MalformedXML");
const PERMISSIONS: readonly TargetGrantPermission[] = ["FULL_CONTROL", "READ", "WRITE"];

/** Parses `BucketLoggingStatus`: null turns logging off (no `LoggingEnabled`). */
export function parseBucketLoggingStatus(
  doc: XmlNode,
  lookup: GranteeLookup,
): LoggingRequest | null {
  const enabled = child(doc, "LoggingEnabled");
  if (!enabled) {
    if (doc.children.length) throw malformed();
    return null;
  }
  const targetBucket = childText(enabled, "TargetBucket")?.trim();
  const targetPrefix = childText(enabled, "TargetPrefix");
  if (!targetBucket || targetPrefix === undefined) throw malformed();
  const grants: Grant[] = [];
  const grantsNode = child(enabled, "TargetGrants");
  for (const g of grantsNode ? children(grantsNode, "Grant") : []) {
    const grantee = child(g, "Grantee");
    const permission = childText(g, "Permission")?.trim();
    if (!grantee || !permission || !(PERMISSIONS as readonly string[]).includes(permission)) {
      throw malformed();
    }
    try {
      grants.push({
        grantee: parseGrantee(grantee, lookup),
        permission: permission as Grant["permission"],
      });
    } catch (e) {
      if (isS3Error(e) && e.code === "MalformedACLError") throw malformed();
      throw e;
    }
  }
  const req: LoggingRequest = { targetBucket, targetPrefix, grants };
  const fmt = child(enabled, "TargetObjectKeyFormat");
  if (fmt) {
    const simple = child(fmt, "SimplePrefix");
    const partitioned = child(fmt, "PartitionedPrefix");
    if ((simple ? 1 : 0) + (partitioned ? 1 : 0) !== 1) throw malformed();
    if (simple) req.keyFormat = { kind: "SimplePrefix" };
    else {
      const src = childText(partitioned!, "PartitionDateSource")?.trim() ?? "EventTime";
      if (src !== "EventTime" && src !== "DeliveryTime") throw malformed();
      req.keyFormat = { kind: "PartitionedPrefix", dateSource: src };
    }
  }
  return req;
}

/** The `BucketLoggingStatus` document of GetBucketLogging (empty when logging is off). */
export function bucketLoggingXml(cfg: BucketLogging | null): string {
  const head =
    `<?xml version="1.0" encoding="UTF-8"?>\n<BucketLoggingStatus xmlns="${LOGGING_NS}">`;
  if (!cfg) return `${head}</BucketLoggingStatus>`;
  const parts = [
    `<LoggingEnabled><TargetBucket>${escapeXml(cfg.targetBucket)}</TargetBucket>`,
    `<TargetPrefix>${escapeXml(cfg.targetPrefix)}</TargetPrefix>`,
  ];
  if (cfg.grants.length) {
    parts.push(`<TargetGrants>${cfg.grants.map(grantXml).join("")}</TargetGrants>`);
  }
  const f = cfg.keyFormat;
  if (f) {
    parts.push(
      f.kind === "SimplePrefix"
        ? "<TargetObjectKeyFormat><SimplePrefix></SimplePrefix></TargetObjectKeyFormat>"
        : `<TargetObjectKeyFormat><PartitionedPrefix><PartitionDateSource>${f.dateSource}</PartitionDateSource></PartitionedPrefix></TargetObjectKeyFormat>`,
    );
  }
  parts.push("</LoggingEnabled>");
  return head + parts.join("") + "</BucketLoggingStatus>";
}
