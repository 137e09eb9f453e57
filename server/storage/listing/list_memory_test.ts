import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { listObjects } from "./listing.ts";
import { ListMemory } from "./list_memory.ts";
import type { BucketRecord, ListObjectsInput } from "../types.ts";
import { S3Error } from "../../s3/errors.ts";
import {
  listInput,
  putText,
  quiet,
  type Storage,
  TRICKY_KEYS,
  withStorage,
} from "../../../tests/_helpers/storage.ts";

type Opened = Storage;

/** A fresh storage with bucket `listmem`, counting the KV list calls made from the start of `fn`. */
function withBucket(
  fn: (s: Opened, b: BucketRecord, counter: { list: number }) => Promise<void>,
  listCacheEntries?: number,
) {
  return withStorage("maxiofs-listmem-", async (s) => {
    const counter = s.core.meta.reads;
    const b = await s.backend.createBucket({
      ns: "",
      name: "listmem",
      ownerId: "o",
      region: "us-east-1",
    });
    await fn(s, b, counter);
  }, { listCacheEntries });
}

const put = putText;

const names = async (s: Opened, b: BucketRecord, i: Partial<ListObjectsInput> = {}) =>
  (await s.backend.listObjects(b, listInput(i))).objects.map((o) => `${o.key}:${o.size}`);

Deno.test("listing copy: loaded on first LIST, then kept up to date without KV reads", async () => {
  await withBucket(async (s, b, counter) => {
    await put(s, b, "p/1", "x");
    await put(s, b, "p/2", "yy");
    assertEquals(await names(s, b, { prefix: "p/" }), ["p/1:1", "p/2:2"]);
    await s.core.meta.listMemory.idle();
    assert(s.core.meta.listMemory.has(b.id), "the first LIST loads the copy");
    const before = counter.list;
    await put(s, b, "p/3", "zzz");
    await put(s, b, "p/1", "xxxx");
    await s.backend.deleteObject(b, "p/2");
    assertEquals(await names(s, b, { prefix: "p/" }), ["p/1:4", "p/3:3"]);
    assertEquals(await names(s, b, { prefix: "p/", maxKeys: 1 }), ["p/1:4"]);
    assertEquals(counter.list, before, "listed from memory");
    const page = await s.backend.listObjects(b, listInput());
    assert(Object.isFrozen(page.objects[0]), "shared entries cannot be changed by a caller");
  });
});

Deno.test("listing copy answers every page exactly as KV does", async () => {
  await withBucket(async (s, b) => {
    const keys = [...TRICKY_KEYS];
    for (let i = 0; i < 40; i++) keys.push(`many/${String(i).padStart(3, "0")}`);
    for (const k of keys) await put(s, b, k, k);
    await names(s, b);
    await s.core.meta.listMemory.idle();
    assert(s.core.meta.listMemory.has(b.id));
    let compared = 0;
    for (const prefix of ["", "a", "a/", "dir/", "many/", "z", "nope", "é"]) {
      for (const delimiter of ["", "/", "//", "x"]) {
        for (const after of ["", "a/b", "dir/x/", "many/010", "\u{e000}", "zz"]) {
          for (const maxKeys of [0, 1, 3, 1000]) {
            const i = listInput({ prefix, delimiter, after, maxKeys });
            const { stamp, ...fromMemory } = await s.backend.listObjects(b, i);
            const fromKv = await listObjects(s.core, b.id, i);
            assertEquals(
              JSON.stringify(fromMemory),
              JSON.stringify(fromKv),
              JSON.stringify(i),
            );
            assert(stamp !== undefined, "a page from the copy names its state");
            compared++;
          }
        }
      }
    }
    assert(compared > 700);
  });
});

Deno.test("listing copy: writes during the load are not lost; 0 disables the copy", async () => {
  await withBucket(async (s, b) => {
    for (let i = 0; i < 300; i++) await put(s, b, `k${i}`, "v");
    const mem = s.core.meta.listMemory;
    const loading = mem.load(b.id);
    // Changes that commit while the scan runs (before and after its position).
    await Promise.all([
      put(s, b, "k0", "changed"),
      put(s, b, "zz-new", "v"),
      s.backend.deleteObject(b, "k150"),
      put(s, b, "a-new", "v"),
    ]);
    await loading;
    assert(mem.has(b.id));
    const { stamp: _, ...fromMemory } = await s.backend.listObjects(b, listInput());
    assertEquals(
      JSON.stringify(fromMemory),
      JSON.stringify(await listObjects(s.core, b.id, listInput())),
    );
  });
  await withBucket(async (s, b, counter) => {
    await put(s, b, "k", "v");
    await names(s, b);
    await s.core.meta.listMemory.idle();
    assert(!s.core.meta.listMemory.has(b.id));
    const before = counter.list;
    assertEquals(await names(s, b), ["k:1"]);
    assert(counter.list > before, "listed from KV");
  }, 0);
});

Deno.test("listing copy: changes committed mid-scan are replayed; an unknown outcome aborts", async () => {
  const enc = new TextEncoder();
  const entry = (size: number) => enc.encode(JSON.stringify([1, size, '"e"', 0, "STANDARD", "o"]));
  // A KV whose scan stops after two entries until `release` is called.
  const fakeKv = (gate: Promise<void>, reached: () => void) =>
    ({
      get: () => Promise.resolve({ key: [], value: new Deno.KvU64(4n), versionstamp: "1" }),
      list: async function* () {
        for (const [i, k] of ["b", "d", "f", "h"].entries()) {
          if (i === 2) {
            reached();
            await gate;
          }
          yield { key: ["objl", "B", k], value: entry(1), versionstamp: "1" };
        }
      },
    }) as unknown as Deno.Kv;
  const listed = { key: "", size: 2, etag: '"e"', lastModified: 0, storageClass: "STANDARD" };

  let release!: () => void;
  let reached!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const atGate = new Promise<void>((r) => reached = r);
  const mem = new ListMemory(fakeKv(gate, reached), quiet);
  const loading = mem.load("B");
  await atGate;
  // Scanned already (b, d) and still ahead (f, h): new keys, a change and deletes.
  mem.committed("B", [
    { key: "a", entry: { ...listed, key: "a", ownerId: "o" } },
    { key: "d", entry: null },
    { key: "g", entry: { ...listed, key: "g", ownerId: "o" } },
    { key: "h", entry: null },
    { key: "b", entry: { ...listed, key: "b", ownerId: "o", size: 9 } },
  ]);
  release();
  await loading;
  const page = await mem.list("B", listInput());
  assertEquals(page?.objects.map((o) => `${o.key}:${o.size}`), ["a:2", "b:9", "f:1", "g:2"]);
  assertEquals(mem.entries, 4);

  let release2!: () => void;
  let reached2!: () => void;
  const gate2 = new Promise<void>((r) => release2 = r);
  const atGate2 = new Promise<void>((r) => reached2 = r);
  const mem2 = new ListMemory(fakeKv(gate2, reached2), quiet);
  const loading2 = mem2.load("B");
  await atGate2;
  mem2.drop("B"); // a commit threw: its outcome is unknown
  release2();
  await loading2;
  assert(!mem2.has("B"), "a load that saw an unknown outcome is discarded");
});

Deno.test("listing copy: a write the quota refuses keeps the copy", async () => {
  await withStorage("maxiofs-listmem-", async (s) => {
    const b = await s.backend.createBucket({ ns: "t", name: "quota", ownerId: "o", region: "r" });
    await put(s, b, "k", "v");
    await names(s, b);
    await s.core.meta.listMemory.idle();
    assert(s.core.meta.listMemory.has(b.id));
    const refused = await put(s, b, "big", "x".repeat(200)).catch((e) => e);
    assertEquals((refused as S3Error).code, "QuotaExceeded");
    assert(s.core.meta.listMemory.has(b.id), "nothing was committed: the copy stays");
    assertEquals(await names(s, b), ["k:1"]);
  }, { quota: { limitsOf: (ns) => ns === "t" ? { maxBytes: 100, maxBuckets: null } : null } });
});

Deno.test("listing copy: each state has its own stamp; pages from KV have none", async () => {
  await withBucket(async (s, b) => {
    const mem = s.core.meta.listMemory;
    await put(s, b, "k1", "x");
    assertEquals(s.backend.listingStamp(b), null, "not listed yet: no copy");
    const fromKv = await s.backend.listObjects(b, listInput());
    assertEquals(fromKv.stamp, undefined, "the first LIST reads KV");
    await mem.idle();
    const first = s.backend.listingStamp(b);
    assert(first !== null, "the copy is loaded");
    const page = await s.backend.listObjects(b, listInput());
    assertEquals(page.stamp, first);
    assertEquals((await s.backend.listObjects(b, listInput({ prefix: "k" }))).stamp, first);
    const seen = new Set([first]);
    const changes: [string, () => Promise<unknown>][] = [
      ["a new key", () => put(s, b, "k2", "y")],
      ["an overwrite of the same size", () => put(s, b, "k1", "z")],
      ["a delete", () => s.backend.deleteObject(b, "k2")],
    ];
    for (const [what, change] of changes) {
      await change();
      const stamp = s.backend.listingStamp(b);
      assert(stamp !== null && !seen.has(stamp), `${what} gives a new stamp`);
      seen.add(stamp);
      assertEquals((await s.backend.listObjects(b, listInput())).stamp, stamp);
    }
    // A copy dropped and loaded again never repeats a stamp it had before.
    mem.drop(b.id);
    assertEquals(s.backend.listingStamp(b), null);
    assertEquals((await s.backend.listObjects(b, listInput())).stamp, undefined);
    await mem.idle();
    const reloaded = s.backend.listingStamp(b);
    assert(reloaded !== null && !seen.has(reloaded), "a reloaded copy has a stamp of its own");
  });
});

Deno.test("listing copy: a page read while a commit is applied has no stamp", async () => {
  await withBucket(async (s, b) => {
    const mem = s.core.meta.listMemory;
    await put(s, b, "a", "x");
    await s.backend.listObjects(b, listInput());
    await mem.idle();
    const listed = {
      size: 1,
      etag: '"e"',
      lastModified: 0,
      storageClass: "STANDARD",
      ownerId: "o",
    };
    // The walk reads its first batch at once, then awaits: the commit lands in between.
    const reading = s.backend.listObjects(b, listInput());
    mem.committed(b.id, [{ key: "b", entry: { ...listed, key: "b" } }]);
    const page = await reading;
    assertEquals(page.stamp, undefined, "the page may mix two states");
    assertEquals((await s.backend.listObjects(b, listInput())).stamp, s.backend.listingStamp(b));
  });
});
