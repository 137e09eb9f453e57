/**
 * Small request bodies read whole (XML documents, DeleteObjects): bounded reads and the
 * integrity check S3 requires on some of them. Object data never comes through here.
 */
import { isS3Error, S3Error } from "./errors.ts";
import { expectedChecksumFrom } from "./headers.ts";
import {
  digestOf,
  newChecksumHasher,
  newMd5,
  parseContentMd5,
  toBase64,
  verifyChecksum,
  verifyMd5,
} from "../storage/mod.ts";

/**
 * The largest request document any operation reads (DeleteObjects: 1000 keys of 1024 bytes with
 * their XML). A document body declared longer is refused before it is read.
 */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** Reads at most `limit` bytes of a body (`MaxMessageLengthExceeded` past it). */
export async function readBodyBytes(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const c of body) {
      total += c.byteLength;
      if (total > limit) throw new S3Error("MaxMessageLengthExceeded");
      chunks.push(c);
    }
  } catch (e) {
    // A read that fails without an S3 error is a client that hung up mid-body.
    throw isS3Error(e) ? e : new S3Error("IncompleteBody");
  }
  if (chunks.length === 1) return chunks[0];
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  return all;
}

/**
 * Reads a body that S3 accepts only with an integrity header (DeleteObjects,
 * PutBucketLifecycleConfiguration): Content-MD5 or an `x-amz-checksum-*` value (or trailer),
 * checked against the bytes received. Missing is `InvalidRequest`, a mismatch `BadDigest`.
 */
export async function readIntegrityCheckedBody(
  req: Request,
  body: ReadableStream<Uint8Array> | null,
  trailers: Map<string, string>,
  limit: number,
): Promise<Uint8Array> {
  const h = req.headers;
  const expectedMd5 = parseContentMd5(h.get("content-md5"));
  const checksum = expectedChecksumFrom(h, trailers);
  const bytes = await readBodyBytes(body, limit);
  // A trailing checksum is known only once the body has been read.
  const expectedChecksum = checksum?.expected();
  if (!expectedMd5 && expectedChecksum === undefined) {
    throw new S3Error("InvalidRequest", {
      message: "Missing required header for this request: Content-MD5 OR x-amz-checksum-*",
    });
  }
  if (expectedMd5) verifyMd5(expectedMd5, digestOf(newMd5(), bytes));
  if (checksum && expectedChecksum !== undefined) {
    const actual = toBase64(digestOf(newChecksumHasher(checksum.algorithm), bytes));
    verifyChecksum(checksum.algorithm, expectedChecksum, actual);
  }
  return bytes;
}

/** Decodes a body as UTF-8; bytes that are not UTF-8 are `MalformedXML`. */
export function utf8Text(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new S3Error("MalformedXML");
  }
}
