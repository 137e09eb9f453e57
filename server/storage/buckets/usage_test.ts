/**
 * Tenant usage and quotas as storage keeps them: counted and enforced in the commits that
 * publish writes (concurrent writers never pass a limit together), and part reservations that a
 * completing upload converts into stored bytes.
 */
import { assert, assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import { putText, type Storage, withStorage } from "../../../tests/_helpers/storage.ts";
import { S3Error } from "../../s3/errors.ts";
import type { QuotaLimits } from "../types.ts";

/** A storage whose namespace "t" has `limits`. */
function withQuota(limits: QuotaLimits, fn: (s: Storage) => Promise<void>) {
  return withStorage("maxiofs-usage-", fn, {
    quota: { limitsOf: (ns) => ns === "t" ? limits : null },
  });
}

const code = (e: unknown) => (e as S3Error).code;

Deno.test("quota: concurrent writes never pass the byte limit; deletes always pass", async () => {
  await withQuota({ maxBytes: 1000, maxBuckets: 1 }, async (s) => {
    const b = await s.backend.createBucket({ ns: "t", name: "quota-a", ownerId: "u", region: "r" });
    const results = await Promise.allSettled(
      Array.from({ length: 32 }, (_, i) => putText(s, b, `k${i}`, "x".repeat(100))),
    );
    const ok = results.filter((r) => r.status === "fulfilled").length;
    const refused = results.filter((r) =>
      r.status === "rejected" && r.reason instanceof S3Error && r.reason.code === "QuotaExceeded"
    ).length;
    assertEquals([ok, refused], [10, 22]);
    assertEquals(await s.backend.usage.read("t"), {
      bytes: 1000,
      objects: 10,
      buckets: 1,
      reserved: 0,
    });
    const kept = results.findIndex((r) =>
      r.status === "fulfilled"
    );
    await s.backend.deleteObject(b, `k${kept}`);
    assertEquals((await s.backend.usage.read("t")).bytes, 900);
    // An overwrite is judged on what it adds: 100 replaced by 150 fits in 1000.
    await putText(
      s,
      b,
      `k${results.findLastIndex((r) => r.status === "fulfilled")}`,
      "y".repeat(150),
    );
    assertEquals((await s.backend.usage.read("t")).bytes, 950);
    const e = await assertRejects(() =>
      s.backend.createBucket({ ns: "t", name: "quota-b", ownerId: "u", region: "r" })
    );
    assertEquals(code(e), "TooManyBuckets");
    // Other namespaces have no quota.
    await s.backend.createBucket({ ns: "", name: "free", ownerId: "u", region: "r" });
    assertEquals((await s.backend.usage.read("")).buckets, 1);
  });
});

Deno.test("part reservations: atomic under concurrency, released per part, reconciled", async () => {
  await withQuota({ maxBytes: 1000, maxBuckets: null }, async (s) => {
    const usage = s.backend.usage;
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => usage.reserve("t", "up1", 100, 1000)),
    );
    assertEquals(results.filter((r) => r.status === "fulfilled").length, 10);
    assertEquals((await usage.read("t")).reserved, 1000);
    await usage.release("t", "up1", 300);
    assertEquals((await usage.read("t")).reserved, 700);
    // An upload that is still open keeps its reservation; one that does not exist loses it.
    const b = await s.backend.createBucket({ ns: "t", name: "reserve", ownerId: "u", region: "r" });
    const up = await s.backend.createMultipartUpload(b, {
      key: "k",
      content: {},
      meta: {},
      ownerId: "u",
    });
    await usage.reserve("t", up.uploadId, 50, 1000);
    await usage.release("t", up.uploadId, null);
    assertEquals((await usage.read("t")).reserved, 750);
    assertEquals(await s.core.meta.usage.reconcile(), 1);
    assertEquals((await usage.read("t")).reserved, 50);
  });
});

Deno.test("quota: reservations count against writes; a completing upload converts its own", async () => {
  await withQuota({ maxBytes: 1000, maxBuckets: null }, async (s) => {
    const usage = s.backend.usage;
    const b = await s.backend.createBucket({
      ns: "t",
      name: "complete",
      ownerId: "u",
      region: "r",
    });
    const up = await s.backend.createMultipartUpload(b, {
      key: "mp",
      content: {},
      meta: {},
      ownerId: "u",
    });
    const id = up.uploadId;
    await usage.reserve("t", id, 600, 1000);
    // A re-uploaded part number gives the replaced reservation back once it is stored.
    await usage.commit("t", id, 1, 600);
    await usage.reserve("t", id, 300, 1000);
    assertEquals((await usage.read("t")).reserved, 900);
    await usage.commit("t", id, 1, 300);
    assertEquals((await usage.read("t")).reserved, 300);
    // Stored + reserved: an 800-byte object does not fit next to the 300 reserved bytes.
    const e = await assertRejects(() => putText(s, b, "big", "x".repeat(800)));
    assertEquals(code(e), "QuotaExceeded");
    const bytes = new Uint8Array(300);
    const part = await s.backend.uploadPart(b, {
      key: "mp",
      uploadId: id,
      partNumber: 1,
      body: new Blob([bytes]).stream(),
      contentLength: 300,
    });
    // Completing the upload (300 bytes) moves its reservation to stored bytes in one commit.
    await s.backend.completeMultipartUpload(b, {
      key: "mp",
      uploadId: id,
      parts: [{ n: 1, etag: part.etag, checksums: {} }],
    });
    assertEquals(await usage.read("t"), { bytes: 300, objects: 1, buckets: 1, reserved: 0 });
    await usage.release("t", id, null);
    assertEquals((await s.core.meta.get(["tresvp", "t", id, 1])).value, null);
    assert((await usage.read("t")).reserved === 0);
  });
});
