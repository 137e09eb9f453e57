/**
 * Conformance cases: the bucket counters (objects and bytes of live versions; markers count
 * nothing) after each kind of write, and Object Lock's protection of versions.
 */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import {
  allVersions,
  bucket,
  type ConformanceCase,
  expectCode,
  md5Base64,
  put,
  randomBytes,
  setVersioning,
  stats,
  text,
  utf8,
} from "./harness.ts";
import { multipartPut } from "./multipart.ts";

const DAY = 86_400_000;

export const COUNTER_CASES: ConformanceCase[] = [
  {
    name: "counters: objects and bytes follow puts, overwrites, deletes and completes",
    async run({ be }) {
      let b = await bucket(be, "counters");
      const expect = async (objects: number, bytes: number, what: string) =>
        assertEquals(await stats(be, b), { objects, bytes }, what);
      await expect(0, 0, "a new bucket");
      await put(be, b, "a", "12345");
      await put(be, b, "b", "");
      await expect(2, 5, "two puts, one empty");
      await put(be, b, "a", "123");
      await expect(2, 3, "an overwrite with fewer bytes");
      await put(be, b, "big", randomBytes(40_000));
      await put(be, b, "big", randomBytes(50_000));
      await expect(3, 50_003, "a large object overwritten");
      await expectCode(
        () => put(be, b, "a", "x", { contentMd5: md5Base64(utf8("y")) }),
        "BadDigest",
      );
      await expectCode(() => put(be, b, "c", "x", { conditions: { ifMatch: "*" } }), "NoSuchKey");
      await expect(3, 50_003, "refused writes change nothing");
      await be.deleteObject(b, "big");
      await be.deleteObject(b, "big");
      await be.deleteObject(b, "never");
      await expect(2, 3, "a delete, then deletes of nothing");
      const mp = await multipartPut(be, b, "mp", [randomBytes(1000), randomBytes(500)]);
      assertEquals(mp.size, 1500);
      await expect(3, 1503, "a multipart complete");
      await multipartPut(be, b, "mp", [randomBytes(10)]);
      await expect(3, 13, "a multipart overwrite");
      await put(be, b, "mp", "1234");
      await expect(3, 7, "a single put over a multipart object");

      b = await setVersioning(be, b, "Enabled");
      const v1 = await put(be, b, "a", "abcdef");
      await expect(4, 13, "a new version keeps the null version");
      const m = await be.deleteObject(b, "a");
      await expect(4, 13, "a delete marker counts nothing");
      await be.deleteObject(b, "a", { versionId: m!.versionId });
      await be.deleteObject(b, "a", { versionId: "null" });
      await expect(3, 10, "removing a marker, then the null version");
      await multipartPut(be, b, "a", [randomBytes(100)]);
      await expect(4, 110, "a multipart version");
      await be.deleteObject(b, "a", { versionId: v1.versionId });
      await expect(3, 104, "removing a noncurrent version");

      b = await setVersioning(be, b, "Suspended");
      await put(be, b, "s", "xy");
      await put(be, b, "s", "xyz");
      await expect(4, 107, "suspended: the null version is replaced");
      await be.deleteObject(b, "s");
      await expect(3, 104, "suspended: a null marker replaces the null version");
      await be.deleteObject(b, "mp");
      await expect(2, 100, "suspended: the old null version of mp goes too");
      await multipartPut(be, b, "smp", [randomBytes(30), randomBytes(20)]);
      await multipartPut(be, b, "smp", [randomBytes(5)]);
      await expect(3, 105, "suspended: a multipart null version replaced by another");
      await be.deleteObject(b, "a");
      await expect(3, 105, "suspended: a null marker over a versioned latest removes no bytes");

      // Only counted versions are left: remove them all and the counters are back to zero.
      for (const v of await allVersions(be, b)) {
        await be.deleteObject(b, v.rec.key, { versionId: v.rec.versionId });
      }
      await expect(0, 0, "every version removed");
      await be.deleteBucket("", b.name);
    },
  },
  {
    name: "object lock: retention and legal hold protect versions from removal",
    async run({ be, clock }) {
      const plain = await bucket(be, "no-lock");
      const until = (clock?.now() ?? Date.now()) + DAY;
      await expectCode(
        () => put(be, plain, "k", "x", { retention: { mode: "GOVERNANCE", until } }),
        "InvalidRequest",
      );
      await expectCode(() => put(be, plain, "k", "x", { legalHold: true }), "InvalidRequest");

      const b = await bucket(be, "with-lock", { objectLock: true });
      const gov = await put(be, b, "gov", "g", { retention: { mode: "GOVERNANCE", until } });
      assertEquals((await be.getObjectRecord(b, "gov")).retention, { mode: "GOVERNANCE", until });
      await expectCode(
        () => be.deleteObject(b, "gov", { versionId: gov.versionId }),
        "AccessDenied",
      );
      // A delete marker destroys nothing: allowed.
      const m = await be.deleteObject(b, "gov");
      assert(m?.deleteMarker, "a marker over a locked version");
      await be.deleteObject(b, "gov", { versionId: gov.versionId, bypassGovernance: true });

      const comp = await put(be, b, "comp", "c", { retention: { mode: "COMPLIANCE", until } });
      const del = () =>
        be.deleteObject(b, "comp", { versionId: comp.versionId, bypassGovernance: true });
      await expectCode(del, "AccessDenied");
      assertEquals(await text(be, b, "comp"), "c");

      const held = await put(be, b, "held", "h", { legalHold: true });
      const delHeld = () =>
        be.deleteObject(b, "held", { versionId: held.versionId, bypassGovernance: true });
      await expectCode(delHeld, "AccessDenied");
      await be.updateObjectVersion(b, "held", held.versionId, (r) => ({ ...r, legalHold: false }));
      await delHeld();
      await expectCode(() => be.getObjectRecord(b, "held", held.versionId), "NoSuchVersion");

      if (clock) {
        // Retention ends with time.
        clock.advance(2 * DAY);
        await del();
        await expectCode(() => be.getObjectRecord(b, "comp"), "NoSuchKey");
      }
    },
  },
];
