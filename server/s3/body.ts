/**
 * Small request bodies read whole (XML documents, DeleteObjects): bounded reads and the
 * integrity check S3 requires on some of them. Object data never comes through here.
 */
import { isS3Error, S3Error } from "./errors.ts";
import { expectedChecksumFrom } from "./headers.ts";
import { fromBase64, newChecksumHasher, newMd5, toBase64, toHex } from "../storage/hashing.ts";

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
  const md5Header = h.get("content-md5");
  let expectedMd5: Uint8Array | null = null;
  if (md5Header !== null) {
    expectedMd5 = fromBase64(md5Header.trim());
    if (!expectedMd5 || expectedMd5.length !== 16) throw new S3Error("InvalidDigest");
  }
  const checksum = expectedChecksumFrom(h, trailers);
  const bytes = await readBodyBytes(body, limit);
  // A trailing checksum is known only once the body has been read.
  const expectedChecksum = checksum?.expected();
  if (!expectedMd5 && expectedChecksum === undefined) {
    throw new S3Error("InvalidRequest", {
      message: "Missing required header for this request: Content-MD5 OR x-amz-checksum-*",
    });
  }
  if (expectedMd5) {
    const md5 = newMd5();
    md5.update(bytes);
    if (toHex(md5.digest()) !== toHex(expectedMd5)) throw new S3Error("BadDigest");
  }
  if (checksum && expectedChecksum !== undefined) {
    const hasher = newChecksumHasher(checksum.algorithm);
    hasher.update(bytes);
    if (toBase64(hasher.digest()) !== expectedChecksum) {
      throw new S3Error("BadDigest", {
        message: `The ${checksum.algorithm} you specified did not match the calculated checksum.`,
      });
    }
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
