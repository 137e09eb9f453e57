import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { rng } from "../../../tests/_helpers/rng.ts";
import { compareUtf8 } from "./listing.ts";
import { SortedChunks } from "./sorted_chunks.ts";

interface E {
  key: string;
  v: number;
}

/** The reference: one sorted array, changed by a linear search and a splice. */
class Reference {
  entries: E[] = [];
  #at(key: string): number {
    const i = this.entries.findIndex((e) => compareUtf8(e.key, key) >= 0);
    return i < 0 ? this.entries.length : i;
  }
  set(e: E): boolean {
    const i = this.#at(e.key);
    if (this.entries[i]?.key === e.key) {
      this.entries[i] = e;
      return false;
    }
    this.entries.splice(i, 0, e);
    return true;
  }
  delete(key: string): boolean {
    const i = this.#at(key);
    if (this.entries[i]?.key !== key) return false;
    this.entries.splice(i, 1);
    return true;
  }
  slice(start: string, inclusive: boolean, limit: number): E[] {
    const i = this.entries.findIndex((e) => {
      const c = compareUtf8(e.key, start);
      return c > 0 || (c === 0 && inclusive);
    });
    return i < 0 ? [] : this.entries.slice(i, i + limit);
  }
}

/** Keys over few characters (so they collide), with ones where UTF-16 and UTF-8 order differ. */
function keyOf(r: (n: number) => number): string {
  const alphabet = ["a", "b", "/", "é", "\u{e000}", "\u{1f600}", "z"];
  let k = "";
  for (let n = 1 + r(4); n > 0; n--) k += alphabet[r(alphabet.length)];
  return k;
}

Deno.test("sorted chunks: random sets and deletes match a sorted array, pages included", () => {
  for (const maxChunk of [4, 7, 64]) {
    const r = rng(20 + maxChunk);
    const s = new SortedChunks<E>(maxChunk);
    const ref = new Reference();
    for (let step = 0; step < 6000; step++) {
      const key = keyOf(r);
      // Grow first, then shrink, so chunks both split and merge.
      const del = r(100) < (step < 3000 ? 30 : 70);
      if (del) assertEquals(s.delete(key), ref.delete(key), `delete ${key}`);
      else {
        const e = { key, v: step };
        assertEquals(s.set(e), ref.set(e), `set ${key}`);
      }
      assertEquals(s.size, ref.entries.length);
      if (step % 97 === 0) assertEquals([...s], ref.entries);
      const start = keyOf(r);
      const inclusive = r(2) === 0;
      const limit = 1 + r(12);
      assertEquals(s.slice(start, inclusive, limit), ref.slice(start, inclusive, limit));
      const probe = keyOf(r);
      assertEquals(s.get(probe), ref.entries.find((e) => e.key === probe));
    }
    assertEquals([...s], ref.entries);
  }
});

Deno.test("sorted chunks: deleting most keys merges chunks instead of keeping one per entry", () => {
  const s = new SortedChunks<E>(16);
  const keys = Array.from({ length: 4000 }, (_, i) => `k${String(i).padStart(4, "0")}`);
  const r = rng(3);
  // Random order, so chunks fill by splits.
  for (const i of keys.map((_, i) => i).sort(() => r(3) - 1)) s.set({ key: keys[i], v: i });
  keys.forEach((k, i) => i % 10 && s.delete(k));
  assertEquals([...s].map((e) => e.key), keys.filter((_, i) => i % 10 === 0));
  // No two neighbours are both under a quarter full (4): at most 2 chunks per 4 entries.
  assert(s.chunks <= Math.ceil((2 * s.size) / 4) + 1, `${s.chunks} chunks for ${s.size}`);
});

Deno.test("sorted chunks: append builds from sorted keys and refuses one out of order", () => {
  const s = new SortedChunks<E>(8);
  const keys = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, "0")}`);
  keys.forEach((key, v) => s.append({ key, v }));
  assertEquals([...s].map((e) => e.key), keys);
  assertEquals(s.chunks, 25, "filled to half a chunk");
  assertEquals(s.slice("k050", false, 3).map((e) => e.key), ["k051", "k052", "k053"]);
  assertEquals(s.slice("k099", false, 3), []);
  assertEquals(s.slice("", true, 1).map((e) => e.key), ["k000"]);
  let refused: unknown = null;
  try {
    s.append({ key: "k099", v: 0 });
  } catch (e) {
    refused = e;
  }
  assert(refused instanceof RangeError, "an append out of order is refused");
  assert(s.set({ key: "k0505", v: 1 }));
  assertEquals(s.slice("k050", true, 3).map((e) => e.key), ["k050", "k0505", "k051"]);
  assertEquals(new SortedChunks<E>().slice("a", true, 5), []);
});
