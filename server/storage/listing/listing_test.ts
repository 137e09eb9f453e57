import assert from "node:assert/strict";
import {
  compareUtf8,
  type ListingSource,
  listObjects,
  prefixEnd,
  walkWithDelimiter,
} from "./listing.ts";
import { listInput, plainRecord, putText, withStorage } from "../../../tests/_helpers/storage.ts";
import { objectListKey } from "../meta/keys.ts";
import { decodeListEntry, listEntry } from "./list_index.ts";
import type { ListObjectsInput, ObjectRecord } from "../types.ts";

/** Runs the walk over sorted names and counts the seeks and the entries it reads. */
async function walk(names: string[], input: Partial<ListObjectsInput>) {
  const sorted = [...names].sort(compareUtf8);
  const stats = { seeks: 0, reads: 0 };
  const seek = async function* (start: string, inclusive: boolean) {
    stats.seeks++;
    for (const n of sorted) {
      const c = compareUtf8(n, start);
      if (inclusive ? c >= 0 : c > 0) {
        stats.reads++;
        yield await Promise.resolve(n);
      }
    }
  };
  const items: string[] = [];
  const prefixes: string[] = [];
  const r = await walkWithDelimiter(
    listInput(input),
    seek,
    (n) => n,
    (n) => items.push(n),
    (p) => prefixes.push(p),
  );
  return { items, prefixes, ...r, ...stats };
}

const KEYS = ["a", "b/1", "b/2", "b/c/3", "c//d", "c//e", "d-x-y", "d-x-z", "z"];

Deno.test("no delimiter: keys in order, exclusive start, truncation", async () => {
  assert.deepEqual((await walk(KEYS, {})).items, KEYS);
  const page = await walk(KEYS, { maxKeys: 3 });
  assert.deepEqual(page.items, ["a", "b/1", "b/2"]);
  assert.equal(page.truncated, true);
  assert.equal(page.last, "b/2");
  const next = await walk(KEYS, { after: "b/2", maxKeys: 3 });
  assert.deepEqual(next.items, ["b/c/3", "c//d", "c//e"]);
  const exact = await walk(KEYS, { maxKeys: KEYS.length });
  assert.equal(exact.truncated, false);
  const zero = await walk(KEYS, { maxKeys: 0 });
  assert.deepEqual([zero.items, zero.truncated], [[], false]);
});

Deno.test("prefix: only matching keys; a start before the prefix is ignored", async () => {
  assert.deepEqual((await walk(KEYS, { prefix: "b/" })).items, ["b/1", "b/2", "b/c/3"]);
  assert.deepEqual((await walk(KEYS, { prefix: "b/", after: "a" })).items, [
    "b/1",
    "b/2",
    "b/c/3",
  ]);
  assert.deepEqual((await walk(KEYS, { prefix: "b/", after: "c" })).items, []);
  assert.deepEqual((await walk(KEYS, { prefix: "nope" })).items, []);
});

Deno.test("delimiters fold common prefixes, multi-character ones too", async () => {
  const slash = await walk(KEYS, { delimiter: "/" });
  assert.deepEqual(slash.items, ["a", "d-x-y", "d-x-z", "z"]);
  assert.deepEqual(slash.prefixes, ["b/", "c/"]);
  const multi = await walk(KEYS, { delimiter: "-x-" });
  assert.deepEqual(multi.prefixes, ["d-x-"]);
  const double = await walk(KEYS, { delimiter: "//" });
  assert.deepEqual(double.prefixes, ["c//"]);
  const nested = await walk(KEYS, { prefix: "b/", delimiter: "/" });
  assert.deepEqual([nested.items, nested.prefixes], [["b/1", "b/2"], ["b/c/"]]);
});

Deno.test("a common prefix counts once toward max-keys and is the page's last entry", async () => {
  const page = await walk(KEYS, { delimiter: "/", maxKeys: 2 });
  assert.deepEqual([page.items, page.prefixes], [["a"], ["b/"]]);
  assert.equal(page.truncated, true);
  assert.equal(page.last, "b/");
  const next = await walk(KEYS, { delimiter: "/", maxKeys: 2, after: "b/" });
  assert.deepEqual([next.items, next.prefixes], [["d-x-y"], ["c/"]]);
  // A start inside a prefix that was already returned continues after that prefix.
  const inside = await walk(KEYS, { delimiter: "/", after: "b/1" });
  assert.deepEqual([inside.items, inside.prefixes], [["d-x-y", "d-x-z", "z"], ["c/"]]);
});

Deno.test("a common prefix is skipped with one seek, not by reading its keys", async () => {
  const many = ["a", ...Array.from({ length: 500 }, (_, i) => `big/${i}`), "z"];
  const r = await walk(many, { delimiter: "/" });
  assert.deepEqual([r.items, r.prefixes], [["a", "z"], ["big/"]]);
  assert.ok(r.reads < 10, `read ${r.reads} entries`);
  assert.equal(r.seeks, 2);
});

Deno.test("order is UTF-8 byte order, not UTF-16 code unit order", async () => {
  const bmp = "\u{FFFD}"; // sorts before astral characters in UTF-8, after them in UTF-16
  const astral = "\u{1F600}";
  assert.ok(compareUtf8(bmp, astral) < 0);
  assert.ok(compareUtf8("a", "ab") < 0);
  assert.equal(compareUtf8("x", "x"), 0);
  const keys = [`${astral}1`, `${bmp}a`, `${astral}2`, `${bmp}b`];
  assert.deepEqual((await walk(keys, {})).items, [
    `${bmp}a`,
    `${bmp}b`,
    `${astral}1`,
    `${astral}2`,
  ]);
  // A start-after that sorts before the prefix (in UTF-8) must not hide the prefix's keys.
  const r = await walk(keys, { prefix: astral, after: `${bmp}a` });
  assert.deepEqual(r.items, [`${astral}1`, `${astral}2`]);
});

Deno.test("listObjects reads few entries per folded prefix (KV)", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const rec = plainRecord;
    let op = kv.atomic();
    for (let d = 0; d < 50; d++) {
      for (let f = 0; f < 100; f++) {
        const key = `d${String(d).padStart(2, "0")}/f${f}`;
        op.set(objectListKey("B", key), listEntry(rec(key)));
      }
      await op.commit();
      op = kv.atomic();
    }
    // KV fetches entries in batches of `batchSize`: the sum over all list calls bounds the
    // entries it reads and deserializes.
    let fetched = 0;
    const counting = {
      list: <T>(sel: Deno.KvListSelector, opts?: Deno.KvListOptions) => {
        fetched += Math.min(opts?.batchSize ?? 100, opts?.limit ?? Infinity);
        return kv.list<T>(sel, opts);
      },
    };
    const core: ListingSource = { meta: counting };
    const page = await listObjects(core, "B", {
      prefix: "",
      delimiter: "/",
      after: "",
      maxKeys: 1000,
    });
    assert.equal(page.commonPrefixes.length, 50);
    assert.ok(fetched < 50 * 40, `fetched up to ${fetched} entries for 50 prefixes`);
    const flat = await listObjects(core, "B", {
      prefix: "d07/",
      delimiter: "/",
      after: "",
      maxKeys: 1000,
    });
    assert.equal(flat.objects.length, 100);
  } finally {
    kv.close();
  }
});

Deno.test("listing entries round-trip what <Contents> shows", () => {
  const base = {
    v: 1,
    key: 'a/é\t"x',
    versionId: "null",
    blob: "b",
    size: 12345,
    etag: '"0123456789abcdef0123456789abcdef-3"',
    lastModified: 1_700_000_000_123,
    content: { contentType: "text/plain" },
    meta: { m: "v" },
    storageClass: "STANDARD_IA",
    ownerId: "owner-1",
  } as ObjectRecord;
  assert.deepEqual(decodeListEntry(base.key, listEntry(base)), {
    key: base.key,
    size: 12345,
    etag: base.etag,
    lastModified: base.lastModified,
    storageClass: "STANDARD_IA",
    ownerId: "owner-1",
  });
  const withSum = {
    ...base,
    checksum: { algorithm: "CRC32C", value: "AAAAAA==", type: "FULL_OBJECT" },
  } as ObjectRecord;
  assert.deepEqual(decodeListEntry(base.key, listEntry(withSum)).checksum, {
    algorithm: "CRC32C",
    type: "FULL_OBJECT",
  });
});

Deno.test("a page of exactly 1000 keys is complete; 1001 keys truncate (KV)", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const rec = plainRecord;
    const write = async (keys: string[]) => {
      for (let i = 0; i < keys.length; i += 500) {
        const op = kv.atomic();
        for (const k of keys.slice(i, i + 500)) op.set(objectListKey("B", k), listEntry(rec(k)));
        await op.commit();
      }
    };
    const names = (p: string, n: number) =>
      Array.from({ length: n }, (_, i) => `${p}${String(i).padStart(4, "0")}`);
    await write(names("a/", 1000));
    await write(names("b/", 1001));
    await write(["c"]);
    const core: ListingSource = { meta: kv };
    const list = (prefix: string, after = "") =>
      listObjects(core, "B", { prefix, delimiter: "", after, maxKeys: 1000 });
    const a = await list("a/");
    assert.equal(a.objects.length, 1000);
    assert.equal(a.truncated, false);
    const b = await list("b/");
    assert.equal(b.objects.length, 1000);
    assert.equal(b.truncated, true);
    const b2 = await list("b/", b.last!);
    assert.deepEqual(b2.objects.map((o) => o.key), ["b/1000"]);
    assert.equal(b2.truncated, false);
    // Without a prefix the range is the whole bucket.
    const all = await list("", "a/0999");
    assert.equal(all.objects.length, 1000);
    assert.equal(all.truncated, true);
    const rest = await list("", all.last!);
    assert.deepEqual(rest.objects.map((o) => o.key), ["b/1000", "c"]);
    assert.equal(rest.truncated, false);
    const lastThousand = await list("", "b/0000");
    assert.equal(lastThousand.objects.length, 1000);
    assert.equal(lastThousand.truncated, true);
    const tailOnly = await list("", "b/0001");
    assert.equal(tailOnly.objects.length, 1000);
    assert.equal(tailOnly.truncated, false);
  } finally {
    kv.close();
  }
});

Deno.test("prefixEnd: the least string past a prefix's range", () => {
  assert.equal(prefixEnd(""), null);
  assert.equal(prefixEnd("\u{10FFFF}\u{10FFFF}"), null);
  assert.equal(prefixEnd("ab"), "ac");
  assert.equal(prefixEnd("a\u{10FFFF}"), "b");
  assert.equal(prefixEnd("x\u{D7FF}"), "x\u{E000}");
  assert.equal(prefixEnd("x\u{FFFF}"), "x\u{10000}");
  for (const p of ["a", "photos/", "ü", "a\u{10FFFF}", "\u{1F600}"]) {
    const end = prefixEnd(p)!;
    for (const s of [p, p + "\u{10FFFF}", p + "\u{10FFFF}\u{10FFFF}z", p + "\0"]) {
      assert.ok(compareUtf8(s, end) < 0, `${JSON.stringify(s)} < end of ${JSON.stringify(p)}`);
    }
  }
});

Deno.test("a prefix lists keys that go on with U+10FFFF, from KV, from memory and as versions", async () => {
  await withStorage("maxiofs-listing-max-", async (s) => {
    const b = await s.backend.createBucket({
      ns: "",
      name: "maxcp",
      ownerId: "o",
      region: "us-east-1",
    });
    const keys = ["a\u{10FFFF}", "a\u{10FFFF}x", "ab", "b"];
    for (const k of keys) await putText(s, b, k, "v");
    const want = ["ab", "a\u{10FFFF}", "a\u{10FFFF}x"];
    const input = listInput({ prefix: "a" });
    const fromKv = await listObjects(s.core, b.id, input);
    assert.deepEqual(fromKv.objects.map((o) => o.key), want);
    await s.core.meta.listMemory.load(b.id);
    assert.deepEqual((await s.backend.listObjects(b, input)).objects.map((o) => o.key), want);
    const versions = await s.backend.listObjectVersions(b, {
      prefix: "a",
      delimiter: "",
      keyMarker: "",
      versionIdMarker: "",
      maxKeys: 1000,
    });
    assert.deepEqual(versions.versions.map((v) => v.rec.key), want);
    // A prefix that itself ends with U+10FFFF stops before the keys past it.
    const tail = await listObjects(s.core, b.id, { ...input, prefix: "a\u{10FFFF}" });
    assert.deepEqual(tail.objects.map((o) => o.key), ["a\u{10FFFF}", "a\u{10FFFF}x"]);
  });
});
