import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { openDb } from "../../db/mod.ts";
import { type NewTask, ReplicationQueue } from "./queue.ts";

const task = (key: string, seq: string): NewTask => ({
  seq,
  bucketId: "b1",
  ns: "",
  bucket: "src",
  ruleId: "r1",
  destination: "dr",
  key,
  versionId: "v",
  op: "put",
  size: 1,
});

Deno.test("replication queue: dueCount counts the queued tasks due now, as the worker's precheck", () => {
  const db = openDb(":memory:");
  try {
    const q = new ReplicationQueue(db);
    assertEquals(q.dueCount(1000), 0);
    q.add([task("a", "1"), task("a", "2"), task("b", "3")], 1000);
    // Two of key "a" and one of "b": all due, though `due` answers one task per key.
    assertEquals(q.dueCount(1000), 3);
    assertEquals(q.due(1000, 10, new Set()).map((t) => t.seq), ["1", "3"]);
    const [first] = q.due(1000, 1, new Set());
    q.failed(first.id, "refused", 5000, false);
    // In its backoff: not due until then.
    assertEquals(q.dueCount(1000), 2);
    assertEquals(q.dueCount(5000), 3);
    q.failed(first.id, "refused", 0, true);
    assertEquals(q.dueCount(5000), 2, "a dead-lettered task is not due");
  } finally {
    db.close();
  }
});

Deno.test("replication queue: a finished row is hidden from every read until removeFinished deletes it", () => {
  const db = openDb(":memory:");
  try {
    const q = new ReplicationQueue(db);
    q.add([task("a", "1"), task("a", "2"), task("b", "3")], 1000);
    const [first, third] = q.due(1000, 10, new Set());
    q.failed(first.id, "refused", 1000, false);
    q.done(first.id);
    // The next task of key "a" is due at once: the finished one no longer orders it.
    assertEquals(q.due(1000, 10, new Set([])).map((t) => t.seq), ["2", "3"]);
    assertEquals(q.dueCount(1000), 2);
    assertEquals(q.counts("b1")[0].queued, 2, "queue depth leaves finished rows out");
    assertEquals(q.failures("b1"), [], "a failed task that then succeeded is not a failure");
    assertEquals(q.pendingFor("b1", "a", "v", third.id).queued, 1);
    assertEquals(q.retry("b1", 1000, first.id), 0);
    q.done(third.id);
    assertEquals(q.taskState("b1", "r1", "b"), null);
    const rows = () =>
      (db.prepare("SELECT COUNT(*) AS n FROM replication_queue").get() as {
        n: number;
      }).n;
    assertEquals(rows(), 3, "the rows stay until removed");
    assertEquals(q.removeFinished(), 2);
    assertEquals(rows(), 1);
    assertEquals(q.removeFinished(), 0);
    assertEquals(q.nextDue(), 1000);
  } finally {
    db.close();
  }
});

Deno.test("replication queue: removing finished rows in a batch shares the WAL pages of their deletes", () => {
  const dir = Deno.makeTempDirSync();
  const db = openDb(`${dir}/q.db`);
  try {
    // No checkpoint while measuring: the WAL only grows.
    db.exec("PRAGMA wal_autocheckpoint = 0");
    const q = new ReplicationQueue(db);
    const walBytes = () => Deno.statSync(`${dir}/q.db-wal`).size;
    const copy = (i: number, batch: number) => {
      q.add([{ ...task(`k/${i}`, `s${i}`), versionId: `v${i}` }], 1000);
      const [t] = q.due(1000, 1, new Set());
      q.done(t.id);
      if (i % batch === batch - 1) q.removeFinished();
    };
    for (let i = 0; i < 20; i++) copy(i, 1); // warm: the pages exist
    const perCopy = (from: number, batch: number) => {
      const before = walBytes();
      for (let i = from; i < from + 50; i++) copy(i, batch);
      return (walBytes() - before) / 50;
    };
    const one = perCopy(100, 1);
    const batched = perCopy(200, 25);
    // A row in and out each: 9 pages; the deletes of 25 sharing their 4 pages: about 5.
    assert(batched < one * 0.7, `WAL bytes per copy: ${batched} batched, ${one} one by one`);
  } finally {
    db.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
