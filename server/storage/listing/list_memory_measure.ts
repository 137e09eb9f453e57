/**
 * The in-memory listing copy's structure at scale: `SortedChunks` against the one sorted array it
 * replaced, in the same run (alternating), and the heap one listing entry costs.
 *
 *   deno run -A --v8-flags=--expose-gc server/storage/listing/list_memory_measure.ts [--sizes 10000,100000,250000]
 *
 * Last, the directory summary that stands in for a copy of larger buckets: heap per directory.
 *
 * Keys are bench:scale's (`d123/obj00012345`); a copy of N holds the even key numbers and the
 * changes add odd ones at random (new keys, the case that splices) and delete them again.
 */
import { compareUtf8 } from "./listing.ts";
import { SortedChunks } from "./sorted_chunks.ts";
import { EntryDecoder } from "./list_memory.ts";
import { DirSummary } from "./dir_summary.ts";
import { decodeListEntry, listEntry } from "./list_index.ts";
import type { ListedObject, ObjectRecord } from "../types.ts";
import { rng } from "../../../tests/_helpers/rng.ts";

const keyOf = (n: number) =>
  `d${String(n % 1000).padStart(3, "0")}/obj${String(n).padStart(8, "0")}`;

/** The structure before: one sorted array, a splice per new or deleted key. */
class SortedArray {
  entries: ListedObject[] = [];
  #from(start: string, inclusive: boolean): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareUtf8(this.entries[mid].key, start);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  append(e: ListedObject) {
    this.entries.push(e);
  }
  set(e: ListedObject) {
    const i = this.#from(e.key, true);
    if (this.entries[i]?.key === e.key) this.entries[i] = e;
    else this.entries.splice(i, 0, e);
  }
  delete(key: string) {
    const i = this.#from(key, true);
    if (this.entries[i]?.key === key) this.entries.splice(i, 1);
  }
  slice(start: string, inclusive: boolean, limit: number) {
    const i = this.#from(start, inclusive);
    return this.entries.slice(i, i + limit);
  }
}

interface Copy {
  append(e: ListedObject): void;
  set(e: ListedObject): unknown;
  delete(key: string): unknown;
  slice(start: string, inclusive: boolean, limit: number): ListedObject[];
}

const record = (key: string): ObjectRecord =>
  ({
    key,
    size: 1024,
    etag: '"0f343b0931126a20f133d67c2b018a3b"',
    lastModified: 1_796_000_000_000 + key.length,
    storageClass: "STANDARD",
    ownerId: "AKIAEXAMPLEOWNER0001",
  }) as ObjectRecord;

/** Entries as a load decodes them from KV (`shared`: through the decoder a load uses). */
function entry(n: number, decoder: EntryDecoder | null = shared): ListedObject {
  const key = keyOf(n);
  const bytes = listEntry(record(key));
  return decoder ? decoder.decode(key, bytes) : Object.freeze(decodeListEntry(key, bytes));
}

const shared = new EntryDecoder();

/** The even key numbers below 2n, in listing order (as a load reads them). */
function sortedEven(n: number): number[] {
  const ns = Array.from({ length: n }, (_, i) => 2 * i);
  return ns.sort((a, b) => compareUtf8(keyOf(a), keyOf(b)));
}

function build(make: () => Copy, order: number[], decoder: EntryDecoder | null = shared): Copy {
  const c = make();
  for (const i of order) c.append(entry(i, decoder));
  return c;
}

/** Changes per second: `changes` new keys at random, then the same keys deleted. */
function changes(c: Copy, n: number, count: number, seed: number): { set: number; del: number } {
  const r = rng(seed);
  const news = Array.from({ length: count }, () => entry(2 * r(n) + 1));
  let t = performance.now();
  for (const e of news) c.set(e);
  const set = count / ((performance.now() - t) / 1000);
  t = performance.now();
  for (const e of news) c.delete(e.key);
  return { set, del: count / ((performance.now() - t) / 1000) };
}

/** Pages of 1000 (as ListObjectsV2 reads them: 1001 from a key) per second. */
function pages(c: Copy, n: number, count: number, seed: number): number {
  const r = rng(seed);
  const t = performance.now();
  let got = 0;
  for (let i = 0; i < count; i++) got += c.slice(keyOf(2 * r(n)), false, 1001).length;
  if (!got) throw new Error("no entries read");
  return count / ((performance.now() - t) / 1000);
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Heap bytes per entry of a copy of `n` (needs --expose-gc). */
function heapPerEntry(
  make: () => Copy,
  order: number[],
  decoder: EntryDecoder | null = shared,
): number {
  if (!gc) return NaN;
  const n = order.length;
  gc();
  const before = Deno.memoryUsage().heapUsed;
  const c = build(make, order, decoder);
  gc();
  const after = Deno.memoryUsage().heapUsed;
  if (!c.slice("", true, 1).length) throw new Error("empty copy");
  return (after - before) / n;
}

const arg = Deno.args.indexOf("--sizes");
const sizes = arg >= 0
  ? Deno.args[arg + 1].split(",").map(Number)
  : [10_000, 100_000, 250_000, 1_000_000];
const variants: [string, () => Copy][] = [
  ["sorted array", () => new SortedArray()],
  ["SortedChunks", () => new SortedChunks<ListedObject>()],
];

console.log(
  `list_memory_measure ${new Date().toISOString()} deno ${Deno.version.deno} ` +
    `load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
);
console.log(
  "entries    structure        new keys/s   deletes/s   pages of 1000/s   heap B/entry",
);
for (const n of sizes) {
  const order = sortedEven(n);
  const copies = variants.map(([, make]) => build(make, order));
  const figures = variants.map(() => ({
    set: [] as number[],
    del: [] as number[],
    page: [] as number[],
  }));
  // Alternate the variants over rounds, so load on the machine falls on both alike.
  for (let round = 0; round < 5; round++) {
    variants.forEach((_, v) => {
      const ch = changes(copies[v], n, 2000, 100 + round);
      figures[v].set.push(ch.set);
      figures[v].del.push(ch.del);
      figures[v].page.push(pages(copies[v], n, 200, 200 + round));
    });
  }
  copies.length = 0;
  variants.forEach(([name, make], v) => {
    const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
    const f = figures[v];
    console.log(
      `${String(n).padStart(9)}  ${name.padEnd(14)} ${med(f.set).toFixed(0).padStart(12)} ` +
        `${med(f.del).toFixed(0).padStart(11)} ${med(f.page).toFixed(0).padStart(17)} ` +
        `${heapPerEntry(make, order).toFixed(0).padStart(14)}`,
    );
  });
}
{
  const order = sortedEven(Math.min(200_000, sizes[0]));
  const make = () => new SortedChunks<ListedObject>();
  console.log(
    `heap B/entry of ${order.length} entries in SortedChunks: each entry's own strings ` +
      `${heapPerEntry(make, order, null).toFixed(0)}, storage class and owner shared ` +
      `${heapPerEntry(make, order).toFixed(0)}`,
  );
}

// The directory summary: heap per directory, and keys noted per second (a load notes every key).
{
  const keys = 1_000_000;
  gc?.();
  const before = Deno.memoryUsage().heapUsed;
  const summary = new DirSummary();
  const t = performance.now();
  // Keys made as they are noted: a load reads each from KV and keeps only its directories.
  for (let i = 0; i < keys; i++) summary.add(`t${i % 100}/d${i % 100_000}/k${i}`);
  const rate = keys / ((performance.now() - t) / 1000);
  gc?.();
  const perDir = (Deno.memoryUsage().heapUsed - before) / summary.dirs;
  console.log(
    `directory summary: ${summary.dirs} directories over ${keys} keys, ` +
      `${perDir.toFixed(0)} heap B/directory, ${rate.toFixed(0)} keys noted/s`,
  );
}
console.log(`load average at the end ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
