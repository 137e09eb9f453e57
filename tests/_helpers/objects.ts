/**
 * AWS SDK shorthands the object tests share: GET into bytes (with the ETag and the response),
 * PUT of bytes, versioning on or suspended, and the ETag S3 gives a single-part body.
 */
import {
  GetObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { bodyBytes } from "./server.ts";

/** The quoted MD5 hex S3 uses as the ETag of a single-part object. */
export const md5 = (b: Uint8Array) => `"${createHash("md5").update(b).digest("hex")}"`;

export async function get(
  s3: S3Client,
  Bucket: string,
  Key: string,
  extra: Record<string, unknown> = {},
) {
  const r = await s3.send(new GetObjectCommand({ Bucket, Key, ...extra }));
  return { bytes: await bodyBytes(r.Body), etag: r.ETag, r };
}

export async function put(s3: S3Client, Bucket: string, Key: string, Body: Uint8Array) {
  return await s3.send(new PutObjectCommand({ Bucket, Key, Body }));
}

export async function setVersioning(
  s3: S3Client,
  Bucket: string,
  Status: "Enabled" | "Suspended",
) {
  await s3.send(
    new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status } }),
  );
}

/** The CRC32 of bytes, base64 as `x-amz-checksum-crc32` carries it. */
export function crc32Base64(data: Uint8Array): string {
  let c = ~0;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  const v = (~c) >>> 0;
  return btoa(String.fromCharCode(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255));
}
