/**
 * Merged group commits (deduplicated checks, added-up sums) end in the same state as the same
 * ops committed one by one, over random batches.
 */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { rng } from "../../../tests/_helpers/rng.ts";
import { GroupCommitter } from "./group_commit.ts";

async function dump(kv: Deno.Kv): Promise<string> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: [] })) {
    const v = e.value instanceof Deno.KvU64 ? `u64:${e.value.value}` : JSON.stringify(e.value);
    out.push(`${JSON.stringify(e.key)}=${v}`);
  }
  return out.join("\n");
}

Deno.test("group commit: random merged batches end as the same ops committed one by one", async () => {
  const neg = (n: bigint) => (1n << 64n) - n;
  for (let round = 0; round < 12; round++) {
    const r = rng(round + 1);
    const merged = await Deno.openKv(":memory:");
    const plain = await Deno.openKv(":memory:");
    for (const kv of [merged, plain]) {
      for (let c = 0; c < 3; c++) await kv.set(["c", c], new Deno.KvU64(100n));
    }
    const gc = new GroupCommitter(merged);
    // Each op: maybe a check of a shared key (same stamp for all), its own key set, a few sums
    // on shared counters (positive and wrapping negative), sometimes set-then-sum of its own key.
    type Step = (op: Deno.AtomicOperation, shared: Deno.KvEntryMaybe<unknown>) => void;
    const ops: Step[][] = Array.from({ length: 30 }, (_, i) => {
      const steps: Step[] = [];
      // A check every op passes (deduplicated when merged), and one that fails once any
      // earlier op has summed ["c", 0].
      if (r(2)) steps.push((op) => op.check({ key: ["nobody"], versionstamp: null }));
      if (r(6) === 0) steps.push((op, shared) => op.check(shared));
      steps.push((op) => op.set(["own", i], i));
      for (let s = r(4); s > 0; s--) {
        const c = r(3);
        const d = r(2) ? BigInt(r(50)) : neg(BigInt(r(50)));
        steps.push((op) => op.sum(["c", c], d));
      }
      if (r(4) === 0) {
        steps.push((op) => op.set(["acc", i], new Deno.KvU64(5n)));
        steps.push((op) => op.sum(["acc", i], 3n));
      }
      if (r(5) === 0) steps.push((op) => op.delete(["own", i]));
      return steps;
    });
    const mShared = await merged.get(["c", 0]);
    const pShared = await plain.get(["c", 0]);
    const first = gc.atomic().set(["warm"], 0).commit();
    const results = await Promise.all(
      ops.map((steps) => {
        const op = gc.atomic();
        for (const s of steps) s(op, mShared);
        return op.commit();
      }),
    );
    await first;
    await plain.set(["warm"], 0);
    const plainResults = [];
    for (const steps of ops) {
      const op = plain.atomic();
      for (const s of steps) s(op, pShared);
      plainResults.push((await op.commit()).ok);
    }
    assertEquals(results.map((x) => x.ok), plainResults, `round ${round}`);
    assertEquals(await dump(merged), await dump(plain), `round ${round}`);
    assert(results.some((x) => x.ok) && gc.commits < ops.length, "ops were merged");
    merged.close();
    plain.close();
  }
});
