/**
 * `deno task admin -- kv space | kv compact`: offline on a stopped server's data dir (refused
 * while the dir is in use), the free pages go back to the file system and every object stays.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { cli } from "./_helpers/admin_cli.ts";
import { quiet } from "./_helpers/storage.ts";
import { openStorage } from "../server/storage/mod.ts";
import type { KvFileSpace } from "../server/storage/mod.ts";

const body = (i: number) => new Uint8Array(4096).fill(i % 251);

Deno.test("admin CLI kv compact returns free pages and keeps every object", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-kv-cli-" });
  try {
    let s = await openStorage({ dataDir, log: quiet });
    let b = await s.backend.createBucket({ ns: "", name: "compact", ownerId: "o", region: "r" });
    const put = (i: number) =>
      s.backend.putObject(b, {
        key: `k${i}`,
        body: new Response(body(i)).body!,
        contentLength: 4096,
        content: {},
        meta: {},
        ownerId: "o",
      });
    for (let i = 0; i < 600; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => put(i + j)));
    }
    for (let i = 0; i < 600; i++) if (i % 3) await s.backend.deleteObject(b, `k${i}`);

    // Refused while the data dir is in use.
    const busy = await cli("kv", "compact", "--data-dir", dataDir);
    assertEquals(busy.code, 1, busy.stderr);
    await s.close();

    const space = await cli("kv", "space", "--data-dir", dataDir);
    assertEquals(space.code, 0, space.stderr);
    const free = (space.json as KvFileSpace).freePages;
    assert(free > 300, `expected free pages after the deletes, got ${free}`);
    const r = await cli("kv", "compact", "--data-dir", dataDir);
    assertEquals(r.code, 0, r.stderr);
    const { before, after } = r.json as { before: KvFileSpace; after: KvFileSpace };
    assertEquals([before.freePages, after.freePages], [free, 0]);
    assert(after.diskBytes <= before.diskBytes - free * before.pageSize, JSON.stringify(r.json));

    s = await openStorage({ dataDir, log: quiet });
    b = await s.backend.getBucket("", "compact");
    for (let i = 0; i < 600; i += 3) {
      const rec = await s.backend.getObjectRecord(b, `k${i}`);
      const got = new Uint8Array(await new Response(await s.backend.openObject(rec)).arrayBuffer());
      assertEquals(got, body(i));
    }
    assertEquals(await s.backend.bucketStats(b.id), { objects: 200, bytes: 200 * 4096 });
    await s.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
