/**
 * ["bcfgk", kind, bucketId]: built once from the ["bcfg"] entries of a data dir written before
 * it existed, then kept by every configuration write (the conformance suite checks those).
 */
import { assertEquals } from "../../../tests/_helpers/assert.ts";
import { openStorage } from "../mod.ts";
import { quiet } from "../../../tests/_helpers/storage.ts";
import { BUCKET_CONFIG_KINDS_BUILT } from "../meta/keys.ts";

Deno.test("bucket configuration kinds: built from the configurations at the first start", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-cfgkinds-" });
  try {
    let s = await openStorage({ dataDir, log: quiet });
    const a = await s.backend.createBucket({ ns: "", name: "logged-a", ownerId: "o", region: "r" });
    const b = await s.backend.createBucket({
      ns: "t1",
      name: "logged-b",
      ownerId: "o",
      region: "r",
    });
    await s.backend.putBucketConfig(a.id, "logging", { on: true });
    await s.backend.putBucketConfig(b.id, "logging", { on: true });
    await s.backend.putBucketConfig(b.id, "lifecycle", { rules: [] });
    // As a data dir of the version before: configurations without their kind entries.
    const op = s.core.meta.write().delete(BUCKET_CONFIG_KINDS_BUILT);
    for await (const e of s.core.meta.list({ prefix: ["bcfgk"] })) op.delete(e.key);
    await op.commit();
    assertEquals(await s.backend.bucketsWithConfig("logging"), []);
    await s.close();

    s = await openStorage({ dataDir, log: quiet });
    assertEquals((await s.backend.bucketsWithConfig("logging")).sort(), [a.id, b.id].sort());
    assertEquals(await s.backend.bucketsWithConfig("lifecycle"), [b.id]);
    assertEquals(await s.backend.bucketsWithConfig("website"), []);
    await s.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
