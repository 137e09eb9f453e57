/**
 * The bucket default encryption document (Get/PutBucketEncryption) for the console, and what an
 * object's HEAD says of its encryption: islands cannot import the server's parser.
 */
import { tagText } from "./access_xml.ts";

const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

/** A bucket's default: off (null), SSE-S3, or SSE-KMS with a key id (empty: the default key). */
export type BucketDefault = null | { algorithm: "AES256" } | {
  algorithm: "aws:kms";
  kmsKeyId: string;
  bucketKey: boolean;
};

function escapeText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function parseBucketDefault(xml: string): BucketDefault {
  const algorithm = tagText(xml, "SSEAlgorithm");
  if (algorithm === "AES256") return { algorithm };
  if (algorithm === "aws:kms") {
    return {
      algorithm,
      kmsKeyId: tagText(xml, "KMSMasterKeyID"),
      bucketKey: tagText(xml, "BucketKeyEnabled") === "true",
    };
  }
  return null;
}

export function bucketDefaultXml(d: Exclude<BucketDefault, null>): string {
  const key = d.algorithm === "aws:kms" && d.kmsKeyId
    ? `<KMSMasterKeyID>${escapeText(d.kmsKeyId)}</KMSMasterKeyID>`
    : "";
  const bucketKey = d.algorithm === "aws:kms" && d.bucketKey
    ? "<BucketKeyEnabled>true</BucketKeyEnabled>"
    : "";
  return `<ServerSideEncryptionConfiguration xmlns="${S3_NS}"><Rule>` +
    `<ApplyServerSideEncryptionByDefault><SSEAlgorithm>${d.algorithm}</SSEAlgorithm>${key}` +
    `</ApplyServerSideEncryptionByDefault>${bucketKey}</Rule></ServerSideEncryptionConfiguration>`;
}

/** An object's encryption as its HEAD headers tell it, in words for the details dialog. */
export function objectEncryption(h: Headers): { mode: string; kmsKey?: string } {
  if (h.get("x-amz-server-side-encryption-customer-algorithm")) {
    return { mode: "SSE-C (customer-provided key)" };
  }
  const sse = h.get("x-amz-server-side-encryption");
  if (sse === "AES256") return { mode: "SSE-S3 (server-managed key)" };
  if (sse === "aws:kms") {
    const kmsKey = h.get("x-amz-server-side-encryption-aws-kms-key-id") ?? undefined;
    return { mode: "SSE-KMS (key service)", ...(kmsKey ? { kmsKey } : {}) };
  }
  return { mode: "none" };
}

/** Whether an S3 error says the object needs its customer key (SSE-C). */
export function needsCustomerKey(code: string | undefined, message: string): boolean {
  return code === "InvalidRequest" && /Server Side Encryption/.test(message);
}
