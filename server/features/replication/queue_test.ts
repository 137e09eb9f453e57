import { assertEquals } from "../../../tests/_helpers/assert.ts";
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
