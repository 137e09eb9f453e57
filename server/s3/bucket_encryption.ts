/**
 * Bucket default encryption: AWS's `ServerSideEncryptionConfiguration` document, stored as the
 * bucket configuration `encryption`, and the resolution of what a write that names no encryption
 * gets: the bucket's default, else the server's `--encrypt-new-objects` (SSE-S3), else nothing
 * (docs/decisions/0012-encryption-at-rest.md).
 */
import { S3Error } from "./errors.ts";
import { escapeXml, type XmlNode } from "./xml.ts";
import type { SseSpec } from "../crypto/types.ts";

/** Bucket configuration kind of the default encryption (Backend `getBucketConfig`). */
export const ENCRYPTION_CONFIG = "encryption";

/** A bucket's default encryption, as stored. */
export interface BucketEncryption {
  v: 1;
  algorithm: "AES256" | "aws:kms";
  /** KMSMasterKeyID as sent (bare id or ARN); absent: the namespace's default key. */
  kmsKeyId?: string;
  bucketKey: boolean;
}

const malformed = () => new S3Error("MalformedXML");

/** The one text child `name` of `node` (absent: undefined); repeated or nested: MalformedXML. */
function onlyText(node: XmlNode, name: string): string | undefined {
  const found = node.children.filter((c) => c.name === name);
  if (found.length > 1 || found.some((c) => c.children.length)) throw malformed();
  return found[0]?.text.trim();
}

/**
 * A PutBucketEncryption document (its root parsed): exactly one `Rule` with
 * `ApplyServerSideEncryptionByDefault` (SSEAlgorithm AES256 or aws:kms, KMSMasterKeyID only with
 * aws:kms) and an optional `BucketKeyEnabled`. Anything else is MalformedXML, as AWS answers;
 * a key id with AES256 is InvalidArgument.
 */
export function parseBucketEncryption(doc: XmlNode): BucketEncryption {
  if (doc.name !== "ServerSideEncryptionConfiguration") throw malformed();
  if (doc.children.some((c) => c.name !== "Rule") || doc.children.length !== 1) throw malformed();
  const rule = doc.children[0];
  if (
    rule.children.some((c) =>
      !["ApplyServerSideEncryptionByDefault", "BucketKeyEnabled"]
        .includes(c.name)
    )
  ) throw malformed();
  const defaults = rule.children.filter((c) => c.name === "ApplyServerSideEncryptionByDefault");
  if (defaults.length !== 1) throw malformed();
  const by = defaults[0];
  if (by.children.some((c) => !["SSEAlgorithm", "KMSMasterKeyID"].includes(c.name))) {
    throw malformed();
  }
  const algorithm = onlyText(by, "SSEAlgorithm");
  const kmsKeyId = onlyText(by, "KMSMasterKeyID");
  const bucketKeyText = onlyText(rule, "BucketKeyEnabled");
  if (bucketKeyText !== undefined && bucketKeyText !== "true" && bucketKeyText !== "false") {
    throw malformed();
  }
  const bucketKey = bucketKeyText === "true";
  if (algorithm === "aws:kms:dsse") {
    throw new S3Error("NotImplemented", {
      message: "Dual-layer server-side encryption (aws:kms:dsse) is not implemented",
    });
  }
  if (algorithm !== "AES256" && algorithm !== "aws:kms") throw malformed();
  if (algorithm === "AES256") {
    if (kmsKeyId !== undefined) {
      throw new S3Error("InvalidArgument", {
        message: "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms",
        fields: { ArgumentName: "ApplyServerSideEncryptionByDefault" },
      });
    }
    return { v: 1, algorithm, bucketKey };
  }
  return { v: 1, algorithm, ...(kmsKeyId ? { kmsKeyId } : {}), bucketKey };
}

/** The GetBucketEncryption document. */
export function bucketEncryptionXml(cfg: BucketEncryption): string {
  const key = cfg.kmsKeyId ? `<KMSMasterKeyID>${escapeXml(cfg.kmsKeyId)}</KMSMasterKeyID>` : "";
  return `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${cfg.algorithm}</SSEAlgorithm>` +
    `${key}</ApplyServerSideEncryptionByDefault>` +
    `<BucketKeyEnabled>${cfg.bucketKey}</BucketKeyEnabled></Rule>` +
    `</ServerSideEncryptionConfiguration>`;
}

/**
 * What a write gets: the encryption its headers ask for, else the bucket's default, else SSE-S3
 * when the server encrypts every new object, else none (plaintext).
 */
export function resolveSse(
  requested: SseSpec | undefined,
  bucketDefault: BucketEncryption | null,
  encryptNewObjects: boolean,
): SseSpec | undefined {
  if (requested) return requested;
  if (bucketDefault?.algorithm === "aws:kms") {
    return {
      mode: "aws:kms",
      ...(bucketDefault.kmsKeyId ? { keyId: bucketDefault.kmsKeyId } : {}),
      ...(bucketDefault.bucketKey ? { bucketKey: true } : {}),
    };
  }
  if (bucketDefault?.algorithm === "AES256") return { mode: "AES256" };
  return encryptNewObjects ? { mode: "AES256" } : undefined;
}

/**
 * The console API's JSON form of a bucket's default (`{"algorithm": "aws:kms", "kmsKeyId": ...}`
 * or `{"algorithm": null}` for none); anything else is `InvalidRequest` naming it.
 */
export function bucketEncryptionFromJson(body: unknown): BucketEncryption | null {
  const bad = (what: string) => new S3Error("InvalidRequest", { message: `Invalid ${what}` });
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw bad("document");
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!["algorithm", "kmsKeyId", "bucketKey"].includes(k)) throw bad(`field "${k}"`);
  }
  if (o.algorithm === null || o.algorithm === undefined || o.algorithm === "") return null;
  if (o.algorithm !== "AES256" && o.algorithm !== "aws:kms") throw bad("algorithm");
  if (o.bucketKey !== undefined && typeof o.bucketKey !== "boolean") throw bad("bucketKey");
  const kmsKeyId = o.kmsKeyId ?? undefined;
  if (kmsKeyId !== undefined && (typeof kmsKeyId !== "string")) throw bad("kmsKeyId");
  if (kmsKeyId && o.algorithm !== "aws:kms") throw bad("kmsKeyId (only with aws:kms)");
  return {
    v: 1,
    algorithm: o.algorithm,
    ...(kmsKeyId ? { kmsKeyId: kmsKeyId.trim() } : {}),
    bucketKey: o.bucketKey === true,
  };
}
