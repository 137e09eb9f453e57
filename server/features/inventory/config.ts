/**
 * Bucket inventory configurations (Put/Get/Delete/ListBucketInventoryConfiguration): the S3 XML
 * document parsed and validated with the errors AWS answers, the stored form (all of a bucket's
 * configurations in its bucket configuration `inventory`), and the document rendered back.
 */
import { S3Error } from "../../s3/errors.ts";
import { child, children, childText, type XmlNode, type XmlObject } from "../../s3/xml.ts";

/** Bucket config kind holding every inventory configuration of a bucket. */
export const INVENTORY_CONFIG = "inventory";
/** AWS's limit of configurations per bucket. */
export const MAX_INVENTORY_CONFIGS = 1000;
/** Configurations per ListBucketInventoryConfigurations page (AWS: 100). */
export const INVENTORY_PAGE = 100;

/**
 * CSV as AWS writes it; `JSON` is this server's extension (one JSON object per line, gzip); ORC
 * and Parquet are S3 formats this server does not write (`NotImplemented`).
 */
export type InventoryFormat = "CSV" | "JSON";
export type InventoryFrequency = "Daily" | "Weekly";

/**
 * The optional fields S3 defines, in the order AWS writes them in a report (the manifest's
 * `fileSchema`), whatever order the configuration lists them in.
 */
export const OPTIONAL_FIELDS = [
  "Size",
  "LastModifiedDate",
  "ETag",
  "StorageClass",
  "IsMultipartUploaded",
  "ReplicationStatus",
  "EncryptionStatus",
  "ObjectLockRetainUntilDate",
  "ObjectLockMode",
  "ObjectLockLegalHoldStatus",
  "IntelligentTieringAccessTier",
  "BucketKeyStatus",
  "ChecksumAlgorithm",
  "ObjectAccessControlList",
  "ObjectOwner",
  "LifecycleExpirationDate",
] as const;
export type OptionalField = typeof OPTIONAL_FIELDS[number];

export interface InventoryDestination {
  /** The destination bucket as the ARN names it (`arn:aws:s3:::<bucket>`). */
  bucketArn: string;
  /** The bucket name of the ARN (may be `tenant:bucket`). */
  bucket: string;
  format: InventoryFormat;
  prefix?: string;
  accountId?: string;
  /** Encryption of the report objects. */
  encryption?: { mode: "SSE-S3" } | { mode: "SSE-KMS"; keyId: string };
}

export interface InventoryConfiguration {
  id: string;
  enabled: boolean;
  destination: InventoryDestination;
  filterPrefix?: string;
  includedVersions: "All" | "Current";
  optionalFields: OptionalField[];
  frequency: InventoryFrequency;
}

/** The stored form: every configuration of the bucket, in id order. */
export interface InventoryConfigs {
  v: 1;
  configs: InventoryConfiguration[];
}

const malformed = () => new S3Error("MalformedXML");

/** Configuration ids as AWS allows them: 1-64 of letters, digits, `-`, `_` and `.`. */
export function validateInventoryId(id: string | null): string {
  if (id === null || id === "") {
    throw new S3Error("InvalidArgument", {
      message: "Missing required parameter: id",
      fields: { ArgumentName: "id" },
    });
  }
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
    throw new S3Error("InvalidArgument", {
      message: "The configuration id is not valid",
      fields: { ArgumentName: "id", ArgumentValue: id },
    });
  }
  return id;
}

function required(node: XmlNode, name: string): string {
  const v = childText(node, name);
  if (v === undefined) throw malformed();
  return v.trim();
}

function oneOf<T extends string>(v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw malformed();
  return v as T;
}

/**
 * `arn:aws:s3:::bucket` -> bucket. Anything else is `InvalidS3DestinationBucket`, as AWS answers:
 * an S3 ARN with a region or an account ("Bucket ARN should not specify a namespace."), or no
 * bucket ARN at all.
 */
export function bucketOfArn(arn: string): string {
  const m = /^arn:aws:s3:([^:]*):([^:]*):([^/:]+)$/.exec(arn);
  if (m && (m[1] !== "" || m[2] !== "")) {
    throw new S3Error("InvalidS3DestinationBucket", {
      message: "Bucket ARN should not specify a namespace.",
    });
  }
  if (!m) throw new S3Error("InvalidS3DestinationBucket");
  return m[3];
}

function parseDestination(node: XmlNode): InventoryDestination {
  const s3 = child(node, "S3BucketDestination");
  if (!s3) throw malformed();
  const bucketArn = required(s3, "Bucket");
  const format = required(s3, "Format");
  if (format === "ORC" || format === "Parquet") {
    throw new S3Error("NotImplemented", {
      message: `Inventory reports in ${format} are not supported by this server: use CSV`,
    });
  }
  const dest: InventoryDestination = {
    bucketArn,
    // Resolved from the ARN once the document's Id is checked (parseInventoryConfiguration).
    bucket: "",
    format: oneOf(format, ["CSV", "JSON"] as const),
  };
  const prefix = childText(s3, "Prefix");
  if (prefix !== undefined && prefix !== "") dest.prefix = prefix;
  const account = childText(s3, "AccountId");
  if (account !== undefined && account.trim() !== "") dest.accountId = account.trim();
  const enc = child(s3, "Encryption");
  if (enc) {
    const kms = child(enc, "SSE-KMS");
    const sse = child(enc, "SSE-S3");
    if ((kms ? 1 : 0) + (sse ? 1 : 0) !== 1) throw malformed();
    if (kms) dest.encryption = { mode: "SSE-KMS", keyId: required(kms, "KeyId") };
    else dest.encryption = { mode: "SSE-S3" };
  }
  return dest;
}

/**
 * Parses an `InventoryConfiguration` document whose Id must be `id` (the `id` query parameter:
 * else `IdMismatch`). Everything is checked before anything is stored.
 */
export function parseInventoryConfiguration(doc: XmlNode, id: string): InventoryConfiguration {
  const bodyId = required(doc, "Id");
  const enabled = oneOf(required(doc, "IsEnabled"), ["true", "false"] as const) === "true";
  const destNode = child(doc, "Destination");
  if (!destNode) throw malformed();
  const destination = parseDestination(destNode);
  const includedVersions = oneOf(
    required(doc, "IncludedObjectVersions"),
    ["All", "Current"] as const,
  );
  const schedule = child(doc, "Schedule");
  if (!schedule) throw malformed();
  const frequency = oneOf(required(schedule, "Frequency"), ["Daily", "Weekly"] as const);
  const cfg: InventoryConfiguration = {
    id,
    enabled,
    destination,
    includedVersions,
    optionalFields: [],
    frequency,
  };
  const filter = child(doc, "Filter");
  if (filter) {
    const p = childText(filter, "Prefix");
    if (p === undefined) throw malformed();
    if (p !== "") cfg.filterPrefix = p;
  }
  const fields = child(doc, "OptionalFields");
  if (fields) {
    const named = new Set(children(fields, "Field").map((f) => f.text.trim()));
    for (const f of named) oneOf(f, OPTIONAL_FIELDS);
    cfg.optionalFields = OPTIONAL_FIELDS.filter((f) => named.has(f));
  }
  // AWS's order: the document's structure, then its Id, then the destination's ARN.
  if (bodyId !== id) throw new S3Error("IdMismatch");
  return { ...cfg, destination: { ...destination, bucket: bucketOfArn(destination.bucketArn) } };
}

/** The configuration as S3 renders it (the body of `InventoryConfiguration`). */
export function inventoryXml(cfg: InventoryConfiguration): XmlObject {
  const d = cfg.destination;
  const dest: XmlObject = {};
  // AWS's element order.
  if (d.accountId) dest.AccountId = d.accountId;
  dest.Bucket = d.bucketArn;
  if (d.encryption) {
    dest.Encryption = d.encryption.mode === "SSE-KMS"
      ? { "SSE-KMS": { KeyId: d.encryption.keyId } }
      : { "SSE-S3": {} };
  }
  dest.Format = d.format;
  if (d.prefix) dest.Prefix = d.prefix;
  const out: XmlObject = {
    Destination: { S3BucketDestination: dest },
    IsEnabled: cfg.enabled,
  };
  if (cfg.filterPrefix !== undefined) out.Filter = { Prefix: cfg.filterPrefix };
  out.Id = cfg.id;
  out.IncludedObjectVersions = cfg.includedVersions;
  if (cfg.optionalFields.length) out.OptionalFields = { Field: cfg.optionalFields };
  out.Schedule = { Frequency: cfg.frequency };
  return out;
}

/** The configurations with `cfg` put in place of one of the same id (kept in id order). */
export function withConfiguration(
  stored: InventoryConfigs | null,
  cfg: InventoryConfiguration,
): InventoryConfigs {
  const others = (stored?.configs ?? []).filter((c) => c.id !== cfg.id);
  if (others.length >= MAX_INVENTORY_CONFIGS) throw new S3Error("TooManyConfigurations");
  const configs = [...others, cfg].sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return { v: 1, configs };
}

/** How often a configuration's report is due, in milliseconds. */
export function periodOf(frequency: InventoryFrequency): number {
  return (frequency === "Daily" ? 1 : 7) * 86_400_000;
}
