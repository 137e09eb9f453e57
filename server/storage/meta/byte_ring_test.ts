import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { ByteRing, segmentBytes } from "./byte_ring.ts";

const filled = (n: number, v: number) => new Uint8Array(n).fill(v);

Deno.test("byte ring: segment size follows the budget, and entries larger than one are not kept", () => {
  assertEquals(segmentBytes(128 << 20, 64 << 10), 1 << 20);
  assertEquals(segmentBytes(1 << 20, 64 << 10), 64 << 10);
  assertEquals(segmentBytes(64 << 10, 64 << 10), 4096);
  const r = new ByteRing(64 << 10, 64 << 10);
  r.set("big", filled(5000, 1));
  assertEquals(r.has("big"), false);
  r.set("small", filled(100, 2));
  assertEquals(r.view("small")?.[99], 2);
});

Deno.test("byte ring: once full it refills its oldest segment and allocates no more", () => {
  const r = new ByteRing(1 << 20, 64 << 10);
  for (let i = 0; i < 400; i++) r.set(`k${i}`, filled(4096, i % 251));
  const full = r.bytes;
  for (let i = 400; i < 2000; i++) {
    r.set(`k${i}`, filled(4096, i % 251));
    assert(r.bytes <= r.capacity, `${r.bytes} after ${i}`);
  }
  // Same number of segments (the overheads of as many entries): the ring was reused.
  assert(Math.abs(r.bytes - full) < 64 << 10, `${r.bytes} against ${full}`);
  assertEquals(r.view("k1999")?.[0], 1999 % 251);
  assertEquals(r.view("k0"), undefined);
  // Every kept entry still holds its own bytes after all that moving.
  for (let i = 0; i < 2000; i++) {
    const v = r.view(`k${i}`);
    if (v) assert(v.every((b) => b === i % 251), `k${i}`);
  }
});

Deno.test("byte ring: entries read since they were stored survive one refill, others go", () => {
  const r = new ByteRing(1 << 20, 64 << 10);
  // 64 KiB segments of 16 entries of 4 KiB; 15 segments fit beside the overheads.
  for (let i = 0; i < 256; i++) r.set(`k${i}`, filled(4096, i % 251));
  const first = [...Array(256).keys()].find((i) => r.has(`k${i}`))!;
  r.view(`k${first}`);
  for (let i = 256; i < 256 + 16; i++) r.set(`k${i}`, filled(4096, 7));
  assertEquals(r.view(`k${first}`)?.[0], first % 251, "moved to the refilled segment's front");
  assertEquals(r.has(`k${first + 1}`), false, "not read: forgotten");
  r.delete(`k${first}`);
  assertEquals(r.has(`k${first}`), false);
  r.clear();
  assertEquals([r.size, r.bytes], [0, 0]);
  const off = new ByteRing(0, 64 << 10);
  off.set("x", filled(1, 1));
  assertEquals([off.size, off.bytes], [0, 0]);
});
