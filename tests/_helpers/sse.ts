/**
 * The four ways an object can be stored (plain, SSE-S3, SSE-KMS, SSE-C) as AWS SDK parameters,
 * for the encryption tests: what a write sends, what a read of it must send, what its answers
 * echo, and the raw SSE-C headers for requests the SDK will not send.
 */
import { createHash } from "node:crypto";

export type Mode = "plain" | "SSE-S3" | "SSE-KMS" | "SSE-C";
export const MODES: Mode[] = ["plain", "SSE-S3", "SSE-KMS", "SSE-C"];

/** A 32-byte customer key, its base64 and the base64 MD5 S3 echoes. */
export function customerKey(seed: number) {
  const key = new Uint8Array(32).map((_, i) => (i * 7 + seed * 31) & 0xff);
  return {
    key,
    b64: btoa(String.fromCharCode(...key)),
    md5: createHash("md5").update(key).digest("base64"),
  };
}

export const KEY_A = customerKey(1);
export const KEY_B = customerKey(2);

/** SDK parameters of a write (PutObject, CreateMultipartUpload, CopyObject's destination). */
export function writeParams(mode: Mode, key = KEY_A): Record<string, string> {
  switch (mode) {
    case "plain":
      return {};
    case "SSE-S3":
      return { ServerSideEncryption: "AES256" };
    case "SSE-KMS":
      return { ServerSideEncryption: "aws:kms" };
    case "SSE-C":
      return { SSECustomerAlgorithm: "AES256", SSECustomerKey: key.b64 };
  }
}

/** SDK parameters a read (GET, HEAD, UploadPart) must carry: the key of an SSE-C object. */
export function readParams(mode: Mode, key = KEY_A): Record<string, string> {
  return mode === "SSE-C" ? { SSECustomerAlgorithm: "AES256", SSECustomerKey: key.b64 } : {};
}

/** SDK parameters naming an SSE-C copy source's key. */
export function copySourceParams(mode: Mode, key = KEY_A): Record<string, string> {
  return mode === "SSE-C"
    ? { CopySourceSSECustomerAlgorithm: "AES256", CopySourceSSECustomerKey: key.b64 }
    : {};
}

/** What an SDK output says of the encryption, compared with what `mode` must echo. */
export function echoed(out: {
  ServerSideEncryption?: string;
  SSECustomerAlgorithm?: string;
  SSECustomerKeyMD5?: string;
}): string {
  if (out.SSECustomerAlgorithm) {
    return `SSE-C:${out.SSECustomerAlgorithm}:${out.SSECustomerKeyMD5}`;
  }
  if (out.ServerSideEncryption === "AES256") return "SSE-S3";
  if (out.ServerSideEncryption === "aws:kms") return "SSE-KMS";
  return out.ServerSideEncryption ?? "plain";
}

export function expectedEcho(mode: Mode, key = KEY_A): string {
  return mode === "SSE-C" ? `SSE-C:AES256:${key.md5}` : mode;
}

/** Raw SSE-C headers (for signed requests), optionally with another MD5 or algorithm. */
export function rawCustomerHeaders(
  key = KEY_A,
  over: { md5?: string; algorithm?: string; b64?: string } = {},
): Record<string, string> {
  return {
    "x-amz-server-side-encryption-customer-algorithm": over.algorithm ?? "AES256",
    "x-amz-server-side-encryption-customer-key": over.b64 ?? key.b64,
    "x-amz-server-side-encryption-customer-key-md5": over.md5 ?? key.md5,
  };
}
