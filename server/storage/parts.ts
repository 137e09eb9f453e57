/** Reading objects whose bytes are an ordered list of part blobs (multipart layout). */
import { S3Error } from "../s3/errors.ts";
import type { StorageCore } from "./core.ts";
import type { ByteRange, ObjectRecord } from "./types.ts";

/** Streams the parts of a multipart object in order, honouring a byte range across parts. */
export function openParts(
  _core: StorageCore,
  rec: ObjectRecord,
  _range?: ByteRange,
): Promise<ReadableStream<Uint8Array>> {
  throw new S3Error("NotImplemented", { message: `Cannot read multipart object "${rec.key}" yet` });
}

/**
 * The byte range of `partNumber` in an object. A single-blob object has exactly one part.
 * Throws `InvalidPartNumber` when out of range.
 */
export function partRange(
  rec: ObjectRecord,
  partNumber: string,
): { range: ByteRange | null; partsCount: number | null } {
  const n = /^\d+$/.test(partNumber) ? Number(partNumber) : NaN;
  if (!(n >= 1 && n <= 10000)) {
    throw new S3Error("InvalidArgument", {
      message: "Part number must be an integer between 1 and 10000, inclusive",
      fields: { ArgumentName: "partNumber", ArgumentValue: partNumber },
    });
  }
  if (!rec.parts && !rec.partsChunks) {
    if (n !== 1) {
      throw new S3Error("InvalidPartNumber", {
        fields: { PartNumberRequested: partNumber, ActualPartCount: "1" },
      });
    }
    return { range: rec.size === 0 ? null : { start: 0, end: rec.size - 1 }, partsCount: null };
  }
  throw new S3Error("NotImplemented", {
    message: "partNumber reads of multipart objects are not implemented yet",
  });
}
