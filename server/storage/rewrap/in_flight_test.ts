import assert from "node:assert/strict";
import { InFlightWrites } from "./in_flight.ts";

Deno.test("settled waits for the writes in progress at the call, not for later ones", async () => {
  const w = new InFlightWrites();
  const first = Promise.withResolvers<string>();
  const r1 = w.track(() => first.promise);
  let settled = false;
  const s = w.settled().then(() => settled = true);
  const later = Promise.withResolvers<void>();
  w.track(() => later.promise);
  await Promise.resolve();
  assert.deepStrictEqual(settled, false);
  first.resolve("ok");
  assert.deepStrictEqual(await r1, "ok");
  await s;
  assert.deepStrictEqual(settled, true);
  assert.deepStrictEqual(w.size, 1);
  later.resolve();
});

Deno.test("a failed write counts as ended and still fails its caller", async () => {
  const w = new InFlightWrites();
  const p = w.track(() => Promise.reject(new Error("boom")));
  const err = await p.catch((e) => e as Error);
  assert.deepStrictEqual(err.message, "boom");
  await w.settled();
  assert.deepStrictEqual(w.size, 0);
});
