/**
 * Staging blobs with fsync on: blobs in new and existing fan-out directories are staged and
 * readable.
 */
import { assertEquals } from "./_helpers/assert.ts";
import { openStorage } from "../server/storage/backend.ts";
import { quiet } from "./_helpers/storage.ts";

Deno.test("with fsync, blobs in new and existing directories are staged and readable", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-blob-fsync-" });
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
          id: i < 2 ? `ab${i}fsync` : `cd${i}fsync`,
        },
      );
      assertEquals(await Deno.readFile(blobs.pathOf(staged.id)), data);
    }
  } finally {
    await storage.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
