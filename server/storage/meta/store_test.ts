import assert from "node:assert/strict";
import { MetaStore } from "./store.ts";
import { systemClock } from "../../clock.ts";
import { silentLogger } from "../../log.ts";
import { Tuning } from "../../tuning.ts";

// The premise of reading on a second handle (store.ts): if a Deno upgrade breaks it, this fails.
Deno.test("metadata store: a resolved commit is read back at once on the reading handle, with its versionstamp, while others run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-split-" });
  const path = `${dir}/kv.sqlite3`;
  const kv = await MetaStore.open(path, { log: silentLogger, clock: systemClock });
  try {
    // Background load on the writer, so reads race real commits.
    let stop = false;
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        const op = kv.write();
        for (let j = 0; j < 50; j++) op.set(["load", i, j], new Uint8Array(2048));
        await op.commit();
      }
    })();
    for (let i = 0; i < 300; i++) {
      const key = ["k", i % 7];
      const before = await kv.get<number>(key);
      const res = await kv.write().check(before).set(key, i).sum(["n"], 1n).commit();
      assert.ok(res.ok, `commit ${i}`);
      const after = await kv.get<number>(key);
      assert.equal(after.value, i);
      assert.equal(after.versionstamp, res.versionstamp);
      const [again, n] = await kv.getMany<[number, Deno.KvU64]>([key, ["n"]]);
      assert.equal(again.versionstamp, res.versionstamp);
      assert.equal(n.value?.value, BigInt(i + 1));
      const listed = await Array.fromAsync(kv.list<number>({ prefix: ["k"] }));
      assert.equal(listed.find((e) => e.key[1] === i % 7)?.value, i);
    }
    stop = true;
    await load;
    // A stale stamp from a read still fails the writer's check.
    const old = await kv.get(["k", 0]);
    await kv.set(["k", 0], "changed");
    assert.equal((await kv.write().check(old).set(["k", 0], "lost").commit()).ok, false);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("metadata store: reads go to two handles in turn, one without second-read-handle, the writer without read-handle", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-readers-" });
  const open = (off: string) =>
    MetaStore.open(`${dir}/kv.sqlite3`, {
      log: silentLogger,
      clock: systemClock,
      tuning: Tuning.parse(off),
    });
  try {
    const two = await open("");
    try {
      assert.equal(two.readers.length, 2);
      assert.ok(!two.readers.includes(two.writer));
      await two.set(["k"], 1);
      // Each handle sees the commit: whichever a read goes to, the value is there.
      for (let i = 0; i < 4; i++) assert.equal((await two.get<number>(["k"])).value, 1);
    } finally {
      two.close();
    }
    const one = await open("second-read-handle");
    try {
      assert.equal(one.readers.length, 1);
      assert.notEqual(one.readers[0], one.writer);
    } finally {
      one.close();
    }
    const none = await open("read-handle");
    try {
      assert.deepEqual(none.readers, [none.writer]);
      assert.equal((await none.get<number>(["k"])).value, 1);
    } finally {
      none.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("metadata store: the observer learns every KV transaction, merged groups with their size", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-observer-" });
  const seen: { writes: number; seconds: number }[] = [];
  const kv = await MetaStore.open(`${dir}/kv.sqlite3`, {
    log: silentLogger,
    clock: systemClock,
    observer: { kvCommit: (writes, seconds) => seen.push({ writes, seconds }) },
  });
  try {
    await kv.set(["single"], 1);
    // Independent grouped writes queued together: the first goes alone, the rest are merged.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => kv.groupWrite().set(["g", i], i).commit()),
    );
    assertEqualsWrites(seen, 21);
    assert.ok(seen.length < 21, "some writes were merged");
    assert.ok(seen.some((s) => s.writes > 1));
    assert.ok(seen.every((s) => s.seconds >= 0));
    assert.equal(kv.commits, seen.length);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

function assertEqualsWrites(seen: { writes: number }[], n: number): void {
  assert.equal(seen.reduce((sum, s) => sum + s.writes, 0), n);
}
