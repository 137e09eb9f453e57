import assert from "node:assert/strict";
import { LatestCache, packRecord, unpackRecord } from "./latest_cache.ts";
import type { ObjectRecord } from "../types.ts";
import { putText, withStorage } from "../../../tests/_helpers/storage.ts";

Deno.test("latest cache: reads follow overwrites, deletes, markers and tag changes", async () => {
  await withStorage("maxiofs-latest-", async (s) => {
    const be = s.backend;
    let b = await be.createBucket({ ns: "", name: "latest-a", ownerId: "o", region: "us-east-1" });
    const put = (v: string) => putText(s, b, "k", v);
    await put("1");
    assert.equal((await be.getObjectRecord(b, "k")).size, 1);
    assert.equal((await be.getObjectRecord(b, "k")).size, 1);
    await put("22");
    assert.equal((await be.getObjectRecord(b, "k")).size, 2);
    // Each read gets its own copy: changing one changes nothing cached.
    const rec = await be.getObjectRecord(b, "k");
    (rec as { size: number }).size = 9;
    assert.equal((await be.getObjectRecord(b, "k")).size, 2);
    await be.updateObjectVersion(b, "k", null, (r) => ({ ...r, tags: { a: "b" } }));
    assert.deepEqual((await be.getObjectRecord(b, "k")).tags, { a: "b" });
    await be.deleteObject(b, "k");
    await assert.rejects(() => be.getObjectRecord(b, "k"), { code: "NoSuchKey" });
    b = await be.updateBucket(b, (x) => ({ ...x, versioning: "Enabled" }));
    const v = await put("333");
    assert.equal((await be.getObjectRecord(b, "k")).versionId, v.versionId);
    await be.deleteObject(b, "k");
    // A marker hides the key; removing it brings the previous version back.
    await assert.rejects(() => be.getObjectRecord(b, "k"), { code: "NoSuchKey" });
    await be.deleteObject(b, "k", {
      versionId: (await be.listObjectVersions(b, {
        prefix: "",
        delimiter: "",
        keyMarker: "",
        versionIdMarker: "",
        maxKeys: 10,
      })).versions[0].rec.versionId,
    });
    assert.equal((await be.getObjectRecord(b, "k")).size, 3);
  });
});

Deno.test("latest cache: a read that overlaps a forget does not store what it read", async () => {
  const cache = new LatestCache(64 * 1024);
  const old = { key: "k", size: 1 } as ObjectRecord;
  const fresh = { key: "k", size: 2 } as ObjectRecord;
  let release!: () => void;
  const slow = cache.get("B", "k", async () => {
    await new Promise<void>((r) => release = r);
    return old;
  });
  cache.forget("B", "k");
  release();
  assert.equal((await slow)?.size, 1);
  // The stale value was not kept: the next read loads again.
  let loads = 0;
  const next = await cache.get("B", "k", () => {
    loads++;
    return Promise.resolve(fresh);
  });
  assert.equal(next?.size, 2);
  assert.equal(loads, 1);
  assert.equal((await cache.get("B", "k", () => Promise.resolve(null)))?.size, 2);
  // Misses are not cached.
  assert.equal(await cache.get("B", "none", () => Promise.resolve(null)), null);
  assert.equal((await cache.get("B", "none", () => Promise.resolve(fresh)))?.size, 2);
});

Deno.test("latest cache: records are kept as bytes and come back equal, bytes included", () => {
  const plain = {
    v: 1,
    key: "a/<b>&\u00e9\u{1F600}",
    size: 3,
    content: { contentType: "text/plain" },
    meta: { x: "1" },
    retention: { mode: "GOVERNANCE", until: 5 },
  } as unknown as ObjectRecord;
  const packed = packRecord(plain);
  assert.equal(packed[0], "{".charCodeAt(0));
  assert.deepEqual(unpackRecord(packed), plain);
  const withBytes = {
    ...plain,
    parts: [{ n: 1, blob: "b", size: 3, etag: '"e"', dk: new Uint8Array([1, 2, 255]) }],
    partSizes: new Uint8Array([3, 4]),
    enc: { dk: new Uint8Array(40).fill(7), kek: "k1" },
    meta: { $b: "not bytes", y: "2" },
  } as unknown as ObjectRecord;
  assert.deepEqual(unpackRecord(packRecord(withBytes)), withBytes);
});

Deno.test("latest cache: bounded in estimated bytes, whatever the number of keys", async () => {
  const cache = new LatestCache(256 * 1024);
  const rec = (key: string, meta: Record<string, string> = {}) =>
    ({ key, size: 1, etag: '"0123456789abcdef0123456789abcdef"', meta }) as unknown as ObjectRecord;
  for (let i = 0; i < 10_000; i++) cache.remember("B", `k${i}`, rec(`k${i}`));
  assert.ok(cache.bytes <= 256 * 1024, `${cache.bytes} bytes`);
  const plain = cache.size;
  assert.ok(plain > 500 && plain < 10_000, `${plain} plain records`);
  // The newest are kept, the oldest went first.
  assert.ok(cache.has("B", "k9999"));
  assert.equal(cache.has("B", "k0"), false);
  // Records with large metadata take more of the bound each.
  for (let i = 0; i < 10_000; i++) {
    cache.remember("B", `m${i}`, rec(`m${i}`, { n: "x".repeat(1500) }));
  }
  assert.ok(cache.size < plain / 5, `${cache.size} records with metadata`);
  assert.ok(cache.bytes <= 256 * 1024);
  // A disabled cache keeps nothing, and every read loads.
  const off = new LatestCache(0);
  let loads = 0;
  for (let i = 0; i < 2; i++) await off.get("B", "k", () => Promise.resolve(rec(`k${++loads}`)));
  assert.equal(loads, 2);
});
