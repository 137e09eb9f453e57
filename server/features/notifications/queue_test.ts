import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { type Db, openDb, schemaVersion } from "../../db/mod.ts";
import { MIGRATIONS } from "../../db/migrations.ts";
import { NOTIFICATION_EVENTS } from "./config.ts";
import { deliveryBody, eventMessage } from "./event_json.ts";
import { DeliveryQueue, type QueuedChange } from "./queue.ts";

const REGION = "eu-west-3";

/** Every event a configuration can name (a rule names no pattern's own events but these). */
const EVENTS = NOTIFICATION_EVENTS.filter((e) => !e.endsWith("*")).map((e) => e.slice(3));

/** Changes as the feed carries them: every field present, and every optional one absent. */
function changesOf(event: string, i: number): QueuedChange[] {
  const created = event.startsWith("ObjectCreated:");
  const seq = (j: number) => String(1_812_000_000_000_000_000n + BigInt(i + j));
  const base = {
    time: Date.UTC(2026, 11, 8, 1, 2, 3, i % 1000),
    ns: "t-1",
    bucket: "photos",
    event,
  };
  return [
    {
      ...base,
      seq: seq(0),
      key: "dir/é ?&=+.txt",
      versionId: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
      size: created ? 1234 : undefined,
      etag: created ? '"5d41402abc4b2a76b9719d911017c592-2"' : undefined,
      principalId: "AIDAUSER",
      sourceIp: "2001:db8::7",
      requestId: "17F0A9C3B2D1E0F0",
    },
    // Unversioned, anonymous or the system, nothing about the request, an empty object.
    { ...base, seq: seq(1), key: "k", versionId: "null", size: created ? 0 : undefined },
    {
      ...base,
      seq: seq(2),
      key: "k2",
      versionId: null,
      principalId: "",
      sourceIp: "",
      requestId: "",
    },
  ];
}

Deno.test("a queued change's body is byte for byte the message queued whole before", () => {
  const db = openDb(":memory:");
  try {
    const queue = new DeliveryQueue(db);
    const expected = new Map<string, string>();
    let i = 0;
    for (const event of EVENTS) {
      for (const c of changesOf(event, i++ * 3)) {
        // What the follower stored in `payload` before rows held the change alone.
        expected.set(
          c.seq,
          JSON.stringify(eventMessage(c, { region: REGION, configurationId: "cfg", ownerId: "O" })),
        );
        assertEquals(
          queue.enqueue([{
            change: c,
            configId: "cfg",
            ownerId: "O",
            targetNs: "t-1",
            target: "h",
          }]),
          1,
        );
      }
    }
    const due = queue.due(Date.UTC(2027, 0), 1000);
    assertEquals(due.length, EVENTS.length * 3);
    for (const d of due) {
      assertEquals(d.payload, null);
      assertEquals(deliveryBody(d, REGION), expected.get(d.change.seq));
    }
    // The bytes themselves, once, so the message cannot drift with the code that builds both.
    const first = due.find((d) => d.change.seq === "1812000000000000000")!;
    assertEquals(
      deliveryBody(first, REGION),
      `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-3",` +
        `"eventTime":"2026-12-08T01:02:03.000Z","eventName":"ObjectCreated:Put",` +
        `"userIdentity":{"principalId":"AIDAUSER"},"requestParameters":{"sourceIPAddress":` +
        `"2001:db8::7"},"responseElements":{"x-amz-request-id":"17F0A9C3B2D1E0F0",` +
        `"x-amz-id-2":"17F0A9C3B2D1E0F0"},"s3":{"s3SchemaVersion":"1.0","configurationId":` +
        `"cfg","bucket":{"name":"photos","ownerIdentity":{"principalId":"O"},"arn":` +
        `"arn:aws:s3:::photos"},"object":{"key":"dir/%C3%A9+%3F%26%3D%2B.txt","size":1234,` +
        `"eTag":"5d41402abc4b2a76b9719d911017c592-2","versionId":` +
        `"3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY","sequencer":"192584664D020000"}}}]}`,
    );
  } finally {
    db.close();
  }
});

/** The previous queue's INSERT (migration 7's table, before migration 12), verbatim. */
function queueTheOldWay(db: Db, row: {
  seq: string;
  event: string;
  key: string;
  payload: string;
  at: number;
}): void {
  db.prepare(
    `INSERT OR IGNORE INTO notification_queue
       (seq, config_id, ns, bucket, key, event, target_ns, target, payload, attempts, next_at,
        state, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'pending', ?)`,
  ).run(row.seq, "cfg", "", "photos", row.key, row.event, "", "hook", row.payload, row.at, row.at);
}

Deno.test("rows queued under the previous schema keep their message, ids and state after migrating", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-nq-" });
  const path = `${dir}/maxiofs.db`;
  try {
    const old = openDb(path, { migrations: MIGRATIONS.filter((m) => m.version < 12) });
    assertEquals(schemaVersion(old), 11);
    const payloads = ["created", "removed", "test"].map((w) => `{"Records":[{"made":"${w}"}]}`);
    queueTheOldWay(old, {
      seq: "7",
      event: "ObjectCreated:Put",
      key: "a b",
      payload: payloads[0],
      at: 1000,
    });
    queueTheOldWay(old, {
      seq: "8",
      event: "ObjectRemoved:Delete",
      key: "c",
      payload: payloads[1],
      at: 2000,
    });
    queueTheOldWay(old, {
      seq: "test:REQ",
      event: "s3:TestEvent",
      key: "",
      payload: payloads[2],
      at: 3000,
    });
    // The second one failed for good: a dead letter.
    old.prepare(
      "UPDATE notification_queue SET state = 'dead', attempts = 12, last_error = 'gone' WHERE seq = '8'",
    ).run();
    old.close();

    const db = openDb(path);
    try {
      assertEquals(schemaVersion(db), 12);
      const queue = new DeliveryQueue(db);
      const due = queue.due(10_000, 10);
      assertEquals(due.map((d) => [d.id, d.change.seq, d.change.event, d.change.key]), [
        [1, "7", "ObjectCreated:Put", "a b"],
        [3, "test:REQ", "s3:TestEvent", ""],
      ]);
      assertEquals(due.map((d) => deliveryBody(d, REGION)), [payloads[0], payloads[2]]);
      const [dead] = queue.deadLetters(null);
      assertEquals(
        [dead.id, dead.change.event, dead.change.key, dead.target, dead.attempts, dead.lastError],
        [2, "ObjectRemoved:Delete", "c", "hook", 12, "gone"],
      );
      assertEquals(deliveryBody(dead, REGION), payloads[1]);
      // Still idempotent by (seq, configuration Id) across the two forms; new rows after the old.
      const change = { seq: "7", time: 4000, event: "ObjectCreated:Put", ns: "", bucket: "photos" };
      const item = { configId: "cfg", ownerId: "O", targetNs: "", target: "hook" };
      assertEquals(
        queue.enqueue([{ ...item, change: { ...change, key: "a b", versionId: null } }]),
        0,
      );
      assertEquals(
        queue.enqueue([{ ...item, change: { ...change, seq: "9", key: "d", versionId: null } }]),
        1,
      );
      const next = queue.due(10_000, 10).at(-1)!;
      assert(next.id > 3);
      assertEquals([next.change.seq, next.payload], ["9", null]);
      assertEquals(queue.depths(), [{ targetNs: "", target: "hook", pending: 3, dead: 1 }]);
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("delivered rows are left out at once and removed by the next deliveries' transaction", () => {
  const db = openDb(":memory:");
  try {
    const queue = new DeliveryQueue(db);
    const item = (seq: string, time: number) => ({
      change: {
        seq,
        time,
        event: "ObjectCreated:Put",
        ns: "",
        bucket: "b",
        key: seq,
        versionId: null,
      },
      configId: "cfg",
      ownerId: "O",
      targetNs: "",
      target: "hook",
    });
    const rows = () =>
      (db.prepare("SELECT seq FROM notification_queue ORDER BY id").all() as {
        seq: string;
      }[]).map((r) => r.seq);
    queue.enqueue([item("1", 10), item("2", 20)]);
    const [first] = queue.due(100, 1);
    queue.delivered([first]);
    // Still a row, but neither due nor counted.
    assertEquals(rows(), ["1", "2"]);
    assertEquals(queue.due(100, 10).map((d) => d.change.seq), ["2"]);
    // MIN(next_at) counts it; the worker asks past the time its pass took it at.
    assertEquals([queue.nextDueAt(), queue.nextDueAt(10)], [10, 20]);
    assertEquals(queue.depths(), [{ targetNs: "", target: "hook", pending: 1, dead: 0 }]);
    // The next deliveries queued remove it in their transaction.
    queue.enqueue([item("3", 30)]);
    assertEquals(rows(), ["2", "3"]);
    queue.delivered(queue.due(100, 10));
    assertEquals([queue.nextDueAt(30), queue.depths(), queue.sentWaiting], [null, [], true]);
    // Or their own removal, when nothing is queued.
    queue.removeSent();
    assertEquals([rows(), queue.sentWaiting], [[], false]);
    // Not many wait: past 64 they are removed at once.
    queue.enqueue(Array.from({ length: 64 }, (_, i) => item(String(100 + i), 40)));
    queue.delivered(queue.due(100, 64));
    assertEquals([rows(), queue.sentWaiting], [[], false]);
  } finally {
    db.close();
  }
});
