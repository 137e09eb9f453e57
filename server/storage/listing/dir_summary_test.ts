import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import {
  listInput,
  plainRecord,
  putText,
  quiet,
  type Storage,
  TRICKY_KEYS,
  withStorage,
} from "../../../tests/_helpers/storage.ts";
import { rng } from "../../../tests/_helpers/rng.ts";
import { listObjects } from "./listing.ts";
import { ListMemory } from "./list_memory.ts";
import type { BucketRecord, ListObjectsInput } from "../types.ts";

/** A bucket over the copy's bound (5 entries), so its listing gets a directory summary. */
function withBigBucket(fn: (s: Storage, b: BucketRecord) => Promise<void>) {
  return withStorage("maxiofs-dirsum-", async (s) => {
    const b = await s.backend.createBucket({ ns: "", name: "dirs", ownerId: "o", region: "r" });
    await fn(s, b);
  }, { listCacheEntries: 5 });
}

/** Every page, walked as a client does, from the summary and from KV, must be identical. */
async function compareAll(s: Storage, b: BucketRecord, prefixes: string[]): Promise<number> {
  let compared = 0;
  for (const prefix of prefixes) {
    for (const after of ["", "a", "a/b", "dir/x/", "many/010", "z/", "\u{e000}", "zz"]) {
      for (const maxKeys of [0, 1, 3, 1000]) {
        let a = after;
        for (let pages = 0; pages < 60; pages++) {
          const i: ListObjectsInput = listInput({ prefix, delimiter: "/", after: a, maxKeys });
          const fromSummary = await s.core.meta.listMemory.list(b.id, i);
          assert(fromSummary, `the summary answers ${JSON.stringify(i)}`);
          const fromKv = await listObjects(s.core, b.id, i);
          assertEquals(
            JSON.stringify(await fromSummary),
            JSON.stringify(fromKv),
            JSON.stringify(i),
          );
          compared++;
          if (!fromKv.truncated || fromKv.last === null) break;
          a = fromKv.last;
        }
      }
    }
  }
  return compared;
}

const listed = (key: string) => {
  const { size, etag, lastModified, storageClass, ownerId } = plainRecord(key);
  return { key, size, etag, lastModified, storageClass, ownerId };
};

const PREFIXES = ["", "a/", "a//", "dir/", "dir/x/", "many/", "z/", "z//", "/", "é/", "nope/"];

Deno.test("directory summary: delimiter=/ pages equal KV's, before and after deletes", async () => {
  await withBigBucket(async (s, b) => {
    const keys = [...TRICKY_KEYS, "a/", "/lead", "//double", "\u{e000}k/1", "\u{1f600}k/1"];
    for (let i = 0; i < 40; i++) keys.push(`many/${String(i).padStart(3, "0")}/k`);
    for (let i = 0; i < 5; i++) keys.push(`many/${String(i).padStart(3, "0")}`);
    for (const k of keys) await putText(s, b, k, k);
    const mem = s.core.meta.listMemory;
    await s.backend.listObjects(b, listInput());
    await mem.idle();
    assert(!mem.has(b.id), "too many objects for a copy");
    const summary = mem.summary(b.id);
    assert(summary, "the first LIST loads the summary");
    assert(await compareAll(s, b, PREFIXES) > 500);

    // Deletes empty whole directories (only the summary's check can tell); puts make new ones.
    for (const k of ["dir/x/1", "dir/x/2", "a/b/c", "many/007/k", "z//", "//double"]) {
      await s.backend.deleteObject(b, k);
    }
    await putText(s, b, "dir/new/1", "v");
    await putText(s, b, "many/007/k2", "v");
    await compareAll(s, b, PREFIXES);
    assertEquals(summary.childrenOf("dir/"), ["dir/new/", "dir/y/"], "dir/x/ was forgotten");
    assertEquals(summary.childrenOf("a/"), ["a//"], "a/b/ was forgotten");
    assert(summary.childrenOf("many/").includes("many/007/"), "many/007/ holds a key again");
  });
});

Deno.test("directory summary: a page of directories reads nothing from KV", async () => {
  await withBigBucket(async (s, b) => {
    for (let i = 0; i < 30; i++) await putText(s, b, `d${String(i).padStart(2, "0")}/k`, "v");
    await s.backend.listObjects(b, listInput());
    await s.core.meta.listMemory.idle();
    assert(s.core.meta.listMemory.summary(b.id));
    const before = s.core.meta.reads.list;
    const page = await s.backend.listObjects(b, listInput({ delimiter: "/" }));
    assertEquals(page.commonPrefixes.length, 30);
    assertEquals(s.core.meta.reads.list, before, "no KV list for 30 prefixes");
    // A delete makes its directory uncertain: one KV read checks it.
    await s.backend.deleteObject(b, "d05/k");
    const after = await s.backend.listObjects(b, listInput({ delimiter: "/" }));
    assertEquals(after.commonPrefixes.length, 29);
    assertEquals(s.core.meta.reads.list, before + 1);
    // Other listings of the bucket go to KV.
    assertEquals(s.core.meta.listMemory.list(b.id, listInput({ delimiter: "x" })), null);
  });
});

Deno.test("directory summary: a bucket over the directory bound is listed from KV", async () => {
  await withBigBucket(async (s, b) => {
    for (let i = 0; i < 12; i++) await putText(s, b, `d${i}/k`, "v");
    const limits = { maxEntries: 5, maxBucketEntries: 5, maxDirs: 10 };
    const over = new ListMemory(s.core.meta, quiet, limits);
    await over.load(b.id);
    assertEquals(over.summary(b.id), undefined, "12 directories > 10");
    const lists = s.core.meta.reads.list;
    await over.load(b.id);
    assertEquals(over.summary(b.id), undefined);
    assertEquals(s.core.meta.reads.list, lists, "and it is not scanned again");

    const fits = new ListMemory(s.core.meta, quiet, { ...limits, maxDirs: 13 });
    await fits.load(b.id);
    assertEquals(fits.summary(b.id)?.dirs, 12);
    fits.committed(b.id, [{ key: "new/k", entry: null }]); // a delete adds nothing
    assertEquals(fits.summary(b.id)?.dirs, 12);
    fits.committed(b.id, [{
      key: "new/k",
      entry: listed("new/k"),
    }]);
    assertEquals(fits.summary(b.id)?.dirs, 13);
    fits.committed(b.id, [{
      key: "x/y/k",
      entry: listed("x/y/k"),
    }]);
    assertEquals(fits.summary(b.id), undefined, "15 directories > 13: dropped");
    assertEquals(fits.list(b.id, listInput({ delimiter: "/" })), null);

    // Summaries of several buckets share the bound: the least recently listed goes first.
    const b2 = await s.backend.createBucket({ ns: "", name: "dirs2", ownerId: "o", region: "r" });
    for (let i = 0; i < 6; i++) await putText(s, b2, `e${i}/k`, "v");
    const shared = new ListMemory(s.core.meta, quiet, { ...limits, maxDirs: 13 });
    await shared.load(b2.id);
    await shared.load(b.id);
    assertEquals(shared.summary(b2.id), undefined, "6 + 12 directories > 13: the older goes");
    assertEquals(shared.summary(b.id)?.dirs, 12);
  });
});

Deno.test("directory summary: a load racing puts and deletes equals KV", async () => {
  await withBigBucket(async (s, b) => {
    const initial = Array.from({ length: 2600 }, (_, i) => `d/${i % 13}/k${i}`);
    for (let i = 0; i < initial.length; i += 100) {
      await Promise.all(initial.slice(i, i + 100).map((k) => putText(s, b, k, "v")));
    }
    const r = rng(11);
    const churn = (n: number) =>
      Promise.all(Array.from({ length: n }, () => {
        const k = r(3) ? `d/${r(15)}/k${r(3000)}` : `e/${r(4)}/${r(3)}`;
        return r(3) ? s.backend.deleteObject(b, k) : putText(s, b, k, "v");
      }));
    // Empty whole directories while the scan runs: d/0/ .. d/12/ hold 200 keys each.
    const emptied = initial.filter((k) => k.startsWith("d/3/") || k.startsWith("d/11/"));
    const mem = s.core.meta.listMemory;
    await Promise.all([
      mem.load(b.id),
      churn(300),
      ...emptied.map((k) => s.backend.deleteObject(b, k)),
    ]);
    assert(mem.summary(b.id), "loaded");
    await churn(100);
    await compareAll(s, b, ["", "d/", "e/", "d/3/", "e/1/"]);
  });
});

Deno.test("directory summary: deletes committed mid-scan are replayed; an unknown outcome aborts", async () => {
  const enc = new TextEncoder();
  const value = enc.encode(JSON.stringify([1, 1, '"e"', 0, "STANDARD", "o"]));
  const stored = new Set(["a/1", "b/1", "c/1", "d/1", "d/2"]);
  const at = (k: Deno.KvKey) => k[2] as string;
  // A ListMemory over a KV of `stored` whose full scan stops after two keys: `paused` resolves
  // there, and the scan goes on when `resume` is called.
  const pausedLoad = () => {
    let resume!: () => void;
    let reached!: () => void;
    const gate = new Promise<void>((r) => resume = r);
    const paused = new Promise<void>((r) => reached = r);
    const kv = {
      get: () => Promise.resolve({ key: [], value: new Deno.KvU64(99n), versionstamp: "1" }),
      list: async function* (sel: { start?: Deno.KvKey; end?: Deno.KvKey }) {
        const keys = [...stored].sort().filter((k) =>
          (!sel.start || k >= at(sel.start)) && (!sel.end || k < at(sel.end))
        );
        for (const [i, k] of keys.entries()) {
          if (i === 2 && !sel.start) {
            reached();
            await gate;
          }
          yield { key: ["objl", "B", k], value, versionstamp: "1" };
        }
      },
    } as unknown as Deno.Kv;
    const mem = new ListMemory(kv, quiet, { maxEntries: 1, maxBucketEntries: 1, maxDirs: 100 });
    return { mem, loading: mem.load("B"), paused, resume };
  };

  const { mem, loading, paused, resume } = pausedLoad();
  await paused;
  // a/ and b/ were scanned already; both lose their only key, and e/ is new.
  stored.delete("a/1");
  stored.delete("b/1");
  stored.add("e/1");
  mem.committed("B", [
    { key: "a/1", entry: null },
    { key: "b/1", entry: null },
    { key: "e/1", entry: listed("e/1") },
  ]);
  resume();
  await loading;
  const page = await mem.list("B", listInput({ delimiter: "/" }));
  assertEquals(page?.commonPrefixes, ["c/", "d/", "e/"]);
  assertEquals(mem.summary("B")?.childrenOf(""), ["c/", "d/", "e/"]);

  const second = pausedLoad();
  await second.paused;
  second.mem.drop("B"); // a commit threw: its outcome is unknown
  second.resume();
  await second.loading;
  assertEquals(
    second.mem.summary("B"),
    undefined,
    "a load that saw an unknown outcome is discarded",
  );
});
