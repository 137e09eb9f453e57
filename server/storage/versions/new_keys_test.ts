import assert from "node:assert/strict";
import { openStorage } from "../backend.ts";
import { putText, quiet, storedBlobs, withStorage } from "../../../tests/_helpers/storage.ts";

const put = putText;

Deno.test("guessed-new publishes: overwrites of unseen keys, versioning changes, counters", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-newkeys-" });
  try {
    let s = await openStorage({ dataDir: dir, log: quiet });
    let b = await s.backend.createBucket({ ns: "", name: "guess-a", ownerId: "o", region: "r" });
    for (let i = 0; i < 5; i++) await put(s, b, `k${i}`, "x".repeat(i + 1));
    assert.deepEqual(await s.backend.bucketStats(b.id), { objects: 5, bytes: 15 });
    await s.close();
    // A new process: nothing cached, so overwrites of existing keys are guessed new first.
    s = await openStorage({ dataDir: dir, log: quiet });
    b = await s.backend.getBucket("", "guess-a");
    await put(s, b, "fresh", "abc");
    for (let i = 0; i < 5; i++) await put(s, b, `k${i}`, "yy");
    assert.deepEqual(await s.backend.bucketStats(b.id), { objects: 6, bytes: 13 });
    for (let i = 0; i < 5; i++) assert.equal((await s.backend.getObjectRecord(b, `k${i}`)).size, 2);
    // The replaced blobs were freed: one per object.
    assert.equal((await storedBlobs(s)).length, 6);
    // A wrong guess makes the bucket skip guessing for a while; then new keys are published
    // without reading their state.
    for (let i = 0; i < 16; i++) await put(s, b, `drain${i}`, "");
    const reads = s.core.meta.reads;
    const before = reads.getMany;
    for (let i = 0; i < 10; i++) await put(s, b, `guessed${i}`, "g");
    assert.equal(reads.getMany, before);
    assert.deepEqual(await s.backend.bucketStats(b.id), { objects: 32, bytes: 23 });
    // Versioning enabled after the bucket was remembered: the guess fails its bucket check and
    // the publish keeps the previous version.
    b = await s.backend.updateBucket(b, (x) => ({ ...x, versioning: "Enabled" }));
    const v = await put(s, b, "k0", "zzz");
    assert.notEqual(v.versionId, "null");
    const page = await s.backend.listObjectVersions(b, {
      prefix: "k0",
      delimiter: "",
      keyMarker: "",
      versionIdMarker: "",
      maxKeys: 10,
    });
    assert.deepEqual(page.versions.map((x) => x.rec.size), [3, 2]);
    assert.ok(reads.getMany > before);
    const n = await put(s, b, "new-versioned", "q");
    assert.notEqual(n.versionId, "null");
    assert.deepEqual(await s.backend.bucketStats(b.id), { objects: 34, bytes: 27 });
    await s.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("guessed-new publishes: concurrent writers of one new key leave one version", async () => {
  await withStorage("maxiofs-newkeys-", async (s) => {
    const b = await s.backend.createBucket({ ns: "", name: "guess-b", ownerId: "o", region: "r" });
    await put(s, b, "warm", "w");
    await Promise.all(Array.from({ length: 8 }, (_, i) => put(s, b, "same", "v".repeat(i + 1))));
    const stats = await s.backend.bucketStats(b.id);
    assert.equal(stats.objects, 2);
    const rec = await s.backend.getObjectRecord(b, "same");
    assert.equal(stats.bytes, 1 + rec.size);
    assert.equal((await storedBlobs(s)).length, 2);
  });
});
