/**
 * The orphan sweep never removes a blob that a request has just staged: a blob's age counts from
 * when it was moved into place, not from when its temp file was created (the blob store keeps
 * spare temp files, and an empty body never writes to the one it takes).
 */
import { assertEquals } from "./_helpers/assert.ts";
import { openStorage } from "../server/storage/backend.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const SIX_HOURS = 6 * 3600 * 1000;

Deno.test("sweep keeps a just-staged empty blob whose spare temp file is old", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-review-sweep-" });
  const storage = await openStorage({ dataDir, log: quiet });
  try {
    const blobs = storage.core.blobs;
    // Let the spare temp files appear, then age them as if the server had been idle for a day.
    await blobs.write(new ReadableStream({ start: (c) => c.close() }), { hashers: [] });
    await new Promise((r) => setTimeout(r, 200));
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

Deno.test("with fsync, blobs in new and existing directories are staged and readable", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-review-fsync-" });
  const storage = await openStorage({ dataDir, log: quiet, fsync: true });
  try {
    const blobs = storage.core.blobs;
    for (let i = 0; i < 3; i++) {
      const data = new TextEncoder().encode(`blob ${i}`);
      const staged = await blobs.write(
        new ReadableStream({ start: (c) => (c.enqueue(data), c.close()) }),
        {
          hashers: [],
          expectedSize: data.length,
          // Two in the same directory, one in a directory that does not exist yet.
          id: i < 2 ? `ab${i}review` : `cd${i}review`,
        },
      );
      assertEquals(await Deno.readFile(blobs.pathOf(staged.id)), data);
    }
  } finally {
    await storage.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
