/**
 * Makes SigV4 presigned URLs (the query-string form `auth/mod.ts` verifies): the console's URL
 * generator signs on the server with one of the user's access keys, so the secret never reaches
 * the browser. Path style, `UNSIGNED-PAYLOAD`, `host` the only signed header.
 */
import {
  ALGORITHM,
  canonicalQuery,
  deriveSigningKey,
  signatureFor,
  stringToSign,
  uriEncode,
} from "./sigv4.ts";

/** The longest a SigV4 presigned URL may be valid (AWS: 7 days). */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export interface PresignInput {
  method: string;
  /** The S3 endpoint as clients reach it: scheme and host (`https://s3.example.com`). */
  endpoint: string;
  bucket: string;
  key: string;
  /** Further query parameters (e.g. `versionId`), signed with the rest. */
  query?: [string, string][];
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** 1 to MAX_PRESIGN_SECONDS. */
  expiresSeconds: number;
  /** Signing time, ms since the epoch. */
  now: number;
}

/** `20240101T000000Z` of a time. */
function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/**
 * A presigned URL for one request.
 *
 * @example
 * ```ts
 * const url = presignUrl({
 *   method: "GET", endpoint: "http://127.0.0.1:8080", bucket: "b", key: "a b.txt",
 *   accessKeyId: "AKIA...", secretAccessKey: "...", region: "us-east-1",
 *   expiresSeconds: 3600, now: Date.now(),
 * });
 * ```
 */
export function presignUrl(i: PresignInput): string {
  if (!Number.isInteger(i.expiresSeconds) || i.expiresSeconds < 1) {
    throw new RangeError(`Cannot presign for ${i.expiresSeconds} seconds: expected at least 1`);
  }
  if (i.expiresSeconds > MAX_PRESIGN_SECONDS) {
    throw new RangeError(
      `Cannot presign for ${i.expiresSeconds} seconds: at most ${MAX_PRESIGN_SECONDS} (7 days)`,
    );
  }
  const base = new URL(i.endpoint);
  const date = amzDate(i.now);
  const scope = {
    accessKeyId: i.accessKeyId,
    date: date.slice(0, 8),
    region: i.region,
    service: "s3",
  };
  const path = uriEncode(`/${i.bucket}/${i.key}`, true);
  const query: [string, string][] = [
    ...(i.query ?? []),
    ["X-Amz-Algorithm", ALGORITHM],
    ["X-Amz-Credential", `${i.accessKeyId}/${scope.date}/${i.region}/s3/aws4_request`],
    ["X-Amz-Date", date],
    ["X-Amz-Expires", String(i.expiresSeconds)],
    ["X-Amz-SignedHeaders", "host"],
  ];
  const canonical = [
    i.method.toUpperCase(),
    path,
    canonicalQuery(query),
    `host:${base.host}\n`,
    "host",
    "UNSIGNED-PAYLOAD",
  ].join("\n");
  const key = deriveSigningKey(i.secretAccessKey, scope.date, scope.region, scope.service);
  const signature = signatureFor(key, stringToSign(date, scope, canonical));
  return `${base.protocol}//${base.host}${path}?${
    canonicalQuery(query)
  }&X-Amz-Signature=${signature}`;
}
