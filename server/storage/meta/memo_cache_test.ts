import assert from "node:assert/strict";
import { deepFreeze, MemoCache } from "./memo_cache.ts";
import { heapBytes, MAP_ENTRY, stringBytes } from "./heap_size.ts";

const MiB = 1024 * 1024;

Deno.test("memo cache: loads once, shares a frozen value, forgets", async () => {
  const c = new MemoCache<{ a: { b: number[] } }>({ maxBytes: MiB });
  let loads = 0;
  const load = () => Promise.resolve({ a: { b: [++loads] } });
  const v1 = await c.get("k", load);
  const v2 = await c.get("k", load);
  assert.equal(v1, v2);
  assert.equal(loads, 1);
  assert.throws(() => v1.a.b.push(2), TypeError);
  c.forget("k");
  assert.equal((await c.get("k", load)).a.b[0], 2);
});

Deno.test("memo cache: a read that overlaps a forget does not store what it read", async () => {
  const c = new MemoCache<string>({ maxBytes: MiB });
  const slow = Promise.withResolvers<string>();
  const reading = c.get("k", () => slow.promise);
  c.forget("k"); // a commit changed the entry while the read was in flight
  slow.resolve("stale");
  assert.equal(await reading, "stale");
  assert.equal(c.has("k"), false);
  assert.equal(await c.get("k", () => Promise.resolve("fresh")), "fresh");
  assert.equal(await c.get("k", () => Promise.resolve("unused")), "fresh");
});

Deno.test("memo cache: keep, put, prefixes and the byte bound", async () => {
  const cost = (id: string, v: string) => MAP_ENTRY + stringBytes(id) + heapBytes(v);
  const c = new MemoCache<string | null>({
    maxBytes: cost("b\n1", "x") * 2,
    keep: (v) => v !== null,
  });
  assert.equal(await c.get("a", () => Promise.resolve(null)), null);
  assert.equal(c.has("a"), false);
  c.put("b\n1", "x");
  c.put("b\n2", "y");
  c.put("c", "z"); // over the bound: the oldest goes
  assert.equal(c.has("b\n1"), false);
  assert.equal(c.size, 2);
  assert.equal(c.bytes, cost("b\n2", "y") + cost("c", "z"));
  c.forgetPrefix("b\n");
  assert.deepEqual([c.has("b\n2"), c.has("c")], [false, true]);
  assert.equal(c.bytes, cost("c", "z"));
});

Deno.test("memo cache: entries are charged by size, so large values leave fewer in the bound", () => {
  const c = new MemoCache<{ meta: Record<string, string> }>({ maxBytes: 64 * 1024 });
  for (let i = 0; i < 1000; i++) c.put(`small${i}`, { meta: {} });
  const small = c.size;
  assert.ok(small > 300 && c.bytes <= 64 * 1024, `${small} small entries, ${c.bytes} bytes`);
  const big = { meta: { note: "x".repeat(2000) } };
  for (let i = 0; i < 1000; i++) c.put(`big${i}`, structuredClone(big));
  assert.ok(c.size < 40, `${c.size} large entries`);
  assert.ok(c.bytes <= 64 * 1024);
  // A value over the whole bound is not kept, and evicts nothing.
  const before = c.size;
  c.put("huge", { meta: { note: "x".repeat(70 * 1024) } });
  assert.equal(c.has("huge"), false);
  assert.equal(c.size, before);
  // Replacing an entry charges its new size once.
  c.put("big999", { meta: {} });
  c.put("big999", { meta: {} });
  assert.ok(c.bytes <= 64 * 1024);
});

Deno.test("memo cache: 0 bytes keeps nothing", async () => {
  const c = new MemoCache<string>({ maxBytes: 0 });
  let loads = 0;
  await c.get("k", () => Promise.resolve(String(++loads)));
  await c.get("k", () => Promise.resolve(String(++loads)));
  assert.equal(loads, 2);
  assert.equal(c.size, 0);
});

Deno.test("deepFreeze leaves bytes writable and freezes what holds them", () => {
  const v = deepFreeze({ bytes: new Uint8Array(2), list: [{ n: 1 }] });
  v.bytes[0] = 7;
  assert.equal(v.bytes[0], 7);
  assert.ok(Object.isFrozen(v) && Object.isFrozen(v.list) && Object.isFrozen(v.list[0]));
});
