import assert from "node:assert/strict";
import {
  type BusyRetryOptions,
  type BusyRetryStats,
  isBusyError,
  retryBusy,
} from "./busy_retry.ts";
import { listInput, putText, withStorage } from "../../../tests/_helpers/storage.ts";

/**
 * Holds SQLite's write lock on `path` from another thread (a worker with its own node:sqlite
 * connection, as a second Deno KV handle would) for `ms`. Resolves once the lock is taken, with a
 * promise of its release.
 */
/**
 * Holds SQLite's write lock of `path` for `ms` from a worker. `released` gives the time (ms since
 * the epoch) taken just before the worker let go: nothing can commit before it.
 */
async function holdWriteLock(path: string, ms: number): Promise<{ released: Promise<number> }> {
  const src = `import { DatabaseSync } from "node:sqlite";
onmessage = (e) => {
  const db = new DatabaseSync(e.data.path);
  db.exec("BEGIN IMMEDIATE");
  postMessage("locked");
  setTimeout(() => { const at = Date.now(); db.exec("COMMIT"); db.close(); postMessage(at); }, e.data.ms);
};`;
  const w = new Worker(`data:text/javascript,${encodeURIComponent(src)}`, { type: "module" });
  const locked = Promise.withResolvers<void>();
  const released = Promise.withResolvers<number>();
  w.onmessage = (e) => {
    if (e.data === "locked") locked.resolve();
    else {
      w.terminate();
      released.resolve(e.data as number);
    }
  };
  w.postMessage({ path, ms });
  await locked.promise;
  return { released: released.promise };
}

/** Commits `op` as the metadata store does: again while the database is busy. */
function retried(stats: BusyRetryStats, opts?: BusyRetryOptions) {
  return (op: Deno.AtomicOperation) => retryBusy(() => op.commit(), stats, opts);
}

async function withKvFile(fn: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-busy-" });
  try {
    await fn(`${dir}/kv.sqlite3`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("busy KV: a raw checked commit fails at once while another connection holds the lock", async () => {
  // The premise of busy_retry.ts: if a Deno upgrade makes this wait instead, the retry is moot.
  await withKvFile(async (path) => {
    const kv = await Deno.openKv(path);
    try {
      await kv.set(["n"], new Deno.KvU64(0n));
      const seen = await kv.get(["n"]);
      const { released } = await holdWriteLock(path, 150);
      await assert.rejects(kv.atomic().check(seen).sum(["n"], 1n).commit(), (e) => isBusyError(e));
      // Without checks, the write waits in SQLite's busy handler instead.
      assert.equal((await kv.set(["x"], 1)).ok, true);
      const doneAt = Date.now();
      assert.ok(doneAt >= await released, "an unchecked write finished while the lock was held");
      assert.equal((await kv.get<Deno.KvU64>(["n"])).value?.value, 0n);
    } finally {
      kv.close();
    }
  });
});

Deno.test("busy KV: retried commits wait for the lock and apply once; a failed check answers at once", async () => {
  await withKvFile(async (path) => {
    const kv = await Deno.openKv(path);
    const stats: BusyRetryStats = { busyWrites: 0, retries: 0 };
    const commit = retried(stats);
    try {
      await kv.set(["n"], new Deno.KvU64(0n));
      await kv.set(["b"], "B");
      const n = await kv.get(["n"]);
      const b = await kv.get(["b"]);
      const { released } = await holdWriteLock(path, 150);
      const [first, second, stale] = await Promise.all([
        commit(kv.atomic().check(n).sum(["n"], 5n).set(["a"], "A")),
        commit(kv.atomic().check(b).delete(["b"])),
        // A failed check is decided before the lock is asked for: an answer, not a busy database.
        commit(
          kv.atomic().check({ key: ["b"], versionstamp: "00000000000000010000" }).set(["c"], 1),
        ),
      ]);
      const doneAt = Date.now();
      assert.ok(doneAt >= await released, "commits finished before the lock was released");
      assert.equal(first.ok, true);
      assert.equal(second.ok, true);
      assert.equal(stale.ok, false);
      assert.equal((await kv.get<Deno.KvU64>(["n"])).value?.value, 5n);
      assert.equal((await kv.get(["a"])).value, "A");
      assert.equal((await kv.get(["b"])).versionstamp, null);
      assert.equal((await kv.get(["c"])).versionstamp, null);
      assert.equal(stats.busyWrites, 2, JSON.stringify(stats));
      assert.ok(stats.retries >= 2, JSON.stringify(stats));
      assert.equal((await Array.fromAsync(kv.list({ prefix: [] }))).length, 2);
    } finally {
      kv.close();
    }
  });
});

Deno.test("busy KV: other errors pass at once, and a lock held too long is reported", async () => {
  await withKvFile(async (path) => {
    const kv = await Deno.openKv(path);
    const stats: BusyRetryStats = { busyWrites: 0, retries: 0 };
    const commit = retried(stats, { maxWaitMs: 60, firstDelayMs: 1, maxDelayMs: 10 });
    try {
      const big = kv.atomic().check({ key: ["big"], versionstamp: null })
        .set(["big"], new Uint8Array(70 * 1024));
      await assert.rejects(commit(big), (e) => !isBusyError(e));
      assert.deepEqual(stats, { busyWrites: 0, retries: 0 });
      const { released } = await holdWriteLock(path, 400);
      const t = performance.now();
      const late = () => kv.atomic().check({ key: ["late"], versionstamp: null }).set(["late"], 1);
      await assert.rejects(commit(late()), (e) => isBusyError(e));
      const waited = performance.now() - t;
      assert.ok(waited >= 60 && waited < 390, `gave up after ${waited} ms`);
      await released;
      assert.equal((await commit(late())).ok, true);
    } finally {
      kv.close();
    }
  });
});

Deno.test("busy KV: storage PUTs made while the write lock is held elsewhere all succeed", async () => {
  await withStorage("maxiofs-busy-storage-", async (s, dir) => {
    const b = await s.backend.createBucket({ ns: "", name: "busy", ownerId: "u", region: "r" });
    const before = s.core.meta.busy.busyWrites;
    const { released } = await holdWriteLock(`${dir}/kv.sqlite3`, 200);
    // One at a time (single commits), then many at once (merged commits).
    await putText(s, b, "one", "1");
    await Promise.all(Array.from({ length: 20 }, (_, i) => putText(s, b, `many/${i}`, `${i}`)));
    await released;
    assert.ok(s.core.meta.busy.busyWrites > before, JSON.stringify(s.core.meta.busy));
    const page = await s.backend.listObjects(b, listInput());
    assert.equal(page.objects.length, 21);
    assert.equal((await s.backend.bucketStats(b.id)).objects, 21);
  });
});
