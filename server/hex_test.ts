import assert from "node:assert/strict";
import { hex, randomHex } from "./hex.ts";

Deno.test("hex: every byte value, and random ids of the asked length", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.equal(hex(all), Array.from(all, (b) => b.toString(16).padStart(2, "0")).join(""));
  assert.equal(hex(new Uint8Array()), "");
  for (const n of [1, 8, 16, 24]) assert.match(randomHex(n), new RegExp(`^[0-9a-f]{${2 * n}}$`));
  assert.equal(new Set(Array.from({ length: 1000 }, () => randomHex(8))).size, 1000);
});
