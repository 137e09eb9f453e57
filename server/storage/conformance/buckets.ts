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
import type { ListBucketsInput } from "../types.ts";

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
    name: "buckets: ListBuckets pages by prefix, start, region, owner and size",
    async run({ be }) {
      for (const n of ["b-3", "a-1", "b-1", "c-1", "b-2"]) await bucket(be, n);
      await bucket(be, "b-west", { region: "us-west-2" });
      await bucket(be, "b-other", { ownerId: "someone-else" });
      await bucket(be, "b-9", { ns: "tenant-1" });
      const page = async (i: Partial<ListBucketsInput>) => {
        const p = await be.listBucketsPage("", { prefix: "", limit: Infinity, ...i });
        return [p.buckets.map((b) => b.name).join(","), p.truncated];
      };
      assertEquals(await page({}), ["a-1,b-1,b-2,b-3,b-other,b-west,c-1", false]);
      assertEquals(await page({ prefix: "b-" }), ["b-1,b-2,b-3,b-other,b-west", false]);
      assertEquals(await page({ prefix: "b-", limit: 2 }), ["b-1,b-2", true]);
      assertEquals(await page({ prefix: "b-", after: "b-2", limit: 2 }), ["b-3,b-other", true]);
      assertEquals(await page({ prefix: "b-", after: "b-other", limit: 2 }), ["b-west", false]);
      // A start before the prefix starts at the prefix; one past it leaves nothing.
      assertEquals(await page({ prefix: "b-", after: "a-1", limit: 1 }), ["b-1", true]);
      assertEquals(await page({ prefix: "b-", after: "c" }), ["", false]);
      assertEquals(await page({ after: "b-3", limit: 1 }), ["b-other", true]);
      assertEquals(await page({ prefix: "b-1" }), ["b-1", false]);
      assertEquals(await page({ prefix: "zzz" }), ["", false]);
      assertEquals(await page({ prefix: "x".repeat(3000) }), ["", false]);
      assertEquals(await page({ region: "us-west-2" }), ["b-west", false]);
      assertEquals(await page({ region: "us-east-1", prefix: "b-", limit: 4 }), [
        "b-1,b-2,b-3,b-other",
        false,
      ]);
      assertEquals(await page({ ownerId: "someone-else" }), ["b-other", false]);
      assertEquals(await page({ ownerId: OWNER, after: "b-3", limit: 1 }), ["b-west", true]);
      // Exactly `limit` left: not truncated.
      assertEquals(await page({ after: "b-west", limit: 1 }), ["c-1", false]);

      const [entry] = (await be.listBucketsPage("tenant-1", { prefix: "", limit: 1 })).buckets;
      const rec = await be.getBucket("tenant-1", "b-9");
      assertEquals(entry, {
        name: "b-9",
        created: rec.created,
        region: "us-east-1",
        ownerId: OWNER,
      });
      assertEquals(await be.listBucketsPage("tenant-2", { prefix: "", limit: 10 }), {
        buckets: [],
        truncated: false,
      });

      // Pages see buckets created, changed and deleted since the namespace was last listed.
      await bucket(be, "b-15");
      await be.deleteBucket("", "b-2");
      await be.updateBucket(
        await be.getBucket("", "b-1"),
        (b) => ({ ...b, versioning: "Enabled" }),
      );
      assertEquals(await page({ prefix: "b-" }), ["b-1,b-15,b-3,b-other,b-west", false]);
      await be.deleteBucket("", "b-west");
      await be.deleteBucket("", "a-1");
      await bucket(be, "a-0");
      assertEquals(await page({}), ["a-0,b-1,b-15,b-3,b-other,c-1", false]);
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
      assertEquals(await be.bucketsWithConfig("policy"), []);
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
      assertEquals(await be.bucketsWithConfig("policy"), [b.id]);
      assertEquals(await be.bucketsWithConfig("website"), []);
      await be.putBucketConfig(b.id, "policy", { replaced: true });
      assertEquals(await be.getBucketConfig(b.id, "policy"), { replaced: true });
      await be.putBucketConfig(b.id, "policy", null);
      assertEquals(await be.getBucketConfig(b.id, "policy"), null);
      assertEquals(await be.bucketsWithConfig("policy"), []);
      assertEquals(await be.getBucketConfig(b.id, "cors"), "<CORSConfiguration/>");
      assertEquals(await be.bucketsWithConfig("cors"), [b.id]);

      for (const state of ["Enabled", "Suspended", "Enabled"] as const) {
        const next = await setVersioning(be, b, state);
        assertEquals(next.versioning, state);
        assertEquals((await be.getBucket("", "configured")).versioning, state);
      }
      assertEquals((await be.getBucket("", "unconfigured")).versioning, "Unversioned");
    },
  },
  {
    name: "buckets: configurations given at creation are there with the bucket, or not at all",
    async run({ be }) {
      const configs = { ownership: { rule: "BucketOwnerEnforced" }, acl: { grants: [] } };
      const b = await be.createBucket({
        ns: "",
        name: "born-configured",
        ownerId: OWNER,
        region: "us-east-1",
        configs,
      });
      assertEquals(await be.getBucketConfig(b.id, "ownership"), configs.ownership);
      assertEquals(await be.getBucketConfig(b.id, "acl"), configs.acl);
      // A refused creation stores none of them on the existing bucket.
      const other = await bucket(be, "plain-bucket");
      await expectCode(
        () =>
          be.createBucket({
            ns: "",
            name: "plain-bucket",
            ownerId: OWNER,
            region: "us-east-1",
            configs,
          }),
        "BucketAlreadyOwnedByYou",
      );
      assertEquals(await be.getBucketConfig(other.id, "ownership"), null);
    },
  },
];
