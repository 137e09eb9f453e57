/**
 * Encrypted objects written through storage, for tests of what happens to them later (rotation,
 * recovery): the S3 headers that ask for encryption are tested elsewhere; this is the bytes path.
 */
import type { ServerApp } from "../../server/app.ts";
import type { BucketRecord, VersioningState } from "../../server/storage/types.ts";

const enc = new TextEncoder();

/** A stream of `text`'s UTF-8 bytes. */
export function textBody(text: string): ReadableStream<Uint8Array> {
  return new Blob([enc.encode(text)]).stream();
}

/** A bucket of the global namespace owned by root. */
export async function rootBucket(
  app: ServerApp,
  name: string,
  versioning?: VersioningState,
): Promise<BucketRecord> {
  const be = app.storage.backend;
  const b = await be.createBucket({ ns: "", name, ownerId: "root", region: "us-east-1" });
  return versioning ? await be.updateBucket(b, (x) => ({ ...x, versioning })) : b;
}

/** An SSE-S3 PUT of `text`. */
export async function putSse(app: ServerApp, b: BucketRecord, key: string, text: string) {
  return await app.storage.backend.putObject(b, {
    key,
    body: textBody(text),
    contentLength: enc.encode(text).length,
    content: {},
    meta: {},
    ownerId: "root",
    sse: { mode: "AES256" },
  });
}
