/** Conformance cases: bucket records, namespaces, emptiness, configuration documents. */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import {
  bucket,
  type ConformanceCase,
  expectCode,
  listedKeys,
  OWNER,
  put,
  setVersioning,
  stats,
} from "./harness.ts";

export const BUCKET_CASES: ConformanceCase[] = [
  {
    name: "buckets: create, get, list and delete, with the codes of each wrong case",
    async run({ be }) {
      const b = await bucket(be, "first-bucket");
      assertEquals(
        [b.name, b.ns, b.ownerId, b.region, b.versioning, b.objectLock],
        ["first-bucket", "", OWNER, "us-east-1", "Unversioned", false],
      );
      assert(typeof b.id === "string" && b.id.length > 0, "a bucket has an id");
      assertEquals(await be.getBucket("", "first-bucket"), b);
      await expectCode(() => bucket(be, "first-bucket"), "BucketAlreadyOwnedByYou");
      await expectCode(
        () => bucket(be, "first-bucket", { ownerId: "someone-else" }),
        "BucketAlreadyExists",
      );
      for (const bad of ["Upper", "a", "under_score", "ends-", "two..dots", "192.168.1.1"]) {
        await expectCode(() => bucket(be, bad), "InvalidBucketName");
      }
      await expectCode(() => be.getBucket("", "missing-bucket"), "NoSuchBucket");
      await expectCode(() => be.deleteBucket("", "missing-bucket"), "NoSuchBucket");
      assertEquals(await stats(be, b), { objects: 0, bytes: 0 });

      // ListBuckets answers in name order, whatever the creation order.
      await bucket(be, "zeta-bucket");
      await bucket(be, "alpha-bucket");
      const names = async () => (await be.listBuckets("")).map((x) => x.name);
      assertEquals(await names(), ["alpha-bucket", "first-bucket", "zeta-bucket"]);

      await put(be, b, "k", "v");
      await expectCode(() => be.deleteBucket("", "first-bucket"), "BucketNotEmpty");
      await be.deleteObject(b, "k");
      await be.deleteBucket("", "first-bucket");
      await expectCode(() => be.getBucket("", "first-bucket"), "NoSuchBucket");
      assertEquals(await names(), ["alpha-bucket", "zeta-bucket"]);
      await expectCode(() => be.deleteBucket("", "first-bucket"), "NoSuchBucket");

      const locked = await bucket(be, "locked-bucket", { objectLock: true });
      assertEquals([locked.versioning, locked.objectLock], ["Enabled", true]);
    },
  },
  {
    name: "buckets: namespaces hold separate buckets of the same name",
    async run({ be }) {
      const g = await bucket(be, "shared-name");
      const t = await bucket(be, "shared-name", { ns: "tenant-1" });
      assert(g.id !== t.id, "two buckets, two ids");
      await bucket(be, "only-tenant", { ns: "tenant-1" });
      assertEquals((await be.listBuckets("")).map((x) => x.name), ["shared-name"]);
      assertEquals((await be.listBuckets("tenant-1")).map((x) => [x.ns, x.name]), [
        ["tenant-1", "only-tenant"],
        ["tenant-1", "shared-name"],
      ]);
      assertEquals(await be.listBuckets("tenant-2"), []);
      await expectCode(() => be.getBucket("tenant-2", "shared-name"), "NoSuchBucket");
      assertEquals((await be.getBucket("tenant-1", "shared-name")).id, t.id);

      await put(be, t, "k", "tenant bytes");
      assertEquals(await listedKeys(be, g), []);
      await expectCode(() => be.getObjectRecord(g, "k"), "NoSuchKey");
      assertEquals(await stats(be, g), { objects: 0, bytes: 0 });
      await be.deleteBucket("", "shared-name");
      assertEquals((await be.getObjectRecord(t, "k")).size, 12);
      await expectCode(() => be.deleteBucket("tenant-1", "shared-name"), "BucketNotEmpty");
    },
  },
  {
    name: "buckets: noncurrent versions and delete markers keep a bucket from being deleted",
    async run({ be }) {
      const b = await bucket(be, "versioned-leftovers", { versioning: "Enabled" });
      const v = await put(be, b, "k", "v");
      const m = await be.deleteObject(b, "k");
      assertEquals(await listedKeys(be, b), []);
      assertEquals(await stats(be, b), { objects: 1, bytes: 1 });
      await expectCode(() => be.deleteBucket("", b.name), "BucketNotEmpty");
      await be.deleteObject(b, "k", { versionId: v.versionId });
      // Only the marker is left: still not empty.
      await expectCode(() => be.deleteBucket("", b.name), "BucketNotEmpty");
      await be.deleteObject(b, "k", { versionId: m!.versionId });
      await be.deleteBucket("", b.name);
    },
  },
  {
    name: "buckets: the record of a deleted bucket is refused after its name is re-created",
    async run({ be }) {
      const old = await bucket(be, "reborn");
      await be.putBucketConfig(old.id, "policy", { v: "old" });
      await be.deleteBucket("", "reborn");
      const now = await bucket(be, "reborn");
      assert(now.id !== old.id, "a new bucket gets a new id");
      await expectCode(() => put(be, old, "k", "stale"), "NoSuchBucket");
      await expectCode(() => be.deleteObject(old, "k"), "NoSuchBucket");
      await expectCode(() => setVersioning(be, old, "Enabled"), "NoSuchBucket");
      assertEquals(await listedKeys(be, now), []);
      assertEquals(await stats(be, now), { objects: 0, bytes: 0 });
      assertEquals(await be.getBucketConfig(old.id, "policy"), null);
      assertEquals(await be.getBucketConfig(now.id, "policy"), null);
    },
  },
  {
    name: "buckets: configuration documents and versioning state round-trip",
    async run({ be }) {
      const b = await bucket(be, "configured");
      const other = await bucket(be, "unconfigured");
      assertEquals(await be.getBucketConfig(b.id, "policy"), null);
      const doc = { Statement: [{ Effect: "Allow", Action: ["s3:GetObject"] }] };
      await be.putBucketConfig(b.id, "policy", doc);
      await be.putBucketConfig(b.id, "cors", "<CORSConfiguration/>");
      assertEquals(await be.getBucketConfig(b.id, "policy"), doc);
      assertEquals(await be.getBucketConfig(b.id, "cors"), "<CORSConfiguration/>");
      assertEquals(await be.getBucketConfig(other.id, "policy"), null);
      await be.putBucketConfig(b.id, "policy", { replaced: true });
      assertEquals(await be.getBucketConfig(b.id, "policy"), { replaced: true });
      await be.putBucketConfig(b.id, "policy", null);
      assertEquals(await be.getBucketConfig(b.id, "policy"), null);
      assertEquals(await be.getBucketConfig(b.id, "cors"), "<CORSConfiguration/>");

      for (const state of ["Enabled", "Suspended", "Enabled"] as const) {
        const next = await setVersioning(be, b, state);
        assertEquals(next.versioning, state);
        assertEquals((await be.getBucket("", "configured")).versioning, state);
      }
      assertEquals((await be.getBucket("", "unconfigured")).versioning, "Unversioned");
    },
  },
];
