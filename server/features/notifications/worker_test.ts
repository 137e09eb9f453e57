import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { type Db, openDb } from "../../db/mod.ts";
import { MIGRATIONS } from "../../db/migrations.ts";
import { deliveryBody, eventMessage, testEventMessage } from "./event_json.ts";
import { SecretBox } from "../../iam/secrets.ts";
import type { Backend } from "../../storage/mod.ts";
import type { BucketRecord, ObjectChange } from "../../storage/types.ts";
import { NOTIFICATION_CONFIG, type NotificationConfig } from "./config.ts";
import { Notifications, type NotificationsOptions } from "./mod.ts";
import { signature } from "./worker.ts";
import { TargetError } from "./targets.ts";
import { NotificationMetrics } from "../metrics/recorders.ts";
import type { Sleep } from "../integrity/scrubber.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const REGION = "us-east-1";

/** A webhook receiver on loopback whose answers the test sets. */
function receiver() {
  const got: { body: unknown; headers: Headers }[] = [];
  let status = 200;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const text = await req.text();
    if (status === 200) got.push({ body: JSON.parse(text), headers: req.headers });
    return new Response(null, { status });
  });
  return {
    got,
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    setStatus: (s: number) => (status = s),
    close: () => server.shutdown(),
  };
}

const bucket: BucketRecord = {
  v: 1,
  id: "bid1",
  name: "photos",
  ns: "",
  created: 0,
  ownerId: "OWNER",
  region: REGION,
  versioning: "Unversioned",
  objectLock: false,
  feed: ["notifications"],
};

const config: NotificationConfig = {
  v: 1,
  rules: [{
    kind: "Queue",
    id: "jpgs",
    arn: `arn:maxiofs:sqs:${REGION}:global:hook`,
    events: ["s3:ObjectCreated:*"],
    filterRules: null,
    prefix: "",
    suffix: ".jpg",
  }, {
    kind: "Topic",
    id: "removals",
    arn: `arn:maxiofs:sns:${REGION}:global:hook`,
    events: ["s3:ObjectRemoved:*"],
    filterRules: null,
    prefix: "",
    suffix: "",
  }],
};

/** What the follower reads of storage: one bucket and its configuration. */
const storage = {
  getBucket: (ns: string, name: string) => {
    if (ns === bucket.ns && name === bucket.name) return Promise.resolve(bucket);
    return Promise.reject(new Error("unexpected bucket"));
  },
  getBucketConfig: (id: string, kind: string) =>
    Promise.resolve(id === bucket.id && kind === NOTIFICATION_CONFIG ? config : null),
} as unknown as Backend;

const change = (seq: number, key: string, event: ObjectChange["event"]): ObjectChange => ({
  seq: String(seq),
  time: 1_000_000 + seq,
  bucketId: bucket.id,
  ns: "",
  bucket: bucket.name,
  key,
  versionId: "null",
  event,
  size: 3,
  etag: '"abc"',
});

function setup() {
  const db = openDb(":memory:");
  const metrics = new NotificationMetrics();
  let now = 5_000_000;
  const clock = { now: () => now };
  const n = new Notifications({
    db,
    box: new SecretBox(btoa("k".repeat(32))),
    storage,
    clock,
    log: quiet,
    region: REGION,
    outbound: { allowPrivate: true },
    maxAttempts: 3,
    baseDelayMs: 1000,
    metrics,
  });
  return { db, n, advance: (ms: number) => (now += ms), clock, metrics };
}

/** The service started again over a database (a restart), with the real schedule by default. */
function restarted(db: Db, more: Partial<NotificationsOptions> = {}): Notifications {
  return new Notifications({
    db,
    box: new SecretBox(btoa("k".repeat(32))),
    storage,
    clock: { now: () => 5_000_000 },
    log: quiet,
    region: REGION,
    outbound: { allowPrivate: true },
    ...more,
  });
}

Deno.test("the follower queues one delivery per matching configuration, once per seq", async () => {
  const { db, n } = setup();
  const r = receiver();
  try {
    await n.targets.create("", { name: "hook", url: r.url, secret: "s3cret" });
    const batch = [
      change(1, "a.jpg", "ObjectCreated:Put"),
      change(2, "a.png", "ObjectCreated:Put"),
      change(3, "a.jpg", "ObjectRemoved:Delete"),
    ];
    await n.follower.accept(batch);
    // The dispatcher may hand a batch over again after a crash: nothing more is queued.
    await n.follower.accept(batch);
    assertEquals(n.depths(), [{ targetNs: "", target: "hook", pending: 2, dead: 0 }]);
    assertEquals(await n.deliverDue(), { delivered: 2, failed: 0, dead: 0 });
    // Delivered concurrently: in any order.
    const names = r.got.map((g) =>
      (g.body as { Records: { eventName: string }[] }).Records[0].eventName
    );
    assertEquals(names.sort(), ["ObjectCreated:Put", "ObjectRemoved:Delete"]);
    // Signed with the target's secret; JSON.
    const h = r.got[0].headers;
    assertEquals(h.get("content-type"), "application/json");
    assertEquals(
      h.get("x-maxiofs-signature"),
      await signature("s3cret", JSON.stringify(r.got[0].body)),
    );
    assertEquals(n.depths(), []);
  } finally {
    await r.close();
    db.close();
  }
});

Deno.test("failures back off exponentially on the clock, then become dead letters; retry puts them back", async () => {
  const { db, n, advance, metrics } = setup();
  const r = receiver();
  try {
    await n.targets.create("", { name: "hook", url: r.url });
    r.setStatus(503);
    await n.follower.accept([change(7, "x.jpg", "ObjectCreated:Put")]);
    assertEquals(await n.deliverDue(), { delivered: 0, failed: 1, dead: 0 });
    // Not due again before the backoff (1 s after the first failure, then 2 s).
    assertEquals(await n.deliverDue(), { delivered: 0, failed: 0, dead: 0 });
    advance(1000);
    assertEquals(await n.deliverDue(), { delivered: 0, failed: 1, dead: 0 });
    advance(1999);
    assertEquals(await n.deliverDue(), { delivered: 0, failed: 0, dead: 0 });
    advance(1);
    assertEquals(await n.deliverDue(), { delivered: 0, failed: 0, dead: 1 });
    const dead = n.deadLetters(null);
    assertEquals(dead.length, 1);
    assertEquals(dead[0].attempts, 3);
    assertEquals(dead[0].lastError, "the target answered 503");
    assertEquals(n.deadLetters("t-other"), []);
    r.setStatus(200);
    advance(10 * 3600_000);
    assertEquals(await n.deliverDue(), { delivered: 0, failed: 0, dead: 0 });
    assertEquals(n.retryDead([dead[0].id], null), 1);
    assertEquals(await n.deliverDue(), { delivered: 1, failed: 0, dead: 0 });
    assertEquals(r.got.length, 1);
    assertEquals(n.deadLetters(null), []);
    // Per target: 3 failed attempts, 2 of them tried again, 1 dead letter, then 1 delivered.
    const value = async (c: { get(): Promise<{ values: { value: number }[] }> }) =>
      (await c.get()).values.map((v) => v.value);
    assertEquals(await value(metrics.failedTotal), [3]);
    assertEquals(await value(metrics.retriesTotal), [2]);
    assertEquals(await value(metrics.deadTotal), [1]);
    assertEquals(await value(metrics.deliveredTotal), [1]);
    assertEquals((await metrics.deliveredTotal.get()).values[0].labels, {
      tenant: "_global",
      target: "hook",
    });
  } finally {
    await r.close();
    db.close();
  }
});

Deno.test("the background worker delivers what is queued and what was left by a previous run", async () => {
  const { db, n } = setup();
  const r = receiver();
  try {
    await n.targets.create("", { name: "hook", url: r.url });
    await n.follower.accept([change(1, "a.jpg", "ObjectCreated:Put")]);
    // A second service over the same database (a restart) delivers what the first left.
    const again = restarted(db);
    const delivered = new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (again.depths().length === 0) {
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
    again.start();
    await delivered;
    await again.stop();
    assertEquals(r.got.length, 1);
    // Its row removed, at the latest by the stop.
    assertEquals(db.prepare("SELECT COUNT(*) AS n FROM notification_queue").get()?.n, 0);
  } finally {
    await r.close();
    db.close();
  }
});

Deno.test("targets: names, URLs and headers are checked; secrets are sealed; loopback needs the option", async () => {
  const { db, n } = setup();
  try {
    const refused = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return e instanceof TargetError ? e.code : String(e);
      }
      return "accepted";
    };
    assertEquals(
      await refused(n.targets.create("", { name: "bad name", url: "http://x.example" })),
      "InvalidRequest",
    );
    assertEquals(
      await refused(n.targets.create("", { name: "a", url: "ftp://x.example" })),
      "InvalidRequest",
    );
    assertEquals(
      await refused(
        n.targets.create("", {
          name: "a",
          url: "http://127.0.0.1/",
          authHeader: "Content-Type",
          authValue: "x",
        }),
      ),
      "InvalidRequest",
    );
    const t = await n.targets.create("t-1", {
      name: "a",
      url: "http://127.0.0.1:1/",
      authHeader: "Authorization",
      authValue: "Bearer tok",
    });
    assertEquals(t.arn, "arn:maxiofs:sqs:us-east-1:t-1:a");
    assertEquals(
      await refused(n.targets.create("t-1", { name: "a", url: "http://127.0.0.1:1/" })),
      "Conflict",
    );
    const row = db.prepare("SELECT auth_sealed FROM webhook_targets").get() as {
      auth_sealed: string;
    };
    assert(!row.auth_sealed.includes("Bearer"), "the header value is sealed");
    assertEquals((await n.targets.open("t-1", "a"))?.authValue, "Bearer tok");
    // A bucket may name its own namespace's targets, with the kind's service.
    assert(n.targets.usableBy("t-1", "arn:maxiofs:lambda:us-east-1:t-1:a", "CloudFunction"));
    assert(!n.targets.usableBy("t-1", "arn:maxiofs:sns:us-east-1:t-1:a", "Queue"));
    assert(!n.targets.usableBy("t-2", "arn:maxiofs:sqs:us-east-1:t-1:a", "Queue"));
    assert(!n.targets.usableBy("t-1", "arn:maxiofs:sqs:eu-west-1:t-1:a", "Queue"));
    await n.targets.create("", { name: "g", url: "http://127.0.0.1:1/" });
    assert(n.targets.usableBy("", "arn:maxiofs:sqs:us-east-1:global:g", "Queue"));
    assert(!n.targets.usableBy("t-1", "arn:maxiofs:sqs:us-east-1:global:g", "Queue"));
    const strict = new Notifications({
      db,
      box: new SecretBox(btoa("k".repeat(32))),
      storage,
      clock: { now: () => 0 },
      log: quiet,
      region: REGION,
      outbound: { allowPrivate: false },
    });
    assertEquals(
      await refused(strict.targets.create("", { name: "lo", url: "http://127.0.0.1:9/" })),
      "InvalidRequest",
    );
    assertEquals(
      await refused(strict.targets.create("", { name: "md", url: "http://169.254.169.254/" })),
      "InvalidRequest",
    );
    // Checked again before each delivery: a target registered while allowed is refused now.
    assertEquals(await strict.testTarget("t-1", "a"), {
      ok: false,
      error:
        "127.0.0.1:1 is a loopback address; endpoints on loopback, link-local and private addresses need the server option --allow-private-endpoints",
    });
  } finally {
    db.close();
  }
});

Deno.test("one pass delivers every due delivery, past the rows read at a time", async () => {
  const { db, n } = setup();
  const r = receiver();
  try {
    await n.targets.create("", { name: "hook", url: r.url });
    const changes = Array.from(
      { length: 150 },
      (_, i) => change(i + 1, `k${i}.jpg`, "ObjectCreated:Put"),
    );
    await n.follower.accept(changes);
    assertEquals(await n.deliverDue(), { delivered: 150, failed: 0, dead: 0 });
    assertEquals(r.got.length, 150);
  } finally {
    await r.close();
    db.close();
  }
});

Deno.test("a configuration naming another namespace's target queues nothing for it", async () => {
  const foreign: NotificationConfig = {
    v: 1,
    rules: [{ ...config.rules[0], arn: `arn:maxiofs:sqs:${REGION}:t-other:hook` }],
  };
  const db = openDb(":memory:");
  try {
    const n = new Notifications({
      db,
      box: new SecretBox(btoa("k".repeat(32))),
      storage: {
        ...storage,
        getBucket: storage.getBucket,
        getBucketConfig: () => Promise.resolve(foreign),
      } as unknown as Backend,
      clock: { now: () => 0 },
      log: quiet,
      region: REGION,
      outbound: { allowPrivate: true },
    });
    await n.targets.create("t-other", { name: "hook", url: "http://127.0.0.1:9/" });
    await n.follower.accept([change(1, "a.jpg", "ObjectCreated:Put")]);
    assertEquals(n.depths(), []);
  } finally {
    db.close();
  }
});

Deno.test("test messages of a save: once per newly named target of the bucket's namespace", async () => {
  const { db, n } = setup();
  const r = receiver();
  try {
    await n.targets.create("", { name: "hook", url: r.url });
    await n.targets.create("", { name: "later", url: r.url });
    await n.targets.create("t-other", { name: "hook", url: r.url });
    const rules = [
      { id: "a", arn: `arn:maxiofs:sqs:${REGION}:global:hook` },
      { id: "b", arn: `arn:maxiofs:sns:${REGION}:global:hook` },
      // Another namespace's target, and one that does not exist: nothing for them.
      { id: "c", arn: `arn:maxiofs:sqs:${REGION}:t-other:hook` },
      { id: "d", arn: `arn:maxiofs:sqs:${REGION}:global:missing` },
    ];
    assertEquals(n.queueTestEvents(bucket, rules, [], "REQ1"), 1);
    // The same save again (the request retried): already named, nothing more.
    assertEquals(n.queueTestEvents(bucket, rules, rules, "REQ2"), 0);
    const more = [...rules, { id: "e", arn: `arn:maxiofs:lambda:${REGION}:global:later` }];
    assertEquals(n.queueTestEvents(bucket, more, rules, "REQ3"), 1);
    assertEquals(await n.deliverDue(), { delivered: 2, failed: 0, dead: 0 });
    const bodies = r.got.map((g) => g.body as Record<string, string>);
    assertEquals(bodies.map((b) => [b.Event, b.Bucket, b.RequestId]).sort(), [
      ["s3:TestEvent", "photos", "REQ1"],
      ["s3:TestEvent", "photos", "REQ3"],
    ]);
    assertEquals(bodies[0].Service, "Amazon S3");
    assertEquals(bodies[0].Time, new Date(5_000_000).toISOString());
  } finally {
    await r.close();
    db.close();
  }
});

Deno.test("a save's test message is built at delivery byte for byte as it was queued before", async () => {
  const { db, n } = setup();
  const r = receiver();
  try {
    await n.targets.create("", { name: "hook", url: r.url });
    const rules = [{ id: "a", arn: `arn:maxiofs:sqs:${REGION}:global:hook` }];
    assertEquals(n.queueTestEvents(bucket, rules, [], "REQ9"), 1);
    // What queueTestEvents stored as the row's payload before rows held the change alone.
    const before = JSON.stringify(
      testEventMessage({ bucket: bucket.name, time: 5_000_000, requestId: "REQ9" }),
    );
    const [d] = n.queue.due(5_000_000, 10);
    assertEquals([d.payload, deliveryBody(d, REGION)], [null, before]);
    assertEquals(await n.deliverDue(), { delivered: 1, failed: 0, dead: 0 });
    assertEquals(JSON.stringify(r.got[0].body), before);
  } finally {
    await r.close();
    db.close();
  }
});

Deno.test("a delivery queued under the previous schema is sent with its message after migrating", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-nq-" });
  const path = `${dir}/maxiofs.db`;
  const r = receiver();
  try {
    const old = openDb(path, { migrations: MIGRATIONS.filter((m) => m.version < 12) });
    // The message as the previous follower queued it, through the previous queue's INSERT.
    const c = change(1, "a.jpg", "ObjectCreated:Put");
    const payload = JSON.stringify(
      eventMessage(c, { region: REGION, configurationId: "jpgs", ownerId: "OLD-OWNER" }),
    );
    old.prepare(
      `INSERT OR IGNORE INTO notification_queue
         (seq, config_id, ns, bucket, key, event, target_ns, target, payload, attempts, next_at,
          state, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'pending', ?)`,
    ).run(c.seq, "jpgs", "", c.bucket, c.key, c.event, "", "hook", payload, c.time, c.time);
    old.close();
    const db = openDb(path);
    try {
      const n = restarted(db);
      await n.targets.create("", { name: "hook", url: r.url });
      // The dispatcher hands the change over again after the restart: not queued twice.
      await n.follower.accept([c]);
      assertEquals(await n.deliverDue(), { delivered: 1, failed: 0, dead: 0 });
      assertEquals(JSON.stringify(r.got[0].body), payload);
      assertEquals(n.depths(), []);
    } finally {
      db.close();
    }
  } finally {
    await r.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the background worker removes delivered rows when idle and sleeps until a retry is due", async () => {
  const db = openDb(":memory:");
  const r = receiver();
  const waits: number[] = [];
  // Time passes at once for the short wait of removals; the others last until a wake or the stop.
  const sleep: Sleep = (ms, signal) => {
    waits.push(ms);
    if (ms <= 250 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve()));
  };
  const n = restarted(db, { baseDelayMs: 1000, sleep });
  const rows = () => db.prepare("SELECT COUNT(*) AS n FROM notification_queue").get()?.n;
  /** Waits until the worker, after `act`, sleeps for `wait` (bounded: ~5 s on a busy machine). */
  const settles = async (wait: number, act: () => Promise<void>) => {
    const before = waits.length;
    await act();
    for (let i = 0; i < 2500 && !(waits.length > before && waits.at(-1) === wait); i++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    assertEquals(waits.at(-1), wait);
  };
  try {
    await n.targets.create("", { name: "hook", url: r.url });
    await settles(60_000, () => Promise.resolve(n.start()));
    // Delivered; its row waits a short while for deliveries to remove it with, then goes alone.
    await settles(60_000, () => n.follower.accept([change(1, "a.jpg", "ObjectCreated:Put")]));
    assertEquals([r.got.length, rows(), waits.at(-2)], [1, 0, 250]);
    r.setStatus(500);
    // Failed: the next attempt is due after the first backoff, and the worker sleeps till then.
    await settles(1000, () => n.follower.accept([change(2, "b.jpg", "ObjectCreated:Put")]));
    assertEquals(n.depths(), [{ targetNs: "", target: "hook", pending: 1, dead: 0 }]);
  } finally {
    await n.stop();
    await r.close();
    db.close();
  }
});
