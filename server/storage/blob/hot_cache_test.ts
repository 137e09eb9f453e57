import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { HOT_BLOB_MAX, HotBlobCache } from "./hot_cache.ts";
import { segmentBytes } from "../meta/byte_ring.ts";
import { BlobStore } from "./blob_store.ts";
import { newMd5 } from "../objects/hashing.ts";

const filled = (n: number, v: number) => new Uint8Array(n).fill(v);

Deno.test("hot blob cache drops the oldest segment first and gives read entries a second chance", () => {
  // 1 MiB budget: 64 KiB segments of 16 entries of 4 KiB; 15 segments fit beside the overheads.
  const c = new HotBlobCache(1 << 20);
  const seg = segmentBytes(1 << 20, HOT_BLOB_MAX);
  assertEquals(seg, 64 * 1024);
  const n = 16 * 16;
  for (let i = 0; i < n; i++) c.set(`k${i}`, filled(4096, i % 251));
  assert(c.bytes <= c.capacity, `${c.bytes} > ${c.capacity}`);
  assertEquals(c.get(`k${n - 1}`)?.[0], (n - 1) % 251);
  assertEquals(c.get("k0"), undefined, "the oldest segment went first");
  // An entry read before its segment is dropped survives one eviction.
  const oldest = [...Array(n).keys()].find((i) => c.get(`k${i}`) !== undefined)!;
  for (let i = n; i < n + 16; i++) c.set(`k${i}`, filled(4096, 7));
  assertEquals(c.get(`k${oldest}`)?.[0], oldest % 251, "copied forward");
  assertEquals(c.get(`k${oldest + 1}`), undefined, "not read: dropped");
  assert(c.bytes <= c.capacity);
  // Readers get a copy: it stays valid whatever the cache does next.
  const view = c.get(`k${n - 1}`)!;
  c.delete(`k${n - 1}`);
  assertEquals(c.get(`k${n - 1}`), undefined);
  assertEquals(view[4095], (n - 1) % 251);
  // The cache copies: the caller's buffer may change afterwards.
  const mine = filled(10, 1);
  c.set("mine", mine);
  mine[0] = 9;
  assertEquals(c.get("mine")?.[0], 1);
  // Too large for an entry, or for the whole cache: not kept.
  c.set("big", filled(HOT_BLOB_MAX + 1, 5));
  assertEquals(c.get("big"), undefined);
  const off = new HotBlobCache(0);
  off.set("x", filled(1, 1));
  off.set("empty", new Uint8Array(0));
  assertEquals([off.size, off.bytes], [0, 0]);
  c.clear();
  assertEquals([c.size, c.bytes], [0, 0]);
});

Deno.test("hot blob cache stays within its budget when every entry is read", () => {
  const c = new HotBlobCache(1 << 20);
  for (let i = 0; i < 2000; i++) {
    c.set(`k${i}`, filled(1000 + (i % 7) * 500, 1));
    for (let j = Math.max(0, i - 300); j <= i; j += 3) c.get(`k${j}`);
    assert(c.bytes <= c.capacity, `${c.bytes} after ${i}`);
  }
  assert(c.size > 100, `${c.size}`);
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
    assertEquals(kept.byteLength, 100);
    assertEquals(kept.buffer.byteLength, 100, "a copy, not the write buffer");
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
