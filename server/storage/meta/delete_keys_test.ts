import assert from "node:assert/strict";
import { deleteKeys, deletePrefix } from "./delete_keys.ts";

Deno.test("deletePrefix / deleteKeys: everything under the prefix goes, in few commits, nothing else", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    for (let i = 0; i < 1200; i += 100) {
      const op = kv.atomic();
      for (let j = i; j < i + 100; j++) op.set(["p", "u1", j], j);
      await op.commit();
    }
    await kv.set(["p", "u2", 1], 1);
    await kv.set(["q"], 1);
    let commits = 0;
    const atomic = kv.atomic.bind(kv);
    kv.atomic = () => (commits++, atomic());
    assert.equal(await deletePrefix(kv, ["p", "u1"]), 1200);
    assert.equal(commits, 3);
    assert.deepEqual((await Array.fromAsync(kv.list({ prefix: [] }))).map((e) => e.key), [
      ["p", "u2", 1],
      ["q"],
    ]);
    await deleteKeys(kv, [["q"], ["absent"]]);
    assert.equal((await kv.get(["q"])).value, null);
  } finally {
    kv.close();
  }
});
