import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { HOT_BLOB_MAX, HotBlobCache, hotEntryBytes } from "./hot_cache.ts";
import { BlobStore } from "./blob_store.ts";
import { newMd5 } from "../objects/hashing.ts";

const filled = (n: number, v: number) => new Uint8Array(n).fill(v);

Deno.test("hot blob cache drops the least recently used entries past its capacity", () => {
  const one = hotEntryBytes("a", 1024);
  const c = new HotBlobCache(3 * one);
  c.set("a", filled(1024, 1));
  c.set("b", filled(1024, 2));
  c.set("c", filled(1024, 3));
  assertEquals(c.size, 3);
  assertEquals(c.get("a")?.[0], 1); // a is now the most recently used
  c.set("d", filled(1024, 4));
  assertEquals(c.get("b"), undefined);
  assertEquals([c.get("a")?.[0], c.get("c")?.[0], c.get("d")?.[0]], [1, 3, 4]);
  assert(c.bytes <= c.capacity);
  c.delete("a");
  assertEquals(c.get("a"), undefined);
  assertEquals(c.bytes, 2 * one);
  // Too large for an entry, or for the whole cache: not kept.
  c.set("big", filled(HOT_BLOB_MAX + 1, 5));
  assertEquals(c.get("big"), undefined);
  const off = new HotBlobCache(0);
  off.set("x", filled(1, 1));
  off.set("empty", new Uint8Array(0));
  assertEquals([off.size, off.bytes], [0, 0]);
});

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

Deno.test("blob store serves small blobs from the hot cache, ranges included", async () => {
  const dir = await Deno.makeTempDir();
  const store = new BlobStore(dir, { fsync: false, hotCacheBytes: 1 << 20 });
  await store.init();
  try {
    const data = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
    const body = new Response(data).body!;
    const w = await store.write(body, { hashers: [newMd5()], expectedSize: data.length });
    assert(store.hot.get(w.id), "a small write is kept");
    // The file is gone, so these reads can only have come from memory.
    await Deno.remove(store.pathOf(w.id));
    assertEquals(await readAll(await store.open(w.id, undefined, data.length)), data);
    const part = await readAll(await store.open(w.id, { start: 10, end: 4009 }, data.length));
    assertEquals(part, data.subarray(10, 4010));
    await store.remove(w.id, data.length);
    assertEquals(store.hot.get(w.id), undefined, "removal drops the entry");

    // A body of unknown length lands in a 1 MiB buffer: the entry must be a copy of its bytes.
    const w2 = await store.write(new Response(data.slice(0, 100)).body!, { hashers: [] });
    const kept = store.hot.get(w2.id)!;
    assertEquals(kept.buffer.byteLength, 100);
    // A read of a blob not kept (cache cleared) fills it from the file.
    store.hot.clear();
    assertEquals(await readAll(await store.open(w2.id, undefined, 100)), data.slice(0, 100));
    assert(store.hot.get(w2.id));
    // Without a budget nothing is kept.
    const plain = new BlobStore(`${dir}/plain`, { fsync: false });
    await plain.init();
    const w3 = await plain.write(new Response(data).body!, { hashers: [] });
    assertEquals(plain.hot.get(w3.id), undefined);
    plain.close();
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
