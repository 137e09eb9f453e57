import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { add, boundOf, bucketOf, countOf, type Histogram, merge, quantile } from "./histogram.ts";

Deno.test("buckets bound every value within a quarter octave", () => {
  for (const ms of [0.06, 0.5, 1, 3.7, 12, 250, 9000]) {
    const b = boundOf(bucketOf(ms));
    assert(b >= ms && b < ms * 1.19 + 1e-9, `${ms} -> ${b}`);
  }
  assertEquals(bucketOf(0), 0);
  assertEquals(bucketOf(1e9), 95, "the last bucket takes the rest");
});

Deno.test("quantiles of a known distribution, and merged hours", () => {
  const h: Histogram = {};
  for (let i = 1; i <= 100; i++) add(h, i); // 1..100 ms
  const near = (got: number | null, want: number) =>
    assert(got !== null && got >= want && got <= want * 1.19, `${got} ~ ${want}`);
  near(quantile(h, 0.5), 50);
  near(quantile(h, 0.95), 95);
  near(quantile(h, 0.99), 99);
  assertEquals(quantile({}, 0.5), null);
  const two = merge(merge({}, h), h);
  assertEquals(countOf(two), 200);
  near(quantile(two, 0.5), 50);
});
