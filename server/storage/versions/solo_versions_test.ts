/**
 * Solo versions (versions.ts): the only version of a key in an Unversioned bucket is its `obj`
 * record alone. These tests read the raw keyspace to check what each write leaves, and check
 * that every reader (GET by version, ListObjectVersions, tagging, deletes) sees a solo key as
 * one `null` version, before and after the bucket is versioned.
 */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { assertInlineOwnership } from "../../../tests/_helpers/inline.ts";
import {
  putText,
  type Storage,
  withStorage as withStorageIn,
} from "../../../tests/_helpers/storage.ts";
import { soloSort } from "./version_walk.ts";
import type { BucketRecord, ListVersionsInput, ObjectRecord } from "../types.ts";

const withStorage = (fn: (s: Storage) => Promise<void>) => withStorageIn("maxiofs-solo-", fn);
const put = putText;

async function text(s: Storage, b: BucketRecord, key: string, versionId?: string) {
  const rec = await s.backend.getObjectRecord(b, key, versionId);
  const o = await s.backend.openObject(rec);
  return await new Response(o).text();
}

/** The per-key entry kinds stored for `key` (obj, objl, ver, vhead, vnull), sorted. */
async function entryKinds(s: Storage, b: BucketRecord, key: string): Promise<string[]> {
  const kinds: string[] = [];
  for (const kind of ["obj", "objl", "vhead", "vnull"]) {
    if ((await s.core.meta.get([kind, b.id, key])).versionstamp) kinds.push(kind);
  }
  for await (const _ of s.core.meta.list({ prefix: ["ver", b.id, key] })) kinds.push("ver");
  return kinds.sort();
}

async function allVersions(s: Storage, b: BucketRecord, input: Partial<ListVersionsInput> = {}) {
  const page = await s.backend.listObjectVersions(b, {
    prefix: "",
    delimiter: "",
    keyMarker: "",
    versionIdMarker: "",
    maxKeys: 1000,
    ...input,
  });
  return page;
}

Deno.test("solo: an unversioned key is its obj record alone, through overwrite and delete", async () => {
  await withStorage(async (s) => {
    const be = s.backend;
    const b = await be.createBucket({ ns: "", name: "solo1", ownerId: "o", region: "us-east-1" });
    const r1 = await put(s, b, "k", "one");
    assertEquals(r1.versionId, "null");
    assertEquals(await entryKinds(s, b, "k"), ["obj", "objl"]);
    await put(s, b, "k", "second");
    assertEquals(await entryKinds(s, b, "k"), ["obj", "objl"]);
    assertEquals(await text(s, b, "k"), "second");
    assertEquals(await text(s, b, "k", "null"), "second");
    assertEquals(await be.bucketStats(b.id), { objects: 1, bytes: 6 });
    assertEquals(await assertInlineOwnership(s.core.meta.reader), 1);
    const page = await allVersions(s, b);
    assertEquals(page.versions.map((v) => [v.rec.key, v.rec.versionId, v.isLatest]), [
      ["k", "null", true],
    ]);
    await be.deleteObject(b, "k", { versionId: "null" });
    assertEquals(await entryKinds(s, b, "k"), []);
    await put(s, b, "k", "third");
    await be.deleteObject(b, "k");
    assertEquals(await entryKinds(s, b, "k"), []);
    assertEquals(await be.bucketStats(b.id), { objects: 0, bytes: 0 });
    assertEquals(await assertInlineOwnership(s.core.meta.reader), 0);
    await be.deleteBucket("", "solo1");
  });
});

Deno.test("solo: versioning the bucket keeps the solo version as the noncurrent null version", async () => {
  await withStorage(async (s) => {
    const be = s.backend;
    let b = await be.createBucket({ ns: "", name: "solo2", ownerId: "o", region: "us-east-1" });
    await put(s, b, "a", "a-null");
    await put(s, b, "m", "m-null");
    await put(s, b, "z", "z-null");
    b = await be.updateBucket(b, (x) => ({ ...x, versioning: "Enabled" }));
    // Reads before any new write: still one null version per key.
    assertEquals(await text(s, b, "a", "null"), "a-null");
    // A new version: the solo one gets a version entry and a null pointer in the same commit.
    const v1 = await put(s, b, "a", "a-v1");
    assertEquals(await entryKinds(s, b, "a"), ["obj", "objl", "ver", "ver", "vhead", "vnull"]);
    assertEquals(await text(s, b, "a"), "a-v1");
    assertEquals(await text(s, b, "a", "null"), "a-null");
    // A delete marker over a solo key keeps the null version too.
    const marker = await be.deleteObject(b, "m");
    assert(marker?.deleteMarker);
    assertEquals(await text(s, b, "m", "null"), "m-null");
    const page = await allVersions(s, b);
    assertEquals(page.versions.map((v) => [v.rec.key, v.rec.versionId, v.isLatest]), [
      ["a", v1.versionId, true],
      ["a", "null", false],
      ["m", marker!.versionId, true],
      ["m", "null", false],
      ["z", "null", true],
    ]);
    assertEquals(await be.bucketStats(b.id), { objects: 4, bytes: 22 });
    // The still-solo key can be removed by version id in the versioned bucket.
    await be.deleteObject(b, "z", { versionId: "null" });
    assertEquals(await entryKinds(s, b, "z"), []);
    // Removing the materialized null version of "a" leaves v1 as the only version.
    await be.deleteObject(b, "a", { versionId: "null" });
    assertEquals(await text(s, b, "a"), "a-v1");
    assertEquals(await be.bucketStats(b.id), { objects: 2, bytes: 10 });
    assertEquals(await assertInlineOwnership(s.core.meta.reader), 2);
  });
});

Deno.test("solo: a Suspended bucket replaces a solo version and frees its bytes", async () => {
  await withStorage(async (s) => {
    const be = s.backend;
    let b = await be.createBucket({ ns: "", name: "solo3", ownerId: "o", region: "us-east-1" });
    await put(s, b, "p", "p-solo");
    await put(s, b, "d", "d-solo");
    b = await be.updateBucket(b, (x) => ({ ...x, versioning: "Suspended" }));
    await put(s, b, "p", "p-suspended");
    assertEquals(await text(s, b, "p", "null"), "p-suspended");
    const m = await be.deleteObject(b, "d");
    assertEquals(m?.versionId, "null");
    assert(m?.deleteMarker);
    const page = await allVersions(s, b);
    assertEquals(page.versions.map((v) => [v.rec.key, v.rec.versionId, !!v.rec.deleteMarker]), [
      ["d", "null", true],
      ["p", "null", false],
    ]);
    assertEquals(await be.bucketStats(b.id), { objects: 1, bytes: 11 });
    assertEquals(await assertInlineOwnership(s.core.meta.reader), 1);
  });
});

Deno.test("solo: tagging a solo version in place keeps it solo", async () => {
  await withStorage(async (s) => {
    const be = s.backend;
    const b = await be.createBucket({ ns: "", name: "solo4", ownerId: "o", region: "us-east-1" });
    await put(s, b, "t", "tagged");
    const tag = (v?: string, value = "x") =>
      be.updateObjectVersion(b, "t", v, (r: ObjectRecord) => ({ ...r, tags: { k: value } }));
    await tag(undefined, "latest");
    assertEquals((await be.getObjectRecord(b, "t")).tags, { k: "latest" });
    await tag("null", "by-id");
    const rec = await be.getObjectRecord(b, "t", "null");
    assertEquals(rec.tags, { k: "by-id" });
    assert(rec.solo);
    assertEquals(await entryKinds(s, b, "t"), ["obj", "objl"]);
    assertEquals(await text(s, b, "t"), "tagged");
  });
});

Deno.test("solo: ListObjectVersions pages across solo keys and version entries alike", async () => {
  await withStorage(async (s) => {
    const be = s.backend;
    let b = await be.createBucket({ ns: "", name: "solo5", ownerId: "o", region: "us-east-1" });
    const names = ["a/1", "a/2", "b", "c/x/1", "c/y", "d", "e/1"];
    for (const n of names) await put(s, b, n, n);
    b = await be.updateBucket(b, (x) => ({ ...x, versioning: "Enabled" }));
    // Every other key gets versions (and one a marker); the rest stay solo.
    for (const n of ["a/2", "c/x/1", "d"]) {
      await put(s, b, n, n + "+1");
      await put(s, b, n, n + "+2");
    }
    await be.deleteObject(b, "b");
    for (const delimiter of ["", "/"]) {
      for (const prefix of ["", "c/", "a"]) {
        const whole = await allVersions(s, b, { prefix, delimiter });
        assert(!whole.truncated);
        for (const maxKeys of [1, 2, 3]) {
          const versions: [string, string, boolean][] = [];
          const prefixes: string[] = [];
          let keyMarker = "";
          let versionIdMarker = "";
          for (let i = 0; i < 50; i++) {
            const p = await allVersions(s, b, {
              prefix,
              delimiter,
              maxKeys,
              keyMarker,
              versionIdMarker,
            });
            versions.push(
              ...p.versions.map((
                v,
              ): [string, string, boolean] => [v.rec.key, v.rec.versionId, v.isLatest]),
            );
            prefixes.push(...p.commonPrefixes);
            if (!p.truncated) break;
            keyMarker = p.nextKeyMarker ?? "";
            versionIdMarker = p.nextVersionIdMarker ?? "";
          }
          const label = `prefix=${prefix} delimiter=${delimiter} max=${maxKeys}`;
          assertEquals(
            versions,
            whole.versions.map((v) => [v.rec.key, v.rec.versionId, v.isLatest]),
            label,
          );
          assertEquals(prefixes, whole.commonPrefixes, label);
        }
      }
    }
    const flat = await allVersions(s, b);
    assertEquals(flat.versions.filter((v) => v.rec.versionId === "null").map((v) => v.rec.key), [
      "a/1",
      "a/2",
      "b",
      "c/x/1",
      "c/y",
      "d",
      "e/1",
    ]);
    assertEquals(flat.versions.length, 7 + 6 + 1);
  });
});

Deno.test("solo: a key stored with version entries (older data) is read, then made solo on overwrite", async () => {
  await withStorage(async (s) => {
    const be = s.backend;
    const b = await be.createBucket({ ns: "", name: "solo6", ownerId: "o", region: "us-east-1" });
    // Write the key, then rewrite its entries the way servers before solo records stored them.
    const rec = await put(s, b, "old", "legacy");
    const { solo: _solo, ...plain } = rec;
    const sort = soloSort(rec);
    await s.core.meta.write()
      .set(["obj", b.id, "old"], plain)
      .set(["ver", b.id, "old", sort], plain)
      .set(["vhead", b.id, "old"], { v: 1, sort, versionId: "null", marker: false })
      .set(["vnull", b.id, "old"], { v: 1, sort })
      .commit();
    assertEquals(await entryKinds(s, b, "old"), ["obj", "objl", "ver", "vhead", "vnull"]);
    assertEquals(await text(s, b, "old", "null"), "legacy");
    assertEquals((await allVersions(s, b)).versions.length, 1);
    await put(s, b, "old", "now solo");
    assertEquals(await entryKinds(s, b, "old"), ["obj", "objl"]);
    assertEquals(await text(s, b, "old", "null"), "now solo");
    assertEquals(await be.bucketStats(b.id), { objects: 1, bytes: 8 });
    assertEquals(await assertInlineOwnership(s.core.meta.reader), 1);
  });
});

Deno.test("solo: concurrent overwrites and deletes of older-layout keys leave each key consistent", async () => {
  await withStorage(async (s) => {
    const be = s.backend;
    const b = await be.createBucket({ ns: "", name: "solo7", ownerId: "o", region: "us-east-1" });
    const keys = ["l0", "l1", "l2", "l3"];
    for (const key of keys) {
      const { solo: _solo, ...plain } = await put(s, b, key, `legacy ${key}`);
      const sort = soloSort(plain as ObjectRecord);
      await s.core.meta.write()
        .set(["obj", b.id, key], plain)
        .set(["ver", b.id, key, sort], plain)
        .set(["vhead", b.id, key], { v: 1, sort, versionId: "null", marker: false })
        .set(["vnull", b.id, key], { v: 1, sort })
        .commit();
    }
    // Writers and deleters race on every key; their commits check only `obj` where the version
    // entries are absent, and check the version entries while they exist.
    await Promise.all(
      keys.flatMap((key, k) =>
        Array.from(
          { length: 12 },
          (_, i) =>
            (i + k) % 4 === 3 ? be.deleteObject(b, key) : put(s, b, key, `${key} body ${i}`),
        )
      ),
    );
    let objects = 0;
    let bytes = 0;
    for (const key of keys) {
      const kinds = await entryKinds(s, b, key);
      if (kinds.length === 0) continue;
      // Solo after any write, or gone: never a mix of old entries and a new record.
      assertEquals(kinds, ["obj", "objl"], key);
      const body = await text(s, b, key);
      assert(body.startsWith(`${key} body `), body);
      objects++;
      bytes += body.length;
      assertEquals((await allVersions(s, b, { prefix: key })).versions.length, 1);
    }
    assertEquals(await be.bucketStats(b.id), { objects, bytes });
    assertEquals(await assertInlineOwnership(s.core.meta.reader), objects);
  });
});
