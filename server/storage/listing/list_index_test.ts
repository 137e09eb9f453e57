import assert from "node:assert/strict";
import { openStorage } from "../backend.ts";
import { listInput, putText, quiet } from "../../../tests/_helpers/storage.ts";
import { decodeListEntry, LIST_INDEX_META, listEntry } from "./list_index.ts";
import { objectListKey } from "../meta/keys.ts";
import type { BucketRecord, ObjectRecord } from "../types.ts";

type Opened = Awaited<ReturnType<typeof openStorage>>;

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-objl-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const put = putText;

/** Every `obj` entry has the listing entry it implies, and no listing entry is left over. */
async function assertIndexInSync(s: Opened) {
  const kv = s.core.meta.reader;
  const objs = new Map<string, ObjectRecord>();
  for await (const e of kv.list<ObjectRecord>({ prefix: ["obj"] })) {
    objs.set(JSON.stringify([e.key[1], e.key[2]]), e.value);
  }
  const listed = new Map<string, Uint8Array>();
  for await (const e of kv.list<Uint8Array>({ prefix: ["objl"] })) {
    listed.set(JSON.stringify([e.key[1], e.key[2]]), e.value);
  }
  assert.deepEqual([...listed.keys()].sort(), [...objs.keys()].sort());
  for (const [id, rec] of objs) {
    assert.deepEqual(
      decodeListEntry(rec.key, listed.get(id)!),
      decodeListEntry(rec.key, listEntry(rec)),
    );
  }
}

const page = (s: Opened, b: BucketRecord) => s.backend.listObjects(b, listInput());

Deno.test("listing index follows puts, overwrites, markers, version deletes and tags", async () => {
  await withDir(async (dir) => {
    const s = await openStorage({ dataDir: dir, log: quiet });
    try {
      const be = s.backend;
      let b = await be.createBucket({ ns: "", name: "objl-a", ownerId: "o", region: "us-east-1" });
      await put(s, b, "a", "1");
      await put(s, b, "a", "22");
      await put(s, b, "b", "333");
      await assertIndexInSync(s);
      assert.deepEqual((await page(s, b)).objects.map((o) => [o.key, o.size]), [["a", 2], [
        "b",
        3,
      ]]);
      await be.deleteObject(b, "b");
      await assertIndexInSync(s);
      assert.deepEqual((await page(s, b)).objects.map((o) => o.key), ["a"]);

      b = await be.updateBucket(b, (x) => ({ ...x, versioning: "Enabled" }));
      const v1 = await put(s, b, "a", "four");
      const v2 = await put(s, b, "a", "fiver");
      await assertIndexInSync(s);
      // Tags change the record in place; the listing entry stays equal to the record's.
      await be.updateObjectVersion(b, "a", null, (r) => ({ ...r, tags: { t: "1" } }));
      await assertIndexInSync(s);
      // A marker hides the key; removing it brings the previous version back.
      const m = await be.deleteObject(b, "a");
      await assertIndexInSync(s);
      assert.equal((await page(s, b)).objects.length, 0);
      await be.deleteObject(b, "a", { versionId: m!.versionId });
      await assertIndexInSync(s);
      assert.deepEqual((await page(s, b)).objects.map((o) => o.size), [5]);
      // Deleting the latest version for good promotes the one before it.
      await be.deleteObject(b, "a", { versionId: v2.versionId });
      await assertIndexInSync(s);
      assert.deepEqual((await page(s, b)).objects.map((o) => o.size), [4]);
      await be.deleteObject(b, "a", { versionId: v1.versionId });
      await assertIndexInSync(s);

      b = await be.updateBucket(b, (x) => ({ ...x, versioning: "Suspended" }));
      await put(s, b, "c", "six123");
      await be.deleteObject(b, "c");
      await assertIndexInSync(s);
      assert.deepEqual((await page(s, b)).objects.map((o) => o.key), ["a"]);
    } finally {
      await s.close();
    }
  });
});

Deno.test("listing index is built at start for data written before it existed", async () => {
  await withDir(async (dir) => {
    let s = await openStorage({ dataDir: dir, log: quiet });
    const b = await s.backend.createBucket({
      ns: "",
      name: "objl-b",
      ownerId: "o",
      region: "us-east-1",
    });
    for (let i = 0; i < 450; i++) await put(s, b, `k/${String(i).padStart(3, "0")}`, "x".repeat(i));
    // Simulate an older data dir: no listing entries, no marker.
    const op = s.core.meta.write().delete(LIST_INDEX_META);
    for (let i = 0; i < 450; i++) op.delete(objectListKey(b.id, `k/${String(i).padStart(3, "0")}`));
    await op.commit();
    assert.equal((await page(s, b)).objects.length, 0);
    await s.close();
    s = await openStorage({ dataDir: dir, log: quiet });
    try {
      await assertIndexInSync(s);
      const p = await page(s, b);
      assert.equal(p.objects.length, 450);
      assert.equal(p.objects[449].size, 449);
      assert.ok((await s.core.meta.get(LIST_INDEX_META)).value);
    } finally {
      await s.close();
    }
  });
});
