import { assert, assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import {
  putText,
  type Storage,
  storedBlobs,
  withStorage as withStorageIn,
} from "../../../tests/_helpers/storage.ts";
import { newSortId } from "./versions.ts";
import type { ObjectRecord } from "../types.ts";
import { S3Error } from "../../s3/errors.ts";

const withStorage = (fn: (s: Storage) => Promise<void>) => withStorageIn("maxiofs-ver-", fn);
const put = putText;

Deno.test("sort ids order newest first and never collide within a millisecond", () => {
  const a = newSortId(1000, null);
  const b = newSortId(1000, a);
  const c = newSortId(999, b);
  assert(b < a && c < b);
  assertEquals(a.length, 32);
});

Deno.test("versions: publish, markers, permanent delete, counters and blob files", async () => {
  await withStorage(async (s) => {
    const be = s.backend;
    let b = await be.createBucket({ ns: "", name: "vbk", ownerId: "o", region: "us-east-1" });
    const v0 = await put(s, b, "k", "zero");
    assertEquals(v0.versionId, "null");
    b = await be.updateBucket(b, (x) => ({ ...x, versioning: "Enabled" }));
    const v1 = await put(s, b, "k", "one!");
    const v2 = await put(s, b, "k", "two!!");
    assert(v1.versionId !== "null" && v2.versionId !== v1.versionId);
    assertEquals((await be.getObjectRecord(b, "k")).versionId, v2.versionId);
    assertEquals((await be.getObjectRecord(b, "k", "null")).size, 4);
    assertEquals(await be.bucketStats(b.id), { objects: 3, bytes: 13 });

    const m = await be.deleteObject(b, "k");
    assert(m?.deleteMarker);
    const e = await assertRejects(() => be.getObjectRecord(b, "k")) as S3Error;
    assertEquals([e.code, e.headers["x-amz-delete-marker"]], ["NoSuchKey", "true"]);
    const e2 = await assertRejects(() => be.getObjectRecord(b, "k", m!.versionId)) as S3Error;
    assertEquals(e2.code, "MethodNotAllowed");
    const objs = await be.listObjects(b, { prefix: "", delimiter: "", after: "", maxKeys: 10 });
    assertEquals(objs.objects.length, 0);

    const page = await be.listObjectVersions(b, {
      prefix: "",
      delimiter: "",
      keyMarker: "",
      versionIdMarker: "",
      maxKeys: 10,
    });
    assertEquals(page.versions.map((v) => [v.rec.versionId, v.isLatest, !!v.rec.deleteMarker]), [
      [m!.versionId, true, true],
      [v2.versionId, false, false],
      [v1.versionId, false, false],
      ["null", false, false],
    ]);

    // Removing the marker makes v2 current again.
    await be.deleteObject(b, "k", { versionId: m!.versionId });
    assertEquals((await be.getObjectRecord(b, "k")).versionId, v2.versionId);
    // Removing the current version promotes the next one.
    await be.deleteObject(b, "k", { versionId: v2.versionId });
    assertEquals((await be.getObjectRecord(b, "k")).versionId, v1.versionId);
    assertEquals(await be.bucketStats(b.id), { objects: 2, bytes: 8 });
    await assertRejects(() => be.deleteBucket("", "vbk"));
    await be.deleteObject(b, "k", { versionId: "null" });
    await be.deleteObject(b, "k", { versionId: v1.versionId });
    assertEquals(await be.bucketStats(b.id), { objects: 0, bytes: 0 });
    assertEquals(await storedBlobs(s), []);
    await be.deleteBucket("", "vbk");
  });
});

Deno.test("versions: suspended buckets replace the null version and its marker", async () => {
  await withStorage(async (s) => {
    const be = s.backend;
    let b = await be.createBucket({ ns: "", name: "sbk", ownerId: "o", region: "us-east-1" });
    b = await be.updateBucket(b, (x) => ({ ...x, versioning: "Enabled" }));
    const v1 = await put(s, b, "k", "one");
    b = await be.updateBucket(b, (x) => ({ ...x, versioning: "Suspended" }));
    await put(s, b, "k", "null-a");
    await put(s, b, "k", "null-bb");
    assertEquals(await be.bucketStats(b.id), { objects: 2, bytes: 10 });
    const m = await be.deleteObject(b, "k");
    assertEquals([m?.deleteMarker, m?.versionId], [true, "null"]);
    assertEquals(await be.bucketStats(b.id), { objects: 1, bytes: 3 });
    const page = await be.listObjectVersions(b, {
      prefix: "",
      delimiter: "",
      keyMarker: "",
      versionIdMarker: "",
      maxKeys: 10,
    });
    assertEquals(page.versions.map((v) => v.rec.versionId), ["null", v1.versionId]);
  });
});

Deno.test("version listing pages with markers and folds common prefixes", async () => {
  await withStorage(async (s) => {
    const be = s.backend;
    let b = await be.createBucket({ ns: "", name: "lbk", ownerId: "o", region: "us-east-1" });
    b = await be.updateBucket(b, (x) => ({ ...x, versioning: "Enabled" }));
    for (const k of ["a", "b/1", "b/2", "c"]) {
      await put(s, b, k, "x");
      await put(s, b, k, "yy");
    }
    const all: [string, string, boolean][] = [];
    let keyMarker = "";
    let versionIdMarker = "";
    for (let i = 0; i < 20; i++) {
      const p = await be.listObjectVersions(b, {
        prefix: "",
        delimiter: "",
        keyMarker,
        versionIdMarker,
        maxKeys: 3,
      });
      for (const v of p.versions) all.push([v.rec.key, v.rec.versionId, v.isLatest]);
      if (!p.truncated) break;
      keyMarker = p.nextKeyMarker!;
      versionIdMarker = p.nextVersionIdMarker!;
    }
    assertEquals(all.length, 8);
    assertEquals(all.map((x) => x[2]), [true, false, true, false, true, false, true, false]);
    const d = await be.listObjectVersions(b, {
      prefix: "",
      delimiter: "/",
      keyMarker: "",
      versionIdMarker: "",
      maxKeys: 3,
    });
    assertEquals(d.versions.map((v) => v.rec.key), ["a", "a"]);
    assertEquals(d.commonPrefixes, ["b/"]);
    assertEquals(d.truncated, true);
    const d2 = await be.listObjectVersions(b, {
      prefix: "",
      delimiter: "/",
      keyMarker: d.nextKeyMarker!,
      versionIdMarker: d.nextVersionIdMarker ?? "",
      maxKeys: 3,
    });
    assertEquals(d2.versions.map((v) => [v.rec.key, v.isLatest]), [["c", true], ["c", false]]);
    assertEquals(d2.truncated, false);
  });
});

Deno.test("locked versions refuse permanent deletion; markers are still allowed", async () => {
  await withStorage(async (s) => {
    const be = s.backend;
    const b = await be.createBucket({
      ns: "",
      name: "lkb",
      ownerId: "o",
      region: "us-east-1",
      objectLock: true,
    });
    const far = Date.now() + 1e12;
    const rec = await be.putObject(b, {
      key: "k",
      body: new Blob(["x"]).stream(),
      contentLength: 1,
      content: {},
      meta: {},
      ownerId: "o",
      retention: { mode: "GOVERNANCE", until: far },
    });
    const e = await assertRejects(() => be.deleteObject(b, "k", { versionId: rec.versionId }));
    assertEquals((e as S3Error).code, "AccessDenied");
    const m = await be.deleteObject(b, "k");
    assert(m?.deleteMarker);
    await be.deleteObject(b, "k", { versionId: rec.versionId, bypassGovernance: true });
    const left: ObjectRecord[] = (await be.listObjectVersions(b, {
      prefix: "",
      delimiter: "",
      keyMarker: "",
      versionIdMarker: "",
      maxKeys: 10,
    })).versions.map((v) => v.rec);
    assertEquals(left.map((r) => !!r.deleteMarker), [true]);
  });
});

Deno.test("concurrent writers and deleters of one key keep the latest pointer consistent", async () => {
  await withStorage(async (s) => {
    const be = s.backend;
    let b = await be.createBucket({ ns: "", name: "cck", ownerId: "o", region: "us-east-1" });
    b = await be.updateBucket(b, (x) => ({ ...x, versioning: "Enabled" }));
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      ops.push(i % 3 === 2 ? be.deleteObject(b, "k") : put(s, b, "k", `body-${i}`));
    }
    await Promise.all(ops);
    const page = await be.listObjectVersions(b, {
      prefix: "",
      delimiter: "",
      keyMarker: "",
      versionIdMarker: "",
      maxKeys: 1000,
    });
    assertEquals(page.versions.length, 30);
    assertEquals(page.versions.filter((v) => v.isLatest).length, 1);
    const newest = page.versions[0].rec;
    const cur = await be.getObjectRecord(b, "k").catch((e) => e as S3Error);
    if (newest.deleteMarker) assertEquals((cur as S3Error).code, "NoSuchKey");
    else assertEquals((cur as ObjectRecord).versionId, newest.versionId);
    const live = page.versions.filter((v) => !v.rec.deleteMarker);
    assertEquals(await be.bucketStats(b.id), {
      objects: live.length,
      bytes: live.reduce((n, v) => n + v.rec.size, 0),
    });
    // Remove everything concurrently; nothing may be left behind.
    await Promise.all(
      page.versions.map((v) => be.deleteObject(b, "k", { versionId: v.rec.versionId })),
    );
    assertEquals(await be.bucketStats(b.id), { objects: 0, bytes: 0 });
    await be.deleteBucket("", "cck");
    const left = [];
    for await (const e of s.core.meta.list({ prefix: [] })) {
      if (["ver", "vhead", "vnull", "obj", "blob", "blobd"].includes(e.key[0] as string)) {
        left.push(e.key);
      }
    }
    assertEquals(left, []);
  });
});

Deno.test("concurrent overwrites of an unversioned key keep one version and one blob", async () => {
  await withStorage(async (s) => {
    const be = s.backend;
    const b = await be.createBucket({ ns: "", name: "uvk", ownerId: "o", region: "us-east-1" });
    await Promise.all(Array.from({ length: 20 }, (_, i) => put(s, b, "k", "x".repeat(i + 1))));
    const cur = await be.getObjectRecord(b, "k");
    assertEquals(cur.versionId, "null");
    assertEquals(await be.bucketStats(b.id), { objects: 1, bytes: cur.size });
    assertEquals(await storedBlobs(s), [cur.blob]);
    const page = await be.listObjectVersions(b, {
      prefix: "",
      delimiter: "",
      keyMarker: "",
      versionIdMarker: "",
      maxKeys: 10,
    });
    assertEquals(page.versions.map((v) => [v.rec.versionId, v.isLatest]), [["null", true]]);
  });
});
