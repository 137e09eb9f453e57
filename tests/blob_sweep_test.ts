/**
 * The orphan sweep never removes a blob that a request has just staged: a blob's age counts from
 * the last change of its file or of its name (a rename into `objects/` sets the status-change
 * time), not from its modification time alone, which can lie far back (an empty body never
 * writes to its temp file; a copied or restored file keeps its old time).
 */
import { assertEquals } from "./_helpers/assert.ts";
import { openStorage } from "../server/storage/backend.ts";
import { quiet } from "./_helpers/storage.ts";

const SIX_HOURS = 6 * 3600 * 1000;

Deno.test("sweep keeps a just-staged blob whose modification time is a day old", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-blob-sweep-" });
  const storage = await openStorage({ dataDir, log: quiet });
  try {
    const blobs = storage.core.blobs;
    // An empty PUT stages its blob (not yet published) ...
    const staged = await blobs.write(new ReadableStream({ start: (c) => c.close() }), {
      hashers: [],
      expectedSize: 0,
    });
    // ... whose file says it was last modified a day ago ...
    const dayAgo = new Date(Date.now() - 24 * 3600 * 1000);
    await Deno.utime(blobs.pathOf(staged.id), dayAgo, dayAgo);
    // ... and the periodic sweep runs before the publish commit.
    await storage.backend.sweep(SIX_HOURS);
    const exists = await Deno.stat(blobs.pathOf(staged.id)).then(() => true, () => false);
    assertEquals(exists, true, "the sweep removed a blob staged a moment ago");
  } finally {
    await storage.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
