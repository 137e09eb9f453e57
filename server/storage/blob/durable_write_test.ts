import { assert, assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import { newMd5 } from "../objects/hashing.ts";
import { BlobStore } from "./blob_store.ts";
import { type DiskSync, osDiskSync } from "./disk_sync.ts";

/** One sync the store asked for, with what the disk looked like when it did. */
interface SyncEvent {
  kind: "file" | "dir";
  path: string;
  /** file: the size of the open file; dir: the entries (names) in it. */
  size?: number;
  entries?: string[];
}

/** The real syncs, recorded (the store takes it through its options). */
function recording(before?: (e: SyncEvent) => Promise<void> | void) {
  const events: SyncEvent[] = [];
  const disk: DiskSync = {
    async file(file, path) {
      const e: SyncEvent = { kind: "file", path, size: (await file.stat()).size };
      events.push(e);
      await before?.(e);
      await osDiskSync.file(file, path);
    },
    async dir(path) {
      const entries: string[] = [];
      for await (const d of Deno.readDir(path)) entries.push(d.name);
      const e: SyncEvent = { kind: "dir", path, entries };
      events.push(e);
      await before?.(e);
      await osDiskSync.dir(path);
    },
  };
  return { events, disk };
}

const body = (n: number) => new Blob([new Uint8Array(n).fill(7)]).stream();

async function withStore(
  opts: ConstructorParameters<typeof BlobStore>[1],
  fn: (store: BlobStore) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const store = new BlobStore(dir, opts);
  await store.init();
  try {
    await fn(store);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("durable write: file bytes and directory entry are synced before write returns", async () => {
  const rec = recording();
  await withStore({ disk: rec.disk }, async (store) => {
    // init made objects/ durable.
    assertEquals(rec.events.map((e) => [e.kind, e.path]), [["dir", store.dataDir]]);
    const seen = new Set<string>();
    for (const size of [4096, 3 * 1024 * 1024 + 5]) {
      rec.events.length = 0;
      const staged = await store.write(body(size), { hashers: [newMd5()], expectedSize: size });
      const dest = store.pathOf(staged.id);
      const dir = dest.slice(0, dest.lastIndexOf("/"));
      const name = dest.slice(dir.length + 1);
      // All of the file's bytes, synced under the name the commit will publish.
      const file = rec.events.filter((e) => e.kind === "file");
      assertEquals(file.map((e) => [e.path, e.size]), [[dest, size]]);
      // Its directory, synced after the rename put the name in it.
      const dirs = rec.events.filter((e) => e.kind === "dir" && e.path === dir);
      assertEquals(dirs.length, 1);
      assert(dirs[0].entries!.includes(name), "the directory was synced before the rename");
      // A directory this store had not synced yet: objects/ too, after it held the directory.
      const parent = rec.events.find((e) => e.kind === "dir" && e.path === store.objectsDir);
      if (seen.has(dir)) assertEquals(parent, undefined);
      else {assert(
          parent?.entries?.includes(dir.slice(dir.lastIndexOf("/") + 1)),
          "objects/ synced",
        );}
      seen.add(dir);
    }
    // A second write into a directory already known on the disk syncs only that directory.
    rec.events.length = 0;
    await store.write(body(10), { hashers: [], id: "ab-one", expectedSize: 10 });
    rec.events.length = 0;
    await store.write(body(10), { hashers: [], id: "ab-two", expectedSize: 10 });
    // (Both are made at once: their order in the record is not fixed.)
    assertEquals(rec.events.map((e) => `${e.kind} ${e.path}`).sort(), [
      `dir ${store.objectsDir}/ab`,
      `file ${store.pathOf("ab-two")}`,
    ]);
  });
});

Deno.test("durable write: concurrent writes into one directory share its sync", async () => {
  const N = 8;
  const gate = Promise.withResolvers<void>();
  let files = 0;
  let gated = false;
  const rec = recording(async (e) => {
    // All N files renamed and waiting before the first directory sync may finish.
    if (e.kind === "file" && ++files === N) gate.resolve();
    if (e.kind === "dir" && e.path.endsWith("/ab") && !gated) {
      gated = true;
      await gate.promise;
    }
  });
  await withStore({ disk: rec.disk }, async (store) => {
    const ids = Array.from({ length: N }, (_, i) => `ab${i}`);
    await Promise.all(
      ids.map((id) => store.write(body(4096), { hashers: [], id, expectedSize: 4096 })),
    );
    const abSyncs = rec.events.filter((e) => e.kind === "dir" && e.path.endsWith("/ab"));
    // The first write's own sync, then one shared by the seven that renamed while it ran.
    assertEquals(abSyncs.length, 2);
    assertEquals(abSyncs[1].entries!.sort(), ids);
    assertEquals(rec.events.filter((e) => e.kind === "file").length, N);
  });
});

Deno.test("durable write: a failed sync fails the write and leaves no blob", async () => {
  const disk: DiskSync = {
    file: () => Promise.reject(new Error("EIO")),
    dir: osDiskSync.dir,
  };
  await withStore({ disk }, async (store) => {
    await assertRejects(() => store.write(body(4096), { hashers: [], expectedSize: 4096 }));
    for await (const _ of store.listIds()) throw new Error("a write whose sync failed left a blob");
  });
});

Deno.test("fsync off: no syncs at all", async () => {
  const rec = recording();
  await withStore({ fsync: false, disk: rec.disk }, async (store) => {
    await store.write(body(4096), { hashers: [], expectedSize: 4096 });
    await store.write(body(2 * 1024 * 1024), { hashers: [newMd5()] });
    assertEquals(rec.events, []);
  });
});
