/**
 * The orphan sweep never removes a blob that a request has just staged: a blob's age counts from
 * when it was moved into place, not from when its temp file was created (the blob store keeps
 * spare temp files, and an empty body never writes to the one it takes).
 */
import { assertEquals } from "./_helpers/assert.ts";
import { openStorage } from "../server/storage/backend.ts";
import { quiet } from "./_helpers/storage.ts";

const SIX_HOURS = 6 * 3600 * 1000;
/** How many spare temp files the blob store keeps ready (SPARE_TEMP_FILES in blob_store.ts). */
const SPARES = 16;

/**
 * Waits (bounded) until the store's background refill has created all its spare temp files:
 * the test ages them, and a spare created after that would be young.
 */
async function spareTempFiles(tmpDir: string): Promise<void> {
  let n = 0;
  for (let i = 0; i < 500; i++) {
    n = 0;
    for await (const _ of Deno.readDir(tmpDir)) n++;
    if (n >= SPARES) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the blob store created ${n} of ${SPARES} spare temp files in 5 s`);
}

Deno.test("sweep keeps a just-staged empty blob whose spare temp file is old", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-blob-sweep-" });
  const storage = await openStorage({ dataDir, log: quiet });
  try {
    const blobs = storage.core.blobs;
    // Let the spare temp files appear, then age them as if the server had been idle for a day.
    await blobs.write(new ReadableStream({ start: (c) => c.close() }), { hashers: [] });
    await spareTempFiles(blobs.tmpDir);
    const dayAgo = new Date(Date.now() - 24 * 3600 * 1000);
    for await (const f of Deno.readDir(blobs.tmpDir)) {
      await Deno.utime(`${blobs.tmpDir}/${f.name}`, dayAgo, dayAgo);
    }
    // An empty PUT stages its blob (not yet published) ...
    const staged = await blobs.write(new ReadableStream({ start: (c) => c.close() }), {
      hashers: [],
      expectedSize: 0,
    });
    // ... and the periodic sweep runs before the publish commit.
    await storage.backend.sweep(SIX_HOURS);
    const exists = await Deno.stat(blobs.pathOf(staged.id)).then(() => true, () => false);
    assertEquals(exists, true, "the sweep removed a blob staged a moment ago");
  } finally {
    await storage.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
