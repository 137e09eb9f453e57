import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { prepareKvFile } from "./kv_file.ts";

Deno.test("KV file: the expiry index is partial, still serves expiry queries, and KV works on it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-kvfile-" });
  const path = `${dir}/kv.sqlite3`;
  try {
    // A file made by an earlier version (full index, some rows) is converted once.
    const old = await Deno.openKv(path);
    await old.set(["a"], 1);
    await old.set(["tmp"], 2, { expireIn: 3_600_000 });
    old.close();
    assert.equal(await prepareKvFile(path), "made partial");
    assert.equal(await prepareKvFile(path), "partial");

    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const plan = (q: string) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${q}`).all() as { detail: string }[]).map((r) => r.detail)
          .join(" ");
      // The shapes of Deno KV's expiry queries.
      assert.match(
        plan("DELETE FROM kv WHERE expiration_ms >= 0 AND expiration_ms <= 5"),
        /USING INDEX kv_expiration_ms_idx/,
      );
      assert.match(
        plan(
          "SELECT expiration_ms FROM kv WHERE expiration_ms >= 0 ORDER BY expiration_ms LIMIT 1",
        ),
        /USING COVERING INDEX kv_expiration_ms_idx/,
      );
      // Only the row that expires is in the index.
      const n = db.prepare(
        "SELECT count(*) AS n FROM kv INDEXED BY kv_expiration_ms_idx WHERE expiration_ms >= 0",
      )
        .get() as { n: number };
      assert.equal(n.n, 1);
    } finally {
      db.close();
    }

    const kv = await Deno.openKv(path);
    try {
      assert.equal((await kv.get(["a"])).value, 1);
      assert.equal((await kv.get(["tmp"])).value, 2);
      const res = await kv.atomic().check({ key: ["b"], versionstamp: null }).set(["b"], 3).sum([
        "n",
      ], 4n)
        .commit();
      assert.ok(res.ok);
      await kv.set(["soon"], 5, { expireIn: 10 });
      assert.deepEqual((await Array.fromAsync(kv.list({ prefix: [] }))).map((e) => e.key), [
        ["a"],
        ["b"],
        ["n"],
        ["soon"],
        ["tmp"],
      ]);
    } finally {
      kv.close();
    }
    // A new data dir: the file is created with the partial index.
    const fresh = `${dir}/fresh.sqlite3`;
    assert.equal(await prepareKvFile(fresh), "made partial");
    assert.equal(await prepareKvFile(fresh), "partial");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
