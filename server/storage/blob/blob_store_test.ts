import { createHash } from "node:crypto";
import { assert, assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import { newChecksumHasher, newMd5, newSha256, toHex } from "../objects/hashing.ts";
import { BlobStore, newBlobId, newFileBlobId, newInlineId } from "./blob_store.ts";

/** A stream of `data` cut into irregular chunks (as a network delivers it). */
function chunked(data: Uint8Array, sizes = [1, 4093, 65536, 777, 300_000]): ReadableStream<
  Uint8Array
> {
  let off = 0;
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= data.length) return c.close();
      const n = sizes[i++ % sizes.length];
      c.enqueue(data.slice(off, off + n));
      off += n;
    },
  });
}

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function tmpFiles(store: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(store.tmpDir)) out.push(e.name);
  return out;
}

Deno.test("blob store writes, digests and reads bodies of every size", async (t) => {
  const dir = await Deno.makeTempDir();
  const store = new BlobStore(dir);
  await store.init();
  try {
    // Around the 1 MiB write buffer, where the digests move to a worker thread.
    for (const size of [0, 1, 4096, 1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1, 5_000_017]) {
      await t.step(`${size} bytes`, async () => {
        const data = bytes(size, size + 1);
        const md5 = newMd5();
        const sha = newSha256();
        const crc = newChecksumHasher("CRC32C");
        const staged = await store.write(chunked(data), {
          hashers: [md5, sha, crc],
          expectedSize: size,
        });
        assertEquals(staged.size, size);
        const md5Hex = toHex(md5.digest());
        assertEquals(md5Hex, createHash("md5").update(data).digest("hex"));
        assertEquals(toHex(sha.digest()), createHash("sha256").update(data).digest("hex"));
        const crcAgain = newChecksumHasher("CRC32C");
        crcAgain.update(data);
        assertEquals(toHex(crc.digest()), toHex(crcAgain.digest()));
        // Both read paths: in one call (size known and small) and streamed.
        for (const hint of [size, undefined]) {
          const got = new Uint8Array(
            await new Response(await store.open(staged.id, undefined, hint)).arrayBuffer(),
          );
          assertEquals(got.length, size);
          assertEquals(createHash("md5").update(got).digest("hex"), md5Hex);
        }
        if (size > 10) {
          const part = await new Response(await store.open(staged.id, { start: 3, end: 9 }))
            .arrayBuffer();
          assertEquals(new Uint8Array(part), data.slice(3, 10));
        }
        await store.remove(staged.id);
      });
    }
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("blob store removes the temp file of a failed or short body", async () => {
  const dir = await Deno.makeTempDir();
  const store = new BlobStore(dir);
  await store.init();
  try {
    const before = (await tmpFiles(store)).length;
    const data = bytes(3 * 1024 * 1024, 9);
    const e = await assertRejects(() =>
      store.write(chunked(data), { hashers: [newMd5()], expectedSize: data.length + 1 })
    );
    assertEquals((e as { code?: string }).code, "IncompleteBody");
    const failing = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(data.slice(0, 2 * 1024 * 1024 + 5));
        c.error(new Error("client went away"));
      },
    });
    await assertRejects(() => store.write(failing, { hashers: [newMd5()] }));
    const tooBig = await assertRejects(() =>
      store.write(chunked(data), { hashers: [newMd5()], maxSize: 1024 * 1024 })
    );
    assertEquals((tooBig as { code?: string }).code, "EntityTooLarge");
    // No temp file remains (no partial bodies), and no blob was published.
    const left = await tmpFiles(store);
    assert(left.length <= before, `temp files left: ${left.length}`);
    for await (const _ of store.list()) throw new Error("a failed write left a blob");
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("blob store takes a caller-chosen id", async () => {
  const dir = await Deno.makeTempDir();
  const store = new BlobStore(dir);
  await store.init();
  try {
    const id = "0123456789abcdef0123456789abcdef.1.abc";
    const staged = await store.write(chunked(bytes(2 * 1024 * 1024, 3)), {
      hashers: [newMd5()],
      id,
    });
    assertEquals(staged.id, id);
    assertEquals((await Deno.stat(store.pathOf(id))).size, 2 * 1024 * 1024);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inline ids: blob-id shaped, ordered by time, unique within a millisecond", () => {
  const t = Date.UTC(2026, 10, 21, 12, 0, 0);
  const ids = [
    newInlineId(t),
    newInlineId(t + 1),
    newInlineId(t + 1000),
    newInlineId(t + 86_400_000),
  ];
  for (const id of [...ids, newBlobId()]) assert(/^[0-9a-f]{32}$/.test(id), id);
  assertEquals([...ids].sort(), ids);
  assertEquals(ids[0].slice(0, 12), t.toString(16).padStart(12, "0"));
  const same = new Set(Array.from({ length: 1000 }, () => newInlineId(t)));
  assertEquals(same.size, 1000);
});

Deno.test("file blob ids: one directory per second in turn, random otherwise", () => {
  const t = 256_000 * 7 + 0x3a * 1000;
  const ids = [t, t + 999, t + 1000, t + 0xc5 * 1000 + 500, t + 256_000].map(newFileBlobId);
  assertEquals(ids.map((id) => id.slice(0, 2)), ["3a", "3a", "3b", "ff", "3a"]);
  for (const id of ids) assert(/^[0-9a-f]{32}$/.test(id), id);
  assertEquals(new Set(Array.from({ length: 1000 }, () => newFileBlobId(t))).size, 1000);
});

Deno.test("blob store: writes made together land in one directory", async () => {
  const dir = await Deno.makeTempDir();
  const store = new BlobStore(dir, { fsync: false });
  await store.init();
  try {
    const before = Date.now();
    const staged = await Promise.all(
      Array.from({ length: 8 }, () => store.write(chunked(bytes(100, 1)), { hashers: [] })),
    );
    const after = Date.now();
    // Each in the directory of a second the writes spanned (one or two, almost always).
    const allowed = new Set<string>();
    for (let t = before; t <= after + 1000; t += 1000) allowed.add(newFileBlobId(t).slice(0, 2));
    for (const s of staged) {
      assert(allowed.has(s.id.slice(0, 2)), `${s.id} not in ${[...allowed]}`);
    }
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
