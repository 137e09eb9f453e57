/** Body verification against a declared SHA-256 (x-amz-content-sha256). */
import { createHash } from "node:crypto";
import { S3Error } from "../errors.ts";

/**
 * Passes bytes through while hashing; at the end errors the stream with
 * `XAmzContentSHA256Mismatch` if the digest differs, so the consumer never commits the data.
 */
export function sha256VerifiedStream(
  body: ReadableStream<Uint8Array>,
  expectedHex: string,
): ReadableStream<Uint8Array> {
  const h = createHash("sha256");
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctrl) {
        h.update(chunk);
        ctrl.enqueue(chunk);
      },
      flush() {
        const got = h.digest("hex");
        if (got !== expectedHex) {
          throw new S3Error("XAmzContentSHA256Mismatch", {
            fields: { ClientComputedContentSHA256: expectedHex, S3ComputedContentSHA256: got },
          });
        }
      },
    }),
  );
}
