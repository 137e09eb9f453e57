import assert from "node:assert/strict";
import { GroupCommitter, keyId, valueSize } from "./group_commit.ts";

async function setup() {
  const kv = await Deno.openKv(":memory:");
  return { kv, gc: new GroupCommitter(kv) };
}

/** Starts one op in flight, so ops submitted right after it queue behind it. */
function inFlight(gc: GroupCommitter) {
  return gc.atomic().set(["warm"], 0).commit();
}

Deno.test("group commit: a lone op commits at once, with the KvCommitResult shape", async () => {
  const { kv, gc } = await setup();
  const res = await gc.atomic().check({ key: ["a"], versionstamp: null }).set(["a"], 1).commit();
  assert.equal(res.ok, true);
  assert.ok(res.ok && typeof res.versionstamp === "string" && res.versionstamp.length === 20);
  assert.equal(gc.commits, 1);
  const e = await kv.get(["a"]);
  assert.equal(e.value, 1);
  assert.equal(e.versionstamp, res.ok ? res.versionstamp : "");
  // A failed check answers { ok: false } like a real atomic operation.
  const bad = await gc.atomic().check({ key: ["a"], versionstamp: null }).set(["a"], 2).commit();
  assert.deepEqual(bad, { ok: false });
  assert.equal((await kv.get(["a"])).value, 1);
  kv.close();
});

Deno.test("group commit: independent ops arriving during a commit share the next one", async () => {
  const { kv, gc } = await setup();
  const first = inFlight(gc);
  const rest = Array.from(
    { length: 5 },
    (_, i) =>
      gc.atomic().check({ key: ["k", i], versionstamp: null }).check({
        key: ["shared"],
        versionstamp: null,
      }).set(["k", i], i).sum(["count"], 1n).commit(),
  );
  const results = await Promise.all([first, ...rest]);
  assert.ok(results.every((r) => r.ok));
  assert.equal(gc.commits, 2);
  const stamps = new Set(results.slice(1).map((r) => r.ok && r.versionstamp));
  assert.equal(stamps.size, 1);
  for (let i = 0; i < 5; i++) assert.equal((await kv.get(["k", i])).value, i);
  assert.equal((await kv.get<Deno.KvU64>(["count"])).value?.value, 5n);
  kv.close();
});

Deno.test("group commit: ops writing the same key are not merged and commit in order", async () => {
  const { kv, gc } = await setup();
  const first = inFlight(gc);
  const a = gc.atomic().set(["x"], "a").commit();
  const b = gc.atomic().set(["x"], "b").commit();
  const c = gc.atomic().delete(["x"]).set(["y"], "c").commit();
  const d = gc.atomic().set(["x"], "d").commit();
  await Promise.all([first, a, b, c, d]);
  assert.equal(gc.commits, 5);
  assert.equal((await kv.get(["x"])).value, "d");
  assert.equal((await kv.get(["y"])).value, "c");
  kv.close();
});

Deno.test("group commit: a key checked by one op and mutated (or summed) by another splits them", async () => {
  const { kv, gc } = await setup();
  await kv.set(["c"], new Deno.KvU64(0n));
  const stamp = (await kv.get(["c"])).versionstamp;
  const first = inFlight(gc);
  const summer = gc.atomic().sum(["c"], 1n).commit();
  const checker = gc.atomic().check({ key: ["c"], versionstamp: stamp }).set(["z"], 1).commit();
  const [, s, ch] = await Promise.all([first, summer, checker]);
  assert.equal(gc.commits, 3);
  assert.equal(s.ok, true);
  // Queue order: the sum committed first, so the check of the old stamp fails.
  assert.equal(ch.ok, false);
  assert.equal((await kv.get(["z"])).value, null);
  // A delete of a key another op sums conflicts too.
  const before = gc.commits;
  const f2 = inFlight(gc);
  await Promise.all([f2, gc.atomic().sum(["c"], 1n).commit(), gc.atomic().delete(["c"]).commit()]);
  assert.equal(gc.commits - before, 3);
  assert.equal((await kv.get(["c"])).value, null);
  kv.close();
});

Deno.test("group commit: a failed check in a merged commit is replayed op by op", async () => {
  const { kv, gc } = await setup();
  await kv.set(["taken"], 1);
  const first = inFlight(gc);
  const good1 = gc.atomic().check({ key: ["g1"], versionstamp: null }).set(["g1"], 1).commit();
  const stale = gc.atomic().check({ key: ["taken"], versionstamp: null }).set(["s"], 1).commit();
  const good2 = gc.atomic().check({ key: ["g2"], versionstamp: null }).set(["g2"], 2).sum(
    ["n"],
    3n,
  ).commit();
  const [, r1, rs, r2] = await Promise.all([first, good1, stale, good2]);
  assert.equal(r1.ok, true);
  assert.deepEqual(rs, { ok: false });
  assert.equal(r2.ok, true);
  assert.equal(gc.fallbacks, 1);
  assert.equal((await kv.get(["g1"])).value, 1);
  assert.equal((await kv.get(["g2"])).value, 2);
  assert.equal((await kv.get(["s"])).value, null);
  assert.equal((await kv.get<Deno.KvU64>(["n"])).value?.value, 3n);
  kv.close();
});

Deno.test("group commit: an op KV refuses rejects alone; its batch mates still commit", async () => {
  const { kv, gc } = await setup();
  const first = inFlight(gc);
  const ok1 = gc.atomic().set(["o1"], 1).commit();
  // Values over 64 KiB are refused by Deno KV.
  const tooBig = gc.atomic().set(["big"], new Uint8Array(70 * 1024)).commit();
  const ok2 = gc.atomic().set(["o2"], 2).commit();
  const settled = await Promise.allSettled([first, ok1, tooBig, ok2]);
  assert.equal(settled[1].status, "fulfilled");
  assert.equal(settled[2].status, "rejected");
  assert.equal(settled[3].status, "fulfilled");
  assert.equal((await kv.get(["o1"])).value, 1);
  assert.equal((await kv.get(["o2"])).value, 2);
  assert.equal((await kv.get(["big"])).value, null);
  // Committing a recorder twice is an error, as for a real atomic operation.
  const op = gc.atomic().set(["t"], 1);
  await op.commit();
  await assert.rejects(() => op.commit());
  kv.close();
});

Deno.test("group commit: merged commits stay within the mutation, check and size caps", async () => {
  const { kv } = await setup();
  const gc = new GroupCommitter(kv, { checks: 10, mutations: 50, bytes: 4096, keyBytes: 100_000 });
  const first = inFlight(gc);
  // 12 ops of 20 mutations: at most 2 fit in one commit of 50.
  const ops = Array.from({ length: 12 }, (_, i) => {
    const op = gc.atomic();
    for (let j = 0; j < 20; j++) op.set(["m", i, j], j);
    return op.commit();
  });
  await Promise.all([first, ...ops]);
  assert.equal(gc.commits, 1 + 6);
  // 8 ops with 3 checks each: at most 3 per commit of 10 checks.
  let before = gc.commits;
  const f2 = inFlight(gc);
  const checks = Array.from({ length: 8 }, (_, i) =>
    gc.atomic().check(
      { key: ["c", i, 0], versionstamp: null },
      { key: ["c", i, 1], versionstamp: null },
      { key: ["c", i, 2], versionstamp: null },
    ).set(["c", i, 0], 1).commit());
  await Promise.all([f2, ...checks]);
  assert.equal(gc.commits - before, 1 + 3);
  // Values of ~1.5 KiB estimated against a 4 KiB cap: two per commit.
  before = gc.commits;
  const f3 = inFlight(gc);
  const big = Array.from(
    { length: 4 },
    (_, i) => gc.atomic().set(["v", i], "x".repeat(700)).commit(),
  );
  await Promise.all([f3, ...big]);
  assert.equal(gc.commits - before, 1 + 2);
  // An op over the caps on its own still commits, alone.
  const f4 = inFlight(gc);
  const huge = gc.atomic();
  for (let j = 0; j < 60; j++) huge.set(["h", j], j);
  const r = await Promise.all([f4, huge.commit(), gc.atomic().set(["after"], 1).commit()]);
  assert.ok(r.every((x) => x.ok));
  assert.equal((await kv.get(["h", 59])).value, 59);
  kv.close();
});

Deno.test("group commit: an op behind a passed-over conflicting op waits for it", async () => {
  const { kv, gc } = await setup();
  const first = inFlight(gc);
  const a = gc.atomic().set(["k1"], "a").commit();
  // b conflicts with a (k1), so it is passed over; c conflicts only with b (k2).
  const b = gc.atomic().set(["k1"], "b").set(["k2"], "b").commit();
  const c = gc.atomic().set(["k2"], "c").commit();
  await Promise.all([first, a, b, c]);
  assert.equal((await kv.get(["k1"])).value, "b");
  assert.equal((await kv.get(["k2"])).value, "c");
  kv.close();
});

/** Adds one to `k` by read, check and write through `gc` (retrying on conflicts), and to ["total"]. */
function incrementer(kv: Deno.Kv, gc: GroupCommitter) {
  return async (k: Deno.KvKey) => {
    for (;;) {
      const e = await kv.get<number>(k);
      const res = await gc.atomic().check(e).set(k, (e.value ?? 0) + 1).sum(["total"], 1n)
        .commit();
      if (res.ok) return;
    }
  };
}

Deno.test("group commit: concurrent read-check-write increments lose no update", async () => {
  const { kv, gc } = await setup();
  const incr = incrementer(kv, gc);
  await Promise.all(Array.from({ length: 120 }, (_, i) => incr(["ctr", i % 4])));
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += (await kv.get<number>(["ctr", i])).value ?? 0;
  assert.equal(sum, 120);
  assert.equal((await kv.get<Deno.KvU64>(["total"])).value?.value, 120n);
  // Without contention, 120 writers of distinct keys need far fewer than 120 commits.
  const before = gc.commits;
  await Promise.all(Array.from({ length: 120 }, (_, i) => incr(["solo", i])));
  assert.ok(gc.commits - before < 60, `${gc.commits - before} commits`);
  kv.close();
});

Deno.test("group commit: key identities and size estimates", () => {
  assert.notEqual(keyId(["a", 1]), keyId(["a", "1"]));
  assert.notEqual(keyId(["a,b"]), keyId(["a", "b"]));
  assert.equal(keyId(["a", 1n]), keyId(["a", 1n]));
  assert.notEqual(keyId(["a", 1n]), keyId(["a", 1]));
  assert.notEqual(keyId([true]), keyId(["true"]));
  assert.notEqual(keyId(["a:", "b"]), keyId(["a", ":b"]));
  assert.notEqual(keyId(["s1:a"]), keyId(["a", "a"]));
  assert.notEqual(
    keyId([new Uint8Array([1, 2])]),
    keyId([new Uint8Array([1]), new Uint8Array([2])]),
  );
  assert.notEqual(keyId([new Uint8Array([1, 2])]), keyId(["0102"]));
  assert.ok(valueSize("é".repeat(100)) >= 200);
  assert.ok(valueSize({ a: "x".repeat(1000), b: [1, 2, 3] }) > 2000);
  assert.ok(valueSize(new Uint8Array(5000)) >= 5000);
});

Deno.test("group commit: sums on one key are added up in a merged commit, wrapping as u64", async () => {
  const { kv, gc } = await setup();
  await kv.set(["c"], new Deno.KvU64(10n));
  const first = inFlight(gc);
  const neg = (n: bigint) => (1n << 64n) - n;
  // +5, -3, -1 as u64 deltas, and an op that sets its own key before summing it.
  const ops = [5n, neg(3n), neg(1n)].map((d, i) =>
    gc.atomic().check({ key: ["solo", i], versionstamp: null }).set(["solo", i], i).sum(["c"], d)
      .commit()
  );
  ops.push(gc.atomic().set(["own"], new Deno.KvU64(7n)).sum(["own"], 2n).commit());
  const results = await Promise.all([first, ...ops]);
  assert.ok(results.every((r) => r.ok));
  assert.equal(gc.commits, 2, "one merged commit after the first");
  assert.equal((await kv.get<Deno.KvU64>(["c"])).value?.value, 11n);
  assert.equal((await kv.get<Deno.KvU64>(["own"])).value?.value, 9n);
  kv.close();
});

Deno.test("group commit: read-check-write increments lose no update", async () => {
  const kv = await Deno.openKv(":memory:");
  const gc = new GroupCommitter(kv);
  const incr = incrementer(kv, gc);
  await Promise.all(Array.from({ length: 160 }, (_, i) => incr(["ctr", i % 5])));
  let sum = 0;
  for (let i = 0; i < 5; i++) sum += (await kv.get<number>(["ctr", i])).value ?? 0;
  assert.equal(sum, 160);
  assert.equal((await kv.get<Deno.KvU64>(["total"])).value?.value, 160n);
  // A blind write and a checked one on the same key, many times over: KV sees them in order.
  for (let round = 0; round < 20; round++) {
    const ops = Array.from(
      { length: 6 },
      (_, i) => gc.atomic().set(["seq"], round * 10 + i).commit(),
    );
    await Promise.all(ops);
    assert.equal((await kv.get(["seq"])).value, round * 10 + 5);
  }
  kv.close();
});

Deno.test("group commit: a replayed batch keeps its keys until its ops are done", async () => {
  const kv = await Deno.openKv(":memory:");
  const gc = new GroupCommitter(kv);
  await kv.set(["f"], "changed");
  const w1 = gc.atomic().set(["warm", 1], 1).commit();
  const w2 = gc.atomic().set(["warm", 2], 2).commit();
  // w1 is with KV: w2, A and F queue and will share a commit, which F's stale check fails, so A
  // is replayed on its own afterwards. B writes A's key: it must not commit before A's replay.
  const a = gc.atomic().set(["x"], "a").commit();
  const f = gc.atomic().check({ key: ["f"], versionstamp: null }).set(["f"], "mine").commit();
  const b = gc.atomic().set(["x"], "b").commit();
  const [, , ra, rf, rb] = await Promise.all([w1, w2, a, f, b]);
  assert.ok(ra.ok && rb.ok);
  assert.equal(rf.ok, false);
  assert.equal(gc.fallbacks, 1);
  assert.equal((await kv.get(["x"])).value, "b");
  kv.close();
});
