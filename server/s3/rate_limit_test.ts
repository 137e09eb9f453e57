import assert from "node:assert/strict";

import { TokenBuckets } from "./rate_limit.ts";

Deno.test("a bucket lets its burst through, then refills at its rate", () => {
  const b = new TokenBuckets(10);
  for (let i = 0; i < 3; i++) assert.equal(b.take("k", 2, 3, 1000), 0);
  // Empty: one token comes back after 500 ms at 2 per second.
  assert.equal(b.take("k", 2, 3, 1000), 500);
  assert.equal(b.take("k", 2, 3, 1250), 250);
  assert.equal(b.take("k", 2, 3, 1500), 0);
  assert.equal(b.take("k", 2, 3, 1500), 500);
  // Long idle: never more than the burst.
  for (let i = 0; i < 3; i++) assert.equal(b.take("k", 2, 3, 100_000), 0);
  assert(b.take("k", 2, 3, 100_000) > 0);
});

Deno.test("ids are counted apart; a burst of 0 is one token", () => {
  const b = new TokenBuckets(10);
  assert.equal(b.take("a", 1, 0, 0), 0);
  assert.equal(b.take("a", 1, 0, 0), 1000);
  assert.equal(b.take("b", 1, 0, 0), 0);
});

Deno.test("at most maxEntries ids are tracked, the least recently used dropped", () => {
  const b = new TokenBuckets(2);
  b.take("a", 1, 1, 0);
  b.take("b", 1, 1, 0);
  assert(b.take("a", 1, 1, 0) > 0); // a used again: b is now the oldest
  b.take("c", 1, 1, 0);
  assert.equal(b.size, 2);
  assert(b.take("a", 1, 1, 0) > 0, "a was kept");
  assert.equal(b.take("b", 1, 1, 0), 0, "b was dropped and starts full");
});
