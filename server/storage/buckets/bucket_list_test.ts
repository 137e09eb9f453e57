import { assertEquals } from "../../../tests/_helpers/assert.ts";
import { BucketListMemory, COPY_BYTES, entryBytes, listedBucket, pageOf } from "./bucket_list.ts";
import type { BucketRecord, ListBucketsInput, ListedBucket } from "../types.ts";

function record(ns: string, name: string, ownerId = "o", region = "us-east-1"): BucketRecord {
  return {
    v: 1,
    id: `id-${name}`,
    name,
    ns,
    created: 1_700_000_000_000,
    ownerId,
    region,
    versioning: "Unversioned",
    objectLock: false,
  };
}

/**
 * A KV stand-in holding bucket records by namespace; counts `list` calls, and while `gate` is set
 * each listing waits for it before yielding anything.
 */
class FakeKv {
  lists = 0;
  gate: Promise<void> | null = null;
  constructor(readonly records: Map<string, BucketRecord[]>) {}

  list<T>(selector: Deno.KvListSelector): Deno.KvListIterator<T> {
    this.lists++;
    const ns = ("prefix" in selector ? selector.prefix : [])[1] as string;
    const start = ("start" in selector ? selector.start?.[2] : undefined) as string | undefined;
    const recs = [...(this.records.get(ns) ?? [])]
      .filter((r) => start === undefined || r.name >= start)
      .sort((a, b) => a.name < b.name ? -1 : 1);
    const gate = this.gate;
    async function* gen() {
      if (gate) await gate;
      for (const r of recs) {
        yield { key: ["bucket", ns, r.name], value: r, versionstamp: "0" };
      }
    }
    return gen() as unknown as Deno.KvListIterator<T>;
  }
}

const all: ListBucketsInput = { prefix: "", limit: Infinity };
/** A bound no test here reaches. */
const LARGE = 1 << 20;
/** What the copy of `recs` costs. */
const costOf = (...recs: BucketRecord[]) =>
  COPY_BYTES + recs.reduce((n, r) => n + entryBytes(listedBucket(r)), 0);
const names = (bs: ListedBucket[]) => bs.map((b) => b.name).join(",");

Deno.test("pageOf: start, prefix, filters and truncation over a sorted list", () => {
  const entries = ["a", "ab", "abc", "b", "ba"].map((n) =>
    listedBucket(record("", n, n === "ab" ? "x" : "o"))
  );
  assertEquals(names(pageOf(entries, all).buckets), "a,ab,abc,b,ba");
  assertEquals(pageOf(entries, { prefix: "ab", limit: 1 }).truncated, true);
  assertEquals(names(pageOf(entries, { prefix: "a", after: "ab", limit: 5 }).buckets), "abc");
  assertEquals(names(pageOf(entries, { prefix: "a", ownerId: "o", limit: 2 }).buckets), "a,abc");
  assertEquals(pageOf(entries, { prefix: "a", ownerId: "o", limit: 2 }).truncated, false);
  assertEquals(names(pageOf(entries, { prefix: "", after: "zz", limit: 5 }).buckets), "");
  assertEquals(names(pageOf([], all).buckets), "");
});

Deno.test("bucket list: read once per namespace, shared by concurrent first pages", async () => {
  const kv = new FakeKv(new Map([["", [record("", "b"), record("", "a")]], ["t", []]]));
  const mem = new BucketListMemory(kv, LARGE);
  let open!: () => void;
  kv.gate = new Promise((r) => open = r);
  const pages = [mem.page("", all), mem.page("", { prefix: "b", limit: 1 })];
  kv.gate = null;
  open();
  const [p1, p2] = await Promise.all(pages);
  assertEquals([names(p1.buckets), names(p2.buckets)], ["a,b", "b"]);
  assertEquals(kv.lists, 1);
  await mem.page("", all);
  assertEquals(kv.lists, 1, "later pages come from memory");
  assertEquals((await mem.page("t", all)).buckets, []);
  assertEquals(kv.lists, 2);
  assertEquals(mem.bytes, costOf(record("", "a"), record("", "b")) + costOf());
});

Deno.test("bucket list: changes are applied in place; an unknown outcome drops the copy", async () => {
  const recs = [record("", "b")];
  const kv = new FakeKv(new Map([["", recs]]));
  const mem = new BucketListMemory(kv, LARGE);
  await mem.page("", all);
  mem.applied("", "c", listedBucket(record("", "c")));
  mem.applied("", "a", listedBucket(record("", "a")));
  mem.applied("", "b", listedBucket(record("", "b", "new-owner")));
  mem.applied("", "zz", null);
  const p = await mem.page("", all);
  assertEquals(names(p.buckets), "a,b,c");
  assertEquals(p.buckets[1].ownerId, "new-owner");
  mem.applied("", "a", null);
  assertEquals(names((await mem.page("", all)).buckets), "b,c");
  assertEquals(kv.lists, 1);
  assertEquals(mem.bytes, costOf(record("", "b", "new-owner"), record("", "c")));
  // Changes to a namespace that is not held leave nothing behind.
  mem.applied("other", "x", listedBucket(record("other", "x")));
  assertEquals(mem.has("other"), false);
  mem.forget("");
  assertEquals([mem.has(""), mem.bytes], [false, 0]);
  assertEquals(names((await mem.page("", all)).buckets), "b", "read again from KV");
  assertEquals(kv.lists, 2);
});

Deno.test("bucket list: a read that overlaps a change answers but is not kept", async () => {
  const kv = new FakeKv(new Map([["", [record("", "a")]]]));
  const mem = new BucketListMemory(kv, LARGE);
  let open!: () => void;
  kv.gate = new Promise((r) => open = r);
  const page = mem.page("", all);
  kv.gate = null;
  // Committed while the read was in flight: the read may or may not have seen it.
  kv.records.get("")!.push(record("", "b"));
  mem.applied("", "b", listedBucket(record("", "b")));
  open();
  assertEquals(names((await page).buckets), "a", "what the read saw");
  assertEquals(mem.has(""), false);
  assertEquals(names((await mem.page("", all)).buckets), "a,b");
  assertEquals([mem.has(""), kv.lists], [true, 2]);
});

Deno.test("bucket list: bounded; least recently listed namespaces go first", async () => {
  const ns = (n: string, count: number) =>
    [n, Array.from({ length: count }, (_, i) => record(n, `${n}-${i}`))] as const;
  const kv = new FakeKv(new Map([ns("a", 3), ns("b", 3), ns("c", 3), ns("z", 6)]));
  // Room for one namespace's copy of five buckets (every name here costs the same).
  const per = entryBytes(listedBucket(record("a", "a-0")));
  const mem = new BucketListMemory(kv, COPY_BYTES + 5 * per);
  await mem.page("a", all);
  assertEquals(mem.bytes, COPY_BYTES + 3 * per);
  await mem.page("b", all);
  assertEquals([mem.has("a"), mem.has("b"), mem.bytes], [false, true, COPY_BYTES + 3 * per]);
  // Growing past the bound evicts the others, then the namespace itself.
  mem.applied("b", "b-3", listedBucket(record("b", "b-3")));
  mem.applied("b", "b-4", listedBucket(record("b", "b-4")));
  assertEquals([mem.has("b"), mem.bytes], [true, COPY_BYTES + 5 * per]);
  mem.applied("b", "b-5", listedBucket(record("b", "b-5")));
  assertEquals([mem.has("b"), mem.bytes], [false, 0]);
  // A namespace larger than the bound is paged from KV every time.
  const lists = kv.lists;
  const p = await mem.page("z", { prefix: "", after: "z-1", limit: 2 });
  assertEquals([names(p.buckets), p.truncated], ["z-2,z-3", true]);
  assertEquals(kv.lists, lists + 2, "one read found it too large, one read the page");
  await mem.page("z", all);
  assertEquals([mem.has("z"), kv.lists], [false, lists + 3], "then pages read KV only");
  // Once one of its buckets goes it may fit: the next page tries to read it whole again.
  kv.records.set("z", kv.records.get("z")!.slice(0, 5));
  mem.applied("z", "z-5", null);
  assertEquals(names((await mem.page("z", all)).buckets), "z-0,z-1,z-2,z-3,z-4");
  assertEquals([mem.has("z"), kv.lists], [true, lists + 4]);
});

Deno.test("bucket list: a bound of 0 keeps nothing", async () => {
  const kv = new FakeKv(new Map([["", [record("", "a"), record("", "b")]]]));
  const mem = new BucketListMemory(kv, 0);
  assertEquals(names((await mem.page("", { prefix: "", after: "a", limit: 5 })).buckets), "b");
  assertEquals(names((await mem.page("", all)).buckets), "a,b");
  assertEquals([mem.has(""), mem.bytes, kv.lists], [false, 0, 2]);
});
