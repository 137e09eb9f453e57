import assert from "node:assert/strict";
import { deepFreeze, MemoCache } from "./memo_cache.ts";

Deno.test("memo cache: loads once, shares a frozen value, forgets", async () => {
  const c = new MemoCache<{ a: { b: number[] } }>();
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
  const c = new MemoCache<string>();
  const slow = Promise.withResolvers<string>();
  const reading = c.get("k", () => slow.promise);
  c.forget("k"); // a commit changed the entry while the read was in flight
  slow.resolve("stale");
  assert.equal(await reading, "stale");
  assert.equal(c.has("k"), false);
  assert.equal(await c.get("k", () => Promise.resolve("fresh")), "fresh");
  assert.equal(await c.get("k", () => Promise.resolve("unused")), "fresh");
});

Deno.test("memo cache: keep, put, prefixes and the entry bound", async () => {
  const c = new MemoCache<string | null>({ maxEntries: 2, keep: (v) => v !== null });
  assert.equal(await c.get("a", () => Promise.resolve(null)), null);
  assert.equal(c.has("a"), false);
  c.put("b\n1", "x");
  c.put("b\n2", "y");
  c.put("c", "z"); // over the bound: the oldest goes
  assert.equal(c.has("b\n1"), false);
  assert.equal(c.size, 2);
  c.forgetPrefix("b\n");
  assert.deepEqual([c.has("b\n2"), c.has("c")], [false, true]);
});

Deno.test("deepFreeze leaves bytes writable and freezes what holds them", () => {
  const v = deepFreeze({ bytes: new Uint8Array(2), list: [{ n: 1 }] });
  v.bytes[0] = 7;
  assert.equal(v.bytes[0], 7);
  assert.ok(Object.isFrozen(v) && Object.isFrozen(v.list) && Object.isFrozen(v.list[0]));
});
