/**
 * The in-memory listing copy equals the KV listing, for every parameter combination, after a
 * load that races many writes, deletes, tag updates and versioning changes.
 */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { rng } from "../../../tests/_helpers/rng.ts";
import { storedVersions } from "../../../tests/_helpers/versions.ts";
import { listInput, type Storage, withStorage } from "../../../tests/_helpers/storage.ts";
import { listObjects } from "./listing.ts";
import type { BucketRecord } from "../types.ts";

type Opened = Storage;

function put(s: Opened, b: BucketRecord, key: string, n: number) {
  const body = new Uint8Array(n).fill(key.length % 251);
  return s.backend.putObject(b, {
    key,
    body: new Blob([body]).stream(),
    contentLength: n,
    content: {},
    meta: {},
    ownerId: "o",
  });
}

/** Every page of every parameter set, from the copy and from KV, must be identical. */
async function compareAll(s: Opened, b: BucketRecord, keys: string[]) {
  assert(s.core.meta.listMemory.has(b.id), "the copy is loaded");
  const sorted = [...keys].sort();
  const afters = ["", "a", "d/", sorted[Math.floor(sorted.length / 3)] ?? "", "zzz", "\u{E000}"];
  for (const prefix of ["", "d/", "d/1", "e", "nope/"]) {
    for (const delimiter of ["", "/", "1"]) {
      for (const maxKeys of [1, 7, 1000]) {
        for (const after of afters) {
          // Walk all pages like a client does.
          let a = after;
          for (let pages = 0; pages < 4000; pages++) {
            const i = listInput({ prefix, delimiter, after: a, maxKeys });
            const { stamp: _, ...mem } = await s.backend.listObjects(b, i);
            const kv = await listObjects(s.core, b.id, i);
            assertEquals(
              JSON.stringify(mem),
              JSON.stringify(kv),
              `prefix=${prefix} delimiter=${delimiter} maxKeys=${maxKeys} after=${a}`,
            );
            if (!mem.truncated || mem.last === null) break;
            a = mem.last;
            if (maxKeys === 1 && pages > 40) break; // enough pages for the 1-key case
          }
        }
      }
    }
  }
}

Deno.test("listing copy: a load racing writes, deletes, tags and versioning equals KV", async () => {
  await withStorage("maxiofs-list-memory-load-", async (s) => {
    let b = await s.backend.createBucket({
      ns: "",
      name: "list-memory-load",
      ownerId: "o",
      region: "us-east-1",
    });
    const keys = new Set<string>();
    // Enough entries that the scan takes several KV batches.
    const initial = Array.from({ length: 2600 }, (_, i) => `d/${i % 13}/k${i}`);
    for (let i = 0; i < initial.length; i += 100) {
      await Promise.all(initial.slice(i, i + 100).map((k) => put(s, b, k, k.length)));
    }
    initial.forEach((k) => keys.add(k));
    const r = rng(7);
    const churn = async (n: number) => {
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) {
        const pick = r(10);
        const k = pick < 4
          ? `d/${r(13)}/k${r(3000)}`
          : pick < 6
          ? `e/${r(50)}`
          : `\u{1F600}${r(5)}`;
        const op = r(5);
        if (op < 3) {
          keys.add(k);
          work.push(put(s, b, k, r(2) ? 10 : 20_000));
        } else if (op === 3) {
          keys.delete(k);
          work.push(s.backend.deleteObject(b, k));
        } else {
          work.push(
            s.backend.updateObjectVersion(b, k, undefined, (rec) => ({ ...rec, tags: { i: "1" } }))
              .catch(() => {}),
          );
        }
      }
      await Promise.all(work);
    };
    const mem = s.core.meta.listMemory;
    assert(!mem.has(b.id));
    // The first LIST starts the load; writes race it.
    await s.backend.listObjects(b, listInput());
    await Promise.all([churn(300), mem.idle()]);
    await mem.idle();
    if (!mem.has(b.id)) {
      // The load may have been aborted by an unknown outcome; load again.
      await mem.load(b.id);
    }
    await churn(200);
    await compareAll(s, b, [...keys]);

    // Versioning on: deletes leave markers (entries vanish), versions by id restore them.
    b = await s.backend.updateBucket(b, (x) => ({ ...x, versioning: "Enabled" }));
    const v1 = await put(s, b, "e/v", 10);
    await put(s, b, "e/v", 11);
    const marker = await s.backend.deleteObject(b, "e/v");
    await compareAll(s, b, [...keys]);
    await s.backend.deleteObject(b, "e/v", { versionId: marker!.versionId });
    await compareAll(s, b, [...keys]);
    b = await s.backend.updateBucket(b, (x) => ({ ...x, versioning: "Suspended" }));
    await Promise.all([churn(150), put(s, b, "e/v", 12)]);
    await s.backend.deleteObject(b, "e/v", { versionId: v1.versionId });
    await compareAll(s, b, [...keys]);

    // The counters, summed by merged commits under all that concurrency, match the versions.
    let objects = 0;
    let bytes = 0;
    for await (
      const e of storedVersions<{ deleteMarker?: boolean; size: number }>(s.core.meta.reader, b.id)
    ) {
      if (e.value.deleteMarker) continue;
      objects++;
      bytes += e.value.size;
    }
    assertEquals(await s.backend.bucketStats(b.id), { objects, bytes });
  }, { hotCacheBytes: 1 << 20 });
});
