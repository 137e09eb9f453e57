/**
 * What an inventory report is made of, as AWS lays it out in the destination bucket:
 *
 *   <prefix>/<source>/<id>/data/<uuid>.csv.gz                 gzip CSV rows (or .json.gz)
 *   <prefix>/<source>/<id>/<YYYY-MM-DDTHH-MMZ>/manifest.json   which files, their schema
 *   <prefix>/<source>/<id>/<YYYY-MM-DDTHH-MMZ>/manifest.checksum   MD5 hex of manifest.json
 *   <prefix>/<source>/<id>/hive/dt=<YYYY-MM-DD-HH-MM>/symlink.txt   s3:// URLs of the data files
 *
 * Rows: the fields of `fileSchema` in order, every CSV value double-quoted and the key
 * URL-encoded; JSON rows (this server's extension) are objects named by the schema, one a line.
 */
import { type LifecycleConfig } from "../lifecycle/config.ts";
import { expirationOf } from "../lifecycle/rules.ts";
import type { BucketRecord, ObjectRecord } from "../../storage/types.ts";
import type { InventoryConfiguration, OptionalField } from "./config.ts";

/** The manifest's `version` (AWS's). */
export const MANIFEST_VERSION = "2016-11-30";

const pad = (n: number) => String(n).padStart(2, "0");

/** The prefix every object of one configuration's reports shares (ends with `/`). */
export function reportBase(cfg: InventoryConfiguration, sourceBucket: string): string {
  const p = cfg.destination.prefix ?? "";
  const lead = p === "" ? "" : p.endsWith("/") ? p : `${p}/`;
  return `${lead}${sourceBucket}/${cfg.id}/`;
}

/** `YYYY-MM-DDTHH-MMZ`: the folder of one report's manifest. */
export function reportFolder(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${
    pad(d.getUTCHours())
  }-${pad(d.getUTCMinutes())}Z`;
}

/** `dt=YYYY-MM-DD-HH-MM`: the hive partition of one report. */
export function hivePartition(ms: number): string {
  const d = new Date(ms);
  return `dt=${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${
    pad(d.getUTCHours())
  }-${pad(d.getUTCMinutes())}`;
}

/** The columns of a report, in AWS's order. */
export function fileSchema(cfg: InventoryConfiguration): string[] {
  const base = cfg.includedVersions === "All"
    ? ["Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker"]
    : ["Bucket", "Key"];
  return [...base, ...cfg.optionalFields];
}

const ENCRYPTION_STATUS = { "AES256": "SSE-S3", "aws:kms": "SSE-KMS", "SSE-C": "SSE-C" } as const;

/** What a row needs besides the version itself. */
export interface RowContext {
  bucket: BucketRecord;
  lifecycle: LifecycleConfig | null;
}

/** The ACL field: AWS's base64 JSON of the version's grants (owner FULL_CONTROL when private). */
function aclField(rec: ObjectRecord): string {
  const grants = rec.acl?.grants.map((g) => ({
    permission: g.permission,
    ...(g.grantee.type === "Group"
      ? { type: "Group", uri: g.grantee.uri }
      : { type: "CanonicalUser", canonicalId: g.grantee.id }),
  })) ?? [{ permission: "FULL_CONTROL", type: "CanonicalUser", canonicalId: rec.ownerId }];
  return btoa(JSON.stringify({ version: "2022-11-10", status: "AVAILABLE", grants }));
}

function optionalValue(
  f: OptionalField,
  rec: ObjectRecord,
  isLatest: boolean,
  ctx: RowContext,
): string {
  const marker = rec.deleteMarker === true;
  switch (f) {
    case "Size":
      return marker ? "" : String(rec.size);
    case "LastModifiedDate":
      return new Date(rec.lastModified).toISOString();
    case "ETag":
      return marker ? "" : rec.etag.replace(/"/g, "");
    case "StorageClass":
      return marker ? "" : rec.storageClass;
    case "IsMultipartUploaded":
      return marker ? "" : String(rec.parts !== undefined || rec.partsCount !== undefined);
    case "ReplicationStatus":
    case "IntelligentTieringAccessTier":
      return "";
    case "EncryptionStatus":
      return marker ? "" : rec.enc ? ENCRYPTION_STATUS[rec.enc.mode] : "NOT-SSE";
    case "ObjectLockRetainUntilDate":
      return rec.retention ? new Date(rec.retention.until).toISOString() : "";
    case "ObjectLockMode":
      return rec.retention?.mode ?? "";
    case "ObjectLockLegalHoldStatus":
      return ctx.bucket.objectLock && !marker ? (rec.legalHold ? "ON" : "OFF") : "";
    case "BucketKeyStatus":
      return marker ? "" : rec.enc?.bucketKey ? "ENABLED" : "DISABLED";
    case "ChecksumAlgorithm":
      return rec.checksum?.algorithm ?? "";
    case "ObjectAccessControlList":
      return marker ? "" : aclField(rec);
    case "ObjectOwner":
      return rec.ownerId;
    case "LifecycleExpirationDate": {
      if (marker || !isLatest) return "";
      const e = expirationOf(ctx.lifecycle, rec);
      return e ? new Date(e.at).toISOString() : "";
    }
  }
}

/** One version's values, in `fileSchema` order. */
export function rowValues(
  cfg: InventoryConfiguration,
  rec: ObjectRecord,
  isLatest: boolean,
  ctx: RowContext,
): string[] {
  const out = [ctx.bucket.name, rec.key];
  if (cfg.includedVersions === "All") {
    out.push(
      rec.versionId === "null" ? "" : rec.versionId,
      String(isLatest),
      String(rec.deleteMarker === true),
    );
  }
  for (const f of cfg.optionalFields) out.push(optionalValue(f, rec, isLatest, ctx));
  return out;
}

/** A CSV line as AWS writes it: every value quoted, the key (second column) URL-encoded. */
export function csvLine(values: string[]): string {
  return values.map((v, i) => {
    const s = i === 1 ? encodeURIComponent(v).replace(/%2F/g, "/") : v;
    return `"${s.replace(/"/g, '""')}"`;
  }).join(",") + "\n";
}

/** A JSON line: the schema's names to the values (the key as stored). */
export function jsonLine(schema: string[], values: string[]): string {
  return JSON.stringify(Object.fromEntries(schema.map((n, i) => [n, values[i]]))) + "\n";
}

export interface ManifestFile {
  key: string;
  size: number;
  MD5checksum: string;
}

/** `manifest.json` of one report. */
export function manifestJson(opts: {
  sourceBucket: string;
  destinationArn: string;
  created: number;
  format: string;
  schema: string[];
  files: ManifestFile[];
}): string {
  return JSON.stringify(
    {
      sourceBucket: opts.sourceBucket,
      destinationBucket: opts.destinationArn,
      version: MANIFEST_VERSION,
      creationTimestamp: String(opts.created),
      fileFormat: opts.format,
      fileSchema: opts.schema.join(", "),
      files: opts.files,
    },
    null,
    2,
  );
}
