/**
 * Bucket names and object keys as S3 accepts them. Checked when a request is parsed, before
 * anything is looked up: a name that breaks the rules can name nothing stored, and a very long one
 * would otherwise reach a Deno KV key (at most 2 KiB) and fail there as an internal error.
 */
import { S3Error } from "./errors.ts";
import type { Endpoint } from "./endpoint.ts";

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

const RESERVED_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3"];

/** Why `name` is not a valid bucket name, or null when it is one. */
export function bucketNameProblem(name: string): string | null {
  if (name.length < 3 || name.length > 63) {
    return `a bucket name must be 3 to 63 characters long, this one has ${name.length}`;
  }
  const bad = /[^a-z0-9.-]/.exec(name);
  if (bad) {
    return `a bucket name may contain only lowercase letters, digits, dots and hyphens, not ${
      JSON.stringify(bad[0])
    }`;
  }
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    return "a bucket name must begin and end with a letter or a digit";
  }
  if (name.includes("..")) return "a bucket name must not contain two adjacent dots";
  if (name.includes(".-") || name.includes("-.")) {
    return "a bucket name must not contain a dot next to a hyphen";
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    return "a bucket name must not be formatted as an IP address";
  }
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `a bucket name must not begin with the reserved prefix "${prefix}"`;
  const suffix = RESERVED_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) return `a bucket name must not end with the reserved suffix "${suffix}"`;
  return null;
}

/** Throws `InvalidBucketName` saying what is wrong (`what`: whose name it is, for the message). */
export function validateBucketName(name: string, what = "bucket"): void {
  const problem = bucketNameProblem(name);
  if (problem === null) return;
  throw new S3Error("InvalidBucketName", {
    message: `The specified ${what} is not valid: ${problem}.`,
    fields: { BucketName: name },
  });
}

/** Throws `KeyTooLongError` for a key (or `what` else) over 1024 UTF-8 bytes. */
export function validateKey(key: string, what = "Your key"): void {
  // Three bytes per UTF-16 unit bound the UTF-8 length: most keys need no encoding to pass.
  if (key.length * 3 <= MAX_KEY_BYTES) return;
  const size = new TextEncoder().encode(key).length;
  if (size > MAX_KEY_BYTES) {
    throw new S3Error("KeyTooLongError", {
      message: `${what} is too long: a key may have at most ${MAX_KEY_BYTES} bytes in UTF-8.`,
      fields: { Size: String(size), MaxSizeAllowed: String(MAX_KEY_BYTES) },
    });
  }
}

/** Tenant names: what a `tenant:` qualifier may be (server/iam/tenants.ts creates them so). */
const ACCOUNT = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** A bucket as a request names it. */
export interface BucketRef {
  /** The `tenant:` qualifier, or null for an unqualified name. */
  account: string | null;
  name: string;
}

/** Splits `tenant:bucket`; null when `s` is no valid bucket reference. */
export function bucketRefOf(s: string): BucketRef | null {
  const colon = s.indexOf(":");
  if (colon < 0) return bucketNameProblem(s) === null ? { account: null, name: s } : null;
  const account = s.slice(0, colon);
  const name = s.slice(colon + 1);
  if (!ACCOUNT.test(account) || bucketNameProblem(name) !== null) return null;
  return { account, name };
}

/** Throws `InvalidBucketName` (saying what is wrong) unless `s` names a bucket. */
export function validateBucketRef(s: string, what = "bucket"): BucketRef {
  const colon = s.indexOf(":");
  if (colon < 0) {
    validateBucketName(s, what);
    return { account: null, name: s };
  }
  const account = s.slice(0, colon);
  if (!ACCOUNT.test(account)) {
    throw new S3Error("InvalidBucketName", {
      message: `The specified ${what} is not valid: "${account}" before the colon is no tenant ` +
        `name (tenant:bucket).`,
      fields: { BucketName: s },
    });
  }
  validateBucketName(s.slice(colon + 1), what);
  return { account, name: s.slice(colon + 1) };
}

const LIST_OPS: ReadonlySet<Endpoint["op"]> = new Set([
  "ListObjects",
  "ListObjectsV2",
  "ListObjectVersions",
  "ListMultipartUploads",
]);
/** Listing parameters that are compared with keys (and become KV keys when the walk starts). */
const KEY_PARAMS = ["prefix", "marker", "start-after", "key-marker"];

/**
 * Checks the bucket and key a parsed request addresses, and a listing's prefix and markers (no
 * key is longer than 1024 bytes, so neither is a useful prefix). CORS preflights (`Options`) are
 * answered without a lookup and pass unchecked.
 */
export function validateEndpointNames(ep: Endpoint): void {
  if (ep.op === "Options" || ep.bucket === null) return;
  validateBucketRef(ep.bucket);
  if (ep.key !== null) validateKey(ep.key);
  if (!LIST_OPS.has(ep.op)) return;
  for (const name of KEY_PARAMS) {
    const value = ep.query.get(name);
    if (value !== null) validateKey(value, `The ${name} parameter`);
  }
}
