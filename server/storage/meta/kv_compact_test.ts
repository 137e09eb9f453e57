import { assert, assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import { compactKvFile, kvFileSpace } from "./kv_compact.ts";

/** A KV file with `n` entries of 2 KiB, then every other one deleted. */
async function fragmented(path: string, n: number): Promise<void> {
  const kv = await Deno.openKv(path);
  try {
    const value = new Uint8Array(2048).fill(7);
    for (let i = 0; i < n; i += 50) {
      const op = kv.atomic();
      for (let j = i; j < Math.min(n, i + 50); j++) op.set(["e", j], value);
      await op.commit();
    }
    for (let i = 0; i < n; i += 100) {
      const op = kv.atomic();
      for (let j = i; j < Math.min(n, i + 100); j += 2) op.delete(["e", j]);
      await op.commit();
    }
  } finally {
    kv.close();
  }
}

async function entries(path: string): Promise<number[]> {
  const kv = await Deno.openKv(path);
  try {
    const out: number[] = [];
    for await (const e of kv.list<Uint8Array>({ prefix: ["e"] })) {
      assertEquals(e.value.length, 2048);
      out.push(e.key[1] as number);
    }
    return out;
  } finally {
    kv.close();
  }
}

Deno.test("compaction returns free pages to the file system and keeps every entry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-compact-" });
  const path = `${dir}/kv.sqlite3`;
  try {
    await fragmented(path, 2000);
    const space = await kvFileSpace(path);
    assert(space.freePages > 500, `expected free pages, got ${space.freePages}`);
    const r = await compactKvFile(path);
    assertEquals(r.before.freePages, space.freePages);
    assertEquals(r.after.freePages, 0);
    assertEquals(r.after.pageSize, 4096);
    assert(r.after.diskBytes < r.before.diskBytes * 0.7, JSON.stringify(r));
    const odd = Array.from({ length: 1000 }, (_, i) => 2 * i + 1);
    assertEquals(await entries(path), odd);
    // Deno KV writes to the compacted file as before.
    const kv = await Deno.openKv(path);
    await kv.set(["e", 0], new Uint8Array(2048));
    kv.close();
    assertEquals((await entries(path)).length, 1001);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["kv.sqlite3"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compaction can change the page size, and refuses sizes SQLite has not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-compact-" });
  const path = `${dir}/kv.sqlite3`;
  try {
    await fragmented(path, 400);
    await assertRejects(() => compactKvFile(path, { pageSize: 5000 }));
    const r = await compactKvFile(path, { pageSize: 8192 });
    assertEquals([r.before.pageSize, r.after.pageSize], [4096, 8192]);
    assertEquals(await entries(path), Array.from({ length: 200 }, (_, i) => 2 * i + 1));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
