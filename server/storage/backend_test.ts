/**
 * The Backend's read seam: a read returns record and bytes together, and an overwrite that
 * removes the bytes between reading the record and opening (or reading) them is retried inside
 * storage with the new record, for objects in KV (small) and in files (large) alike.
 */
import { assert, assertEquals, assertRejects } from "../../tests/_helpers/assert.ts";
import { putText, quiet, type Storage, withStorage } from "../../tests/_helpers/storage.ts";
import { openStorage } from "./backend.ts";
import { TENANT_STAT_META } from "./meta/keys.ts";
import { INLINE_MAX } from "./objects/objects.ts";
import type { BucketRecord } from "./types.ts";

const text = async (body: ReadableStream<Uint8Array> | null) =>
  body ? await new Response(body).text() : null;

/** Reads `key` through readObject, overwriting it with `next` before the first open. */
async function readRacingOverwrite(s: Storage, b: BucketRecord, key: string, next: string) {
  const seen: string[] = [];
  const got = await s.backend.readObject(b, key, null, async (rec, open) => {
    seen.push(rec.etag);
    if (seen.length === 1) await putText(s, b, key, next);
    return { rec, body: await text(await open()) };
  });
  return { ...got, seen };
}

Deno.test("backend reads: an overwrite between record and bytes is read again, small and large", async () => {
  await withStorage("maxiofs-backend-", async (s) => {
    const b = await s.backend.createBucket({ ns: "", name: "reads", ownerId: "o", region: "r" });
    for (const size of [10, INLINE_MAX + 1]) {
      const key = `k${size}`;
      await putText(s, b, key, "a".repeat(size));
      const got = await readRacingOverwrite(s, b, key, "b".repeat(size));
      // The first record's bytes were gone once the overwrite committed: the new ones are read.
      assertEquals(got.seen.length, 2, `size ${size}`);
      assertEquals(got.body, "b".repeat(size));
      assertEquals(got.rec.etag, got.seen[1]);
    }
  });
});

Deno.test("backend reads: getObject judges each record read, opens its range, or nothing", async () => {
  await withStorage("maxiofs-backend-", async (s) => {
    const b = await s.backend.createBucket({ ns: "", name: "ranges", ownerId: "o", region: "r" });
    await putText(s, b, "k", "0123456789");
    const part = await s.backend.getObject(b, "k", { range: () => ({ start: 2, end: 4 }) });
    assertEquals(await text(part.body), "234");
    const head = await s.backend.getObject(b, "k", { range: () => false });
    assertEquals([head.rec.size, head.body], [10, null]);
    assertEquals(await text((await s.backend.getObject(b, "k")).body), "0123456789");
    // A refusal from the judge (a failed precondition) is the read's answer.
    await assertRejects(() =>
      s.backend.getObject(b, "k", {
        range: () => {
          throw new Error("precondition");
        },
      })
    );
    await assertRejects(() => s.backend.getObject(b, "missing"));
  });
});

Deno.test("backend: listAllBuckets lists every namespace's buckets", async () => {
  await withStorage("maxiofs-backend-", async (s) => {
    for (const [ns, name] of [["", "global-one"], ["t1", "tenant-one"], ["t2", "tenant-two"]]) {
      await s.backend.createBucket({ ns, name, ownerId: "o", region: "r" });
    }
    const all = await s.backend.listAllBuckets();
    assertEquals(all.map((x) => `${x.ns}/${x.name}`).sort(), [
      "/global-one",
      "t1/tenant-one",
      "t2/tenant-two",
    ]);
    assert(all.every((x) => x.id.length > 0));
  });
});

Deno.test("openStorage: a failure while opening closes what it opened and unlocks the dir", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-open-fail-" });
  try {
    // A bucket entry that is no bucket record, met when the tenant counters are first computed.
    const s = await openStorage({ dataDir: dir, log: quiet });
    await s.core.meta.set(["bucket", "", "broken"], 5);
    await s.core.meta.delete(TENANT_STAT_META);
    await s.close();
    await assertRejects(() => openStorage({ dataDir: dir, log: quiet }));
    // Nothing of the failed open is left: the KV file and the data dir lock are free again.
    const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
    await kv.delete(["bucket", "", "broken"]);
    kv.close();
    const again = await openStorage({ dataDir: dir, log: quiet });
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
