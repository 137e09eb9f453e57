/**
 * Conformance cases: versioning states (unversioned, enabled, suspended), null versions,
 * delete markers and what reading one answers, removing versions and promoting the next latest.
 */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import type { Backend } from "../backend.ts";
import type { BucketRecord } from "../types.ts";
import {
  allVersions,
  bucket,
  type ConformanceCase,
  expectCode,
  listedKeys,
  put,
  setVersioning,
  stats,
  text,
  versionRows,
} from "./harness.ts";

/**
 * GET of a key whose latest version is a delete marker: `NoSuchKey` that says so
 * (`x-amz-delete-marker`, and the marker's version id).
 */
async function expectMarkerLatest(be: Backend, b: BucketRecord, key: string, markerId: string) {
  const e = await expectCode(() => be.getObjectRecord(b, key), "NoSuchKey");
  assertEquals(e.headers["x-amz-delete-marker"], "true");
  assertEquals(e.headers["x-amz-version-id"], markerId);
}

/** A version id that is well formed (same shape as `id`) and belongs to no version. */
function unknownVersionId(id: string): string {
  const last = id.at(-1) === "0" ? "1" : "0";
  return id.slice(0, -1) + last;
}

export const VERSION_CASES: ConformanceCase[] = [
  {
    name: "versions: an unversioned bucket keeps one null version per key and no markers",
    async run({ be }) {
      const b = await bucket(be, "unversioned");
      const one = await put(be, b, "k", "one");
      const two = await put(be, b, "k", "second");
      assertEquals([one.versionId, two.versionId], ["null", "null"]);
      assertEquals(versionRows(await allVersions(be, b)), [["k", "null", true, false]]);
      assertEquals(await text(be, b, "k", "null"), "second");
      assertEquals(await stats(be, b), { objects: 1, bytes: 6 });
      const removed = await be.deleteObject(b, "k");
      assert(!removed?.deleteMarker, "no delete marker in an unversioned bucket");
      assertEquals(await allVersions(be, b), []);
      const e = await expectCode(() => be.getObjectRecord(b, "k"), "NoSuchKey");
      assertEquals(e.headers["x-amz-delete-marker"], undefined);
      await expectCode(() => be.getObjectRecord(b, "k", "null"), "NoSuchVersion");
      // Version ids are checked before anything is looked up.
      for (const bad of ["not-a-version-id", ""]) {
        await expectCode(() => be.getObjectRecord(b, "k", bad), "InvalidArgument");
        await expectCode(() => be.deleteObject(b, "k", { versionId: bad }), "InvalidArgument");
      }
      assertEquals(await stats(be, b), { objects: 0, bytes: 0 });
    },
  },
  {
    name: "versions: an enabled bucket keeps every version; a delete marker hides the key",
    async run({ be }) {
      let b = await bucket(be, "enabled");
      await put(be, b, "k", "null-one");
      b = await setVersioning(be, b, "Enabled");
      const v1 = await put(be, b, "k", "v1");
      const v2 = await put(be, b, "k", "v2!");
      const ids = [v1.versionId, v2.versionId];
      assert(ids.every((id) => id && id !== "null"), "versions get ids");
      assert(v1.versionId !== v2.versionId, "distinct version ids");
      assertEquals((await be.getObjectRecord(b, "k")).versionId, v2.versionId);
      assertEquals(await text(be, b, "k", v1.versionId), "v1");
      assertEquals(await text(be, b, "k", "null"), "null-one");
      assertEquals(await stats(be, b), { objects: 3, bytes: 13 });

      const m = await be.deleteObject(b, "k");
      assert(m?.deleteMarker, "a delete without version id leaves a marker");
      assert(m.versionId !== "null" && !ids.includes(m.versionId), "the marker has its own id");
      assertEquals(m.key, "k");
      await expectMarkerLatest(be, b, "k", m.versionId);
      const e = await expectCode(() => be.getObjectRecord(b, "k", m.versionId), "MethodNotAllowed");
      assertEquals(e.headers["x-amz-delete-marker"], "true");
      assertEquals(await listedKeys(be, b), []);
      assertEquals(await stats(be, b), { objects: 3, bytes: 13 });
      await expectCode(
        () => be.getObjectRecord(b, "k", unknownVersionId(v1.versionId)),
        "NoSuchVersion",
      );
      // A version id names a version of one key: another key does not have it.
      const other = await put(be, b, "other", "o");
      await expectCode(() => be.getObjectRecord(b, "other", v1.versionId), "NoSuchVersion");
      assertEquals(await be.deleteObject(b, "other", { versionId: v1.versionId }), null);
      assertEquals(await text(be, b, "k", v1.versionId), "v1");
      await be.deleteObject(b, "other", { versionId: other.versionId });

      // A second delete stacks a second marker.
      const m2 = await be.deleteObject(b, "k");
      assert(m2?.deleteMarker && m2.versionId !== m.versionId, "a second marker");
      assertEquals(versionRows(await allVersions(be, b)), [
        ["k", m2.versionId, true, true],
        ["k", m.versionId, false, true],
        ["k", v2.versionId, false, false],
        ["k", v1.versionId, false, false],
        ["k", "null", false, false],
      ]);
      // A new PUT is the latest again.
      const v3 = await put(be, b, "k", "v3");
      assertEquals((await be.getObjectRecord(b, "k")).versionId, v3.versionId);
      assertEquals(await listedKeys(be, b), ["k"]);
    },
  },
  {
    name: "versions: removing a version promotes the next one to latest",
    async run({ be }) {
      const b = await bucket(be, "promotion", { versioning: "Enabled" });
      const v1 = await put(be, b, "k", "1");
      const v2 = await put(be, b, "k", "22");
      const v3 = await put(be, b, "k", "333");
      assertEquals(await stats(be, b), { objects: 3, bytes: 6 });

      const removed = await be.deleteObject(b, "k", { versionId: v3.versionId });
      assertEquals([removed?.versionId, !!removed?.deleteMarker], [v3.versionId, false]);
      const latest = async () => (await be.getObjectRecord(b, "k")).versionId;
      assertEquals(await latest(), v2.versionId);
      const [listed] = (await be.listObjects(b, {
        prefix: "",
        delimiter: "",
        after: "",
        maxKeys: 10,
      })).objects;
      assertEquals([listed.size, listed.etag], [2, v2.etag]);
      await expectCode(() => be.getObjectRecord(b, "k", v3.versionId), "NoSuchVersion");

      // Removing a noncurrent version leaves the latest alone.
      await be.deleteObject(b, "k", { versionId: v1.versionId });
      assertEquals(await latest(), v2.versionId);
      assertEquals(await stats(be, b), { objects: 1, bytes: 2 });

      // Removing the marker on top brings the version under it back.
      const m = await be.deleteObject(b, "k");
      await expectMarkerLatest(be, b, "k", m!.versionId);
      await be.deleteObject(b, "k", { versionId: m!.versionId });
      assertEquals(await latest(), v2.versionId);
      assertEquals(await listedKeys(be, b), ["k"]);

      // A version whose removal leaves a marker on top: the key reads as deleted.
      const m2 = await be.deleteObject(b, "k");
      const v4 = await put(be, b, "k", "4444");
      await be.deleteObject(b, "k", { versionId: v4.versionId });
      await expectMarkerLatest(be, b, "k", m2!.versionId);
      assertEquals(await listedKeys(be, b), []);

      // Removing a version that does not exist (any more) changes nothing.
      assertEquals(await be.deleteObject(b, "k", { versionId: v4.versionId }), null);
      assertEquals(await be.deleteObject(b, "other", { versionId: "null" }), null);
      assertEquals(versionRows(await allVersions(be, b)), [
        ["k", m2!.versionId, true, true],
        ["k", v2.versionId, false, false],
      ]);
      await be.deleteObject(b, "k", { versionId: m2!.versionId });
      await be.deleteObject(b, "k", { versionId: v2.versionId });
      assertEquals(await allVersions(be, b), []);
      await expectCode(() => be.getObjectRecord(b, "k"), "NoSuchKey");
      assertEquals(await stats(be, b), { objects: 0, bytes: 0 });
    },
  },
  {
    name: "versions: a suspended bucket writes and deletes the null version",
    async run({ be }) {
      let b = await bucket(be, "suspended");
      await put(be, b, "k", "solo");
      b = await setVersioning(be, b, "Enabled");
      const v1 = await put(be, b, "k", "v1");
      // The version written before versioning stays, as the null version.
      assertEquals(versionRows(await allVersions(be, b)), [
        ["k", v1.versionId, true, false],
        ["k", "null", false, false],
      ]);
      b = await setVersioning(be, b, "Suspended");
      const n1 = await put(be, b, "k", "null-a");
      assertEquals(n1.versionId, "null");
      await put(be, b, "k", "null-bb");
      // The null version was replaced, not added: v1 and one null version.
      assertEquals(versionRows(await allVersions(be, b)), [
        ["k", "null", true, false],
        ["k", v1.versionId, false, false],
      ]);
      assertEquals(await text(be, b, "k", "null"), "null-bb");
      assertEquals(await stats(be, b), { objects: 2, bytes: 9 });

      const m = await be.deleteObject(b, "k");
      assertEquals([m?.deleteMarker, m?.versionId], [true, "null"]);
      await expectMarkerLatest(be, b, "k", "null");
      assertEquals(versionRows(await allVersions(be, b)), [
        ["k", "null", true, true],
        ["k", v1.versionId, false, false],
      ]);
      assertEquals(await stats(be, b), { objects: 1, bytes: 2 });

      await put(be, b, "k", "null-c");
      assertEquals(versionRows(await allVersions(be, b)), [
        ["k", "null", true, false],
        ["k", v1.versionId, false, false],
      ]);
      b = await setVersioning(be, b, "Enabled");
      const v3 = await put(be, b, "k", "v3");
      assertEquals(versionRows(await allVersions(be, b)).map((r) => r[1]), [
        v3.versionId,
        "null",
        v1.versionId,
      ]);
      await be.deleteObject(b, "k", { versionId: "null" });
      assertEquals(versionRows(await allVersions(be, b)).map((r) => r[1]), [
        v3.versionId,
        v1.versionId,
      ]);
      assertEquals(await stats(be, b), { objects: 2, bytes: 4 });
    },
  },
  {
    name: "versions: versions keep the order of their writes when the clock steps back",
    async run({ be, clock }) {
      if (!clock) return;
      const b = await bucket(be, "clock-steps", { versioning: "Enabled" });
      const v1 = await put(be, b, "k", "first");
      clock.advance(-3_600_000);
      const v2 = await put(be, b, "k", "second");
      assertEquals((await be.getObjectRecord(b, "k")).versionId, v2.versionId);
      clock.advance(-3_600_000);
      const m = await be.deleteObject(b, "k");
      await expectMarkerLatest(be, b, "k", m!.versionId);
      const v3 = await put(be, b, "k", "third");
      assertEquals(versionRows(await allVersions(be, b)).map((r) => r[1]), [
        v3.versionId,
        m!.versionId,
        v2.versionId,
        v1.versionId,
      ]);
      assertEquals(await text(be, b, "k"), "third");
    },
  },
];
