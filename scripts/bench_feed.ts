/**
 * What following a bucket costs its writes: 4 KiB PUTs through the real storage (fsync on, group
 * commit), 1 and 32 at a time, into a bucket without followers and into one followed, whose
 * commits also set their `["feed", seq]` entry while a dispatcher hands the feed to a follower
 * that keeps nothing (as the notification and replication followers would, minus their SQLite
 * insert) and removes it. The two run in alternating rounds, each on a storage of its own, and the
 * ratio is of their totals, so load from elsewhere falls on both alike.
 *
 * With `--follower notifications` the follower is the real notification follower: each change
 * matches the bucket's configuration (every object event to one webhook target) and is queued in
 * its SQLite queue (the data dir's `maxiofs.db`), with no worker delivering: the whole cost of
 * following a bucket on the server's side up to the queue, without the deliveries.
 *
 * `deno task bench:feed [--rounds N] [--puts N] [--follower none|notifications]`
 */
import process from "node:process";
import { openTempStorage, quiet } from "../tests/_helpers/storage.ts";
import type { BucketRecord } from "../server/storage/mod.ts";
import { FeedDispatcher, setFollowing } from "../server/features/feed/dispatcher.ts";
import type { FeedFollower } from "../server/storage/mod.ts";
import { openDb } from "../server/db/mod.ts";
import { DeliveryQueue } from "../server/features/notifications/queue.ts";
import { NotificationFollower } from "../server/features/notifications/follower.ts";
import {
  NOTIFICATION_CONFIG,
  type NotificationConfig,
} from "../server/features/notifications/config.ts";

const arg = (name: string, dflt: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
};
const ROUNDS = arg("rounds", 10);
const PUTS = arg("puts", 320);
const body = new Uint8Array(4096);
const FOLLOWER = (() => {
  const i = Deno.args.indexOf("--follower");
  const v = i >= 0 ? Deno.args[i + 1] : "none";
  if (v !== "none" && v !== "notifications") throw new Error(`--follower none|notifications`);
  return v;
})();

/** Every object event of the bucket to one webhook target (notifications/config.ts's shape). */
const NOTIFY_ALL: NotificationConfig = {
  v: 1,
  rules: [{
    kind: "Queue",
    id: "bench",
    arn: "arn:maxiofs:sqs:us-east-1:global:bench",
    events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
    filterRules: null,
    prefix: "",
    suffix: "",
  }],
};

async function setup(followed: boolean) {
  const opened = await openTempStorage("maxiofs-feed-bench-");
  const s = opened.storage;
  let bucket: BucketRecord = await s.backend.createBucket({
    ns: "",
    name: "bench",
    ownerId: "o",
    region: "us-east-1",
  });
  let dispatcher: FeedDispatcher | null = null;
  let db: ReturnType<typeof openDb> | null = null;
  if (followed) {
    let follower: FeedFollower = { name: "bench", accept: async () => {} };
    if (FOLLOWER === "notifications") {
      db = openDb(`${opened.dataDir}/maxiofs.db`);
      await s.backend.putBucketConfig(bucket.id, NOTIFICATION_CONFIG, NOTIFY_ALL);
      follower = new NotificationFollower({
        storage: s.backend,
        queue: new DeliveryQueue(db),
        region: "us-east-1",
      });
    }
    bucket = await setFollowing(s.backend, bucket, follower.name, true);
    const inner = follower;
    dispatcher = new FeedDispatcher(s.backend, [{
      name: inner.name,
      accept: async (changes) => {
        await inner.accept(changes);
        accepted += changes.length;
      },
    }], quiet);
    dispatcher.start();
  }
  let n = 0;
  /** Changes the follower has accepted (the CPU and bytes of a round wait for them). */
  let accepted = 0;
  const put = () =>
    s.backend.putObject(bucket, {
      key: `k${n++}`,
      body: new Blob([body]).stream(),
      contentLength: body.length,
      content: {},
      meta: {},
      ownerId: "o",
      origin: { event: "ObjectCreated:Put", requestId: "r", principalId: "p", sourceIp: "::1" },
    });
  /**
   * Seconds for `PUTS` PUTs, `conc` at a time; and the process's CPU (µs, every thread) and
   * bytes written until the follower has accepted them: steadier than rates on a shared machine.
   */
  const run = async (conc: number) => {
    const t0 = performance.now();
    const c0 = cpuUs();
    const w0 = writtenBytes();
    for (let i = 0; i < PUTS; i += conc) {
      await Promise.all(Array.from({ length: Math.min(conc, PUTS - i) }, put));
    }
    const seconds = (performance.now() - t0) / 1000;
    for (let i = 0; i < 5000 && dispatcher && accepted < n; i++) {
      await new Promise((r) => setTimeout(r, 1));
    }
    return { seconds, cpu: cpuUs() - c0, bytes: writtenBytes() - w0 };
  };
  const close = async () => {
    await dispatcher?.stop();
    db?.close();
    await opened.close();
  };
  /** Deliveries the follower queued (notifications only). */
  const queued = () =>
    db
      ? Number(
        (db.prepare("SELECT COUNT(*) AS n FROM notification_queue").get() as { n: number }).n,
      )
      : null;
  return { run, close, dispatcher, queued };
}

/** The process's CPU time so far (µs, every thread). */
function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Bytes the process has caused to be written to the disk (Linux `/proc`; 0 elsewhere). */
function writtenBytes(): number {
  try {
    return Number(/write_bytes: (\d+)/.exec(Deno.readTextFileSync("/proc/self/io"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

console.log(
  `feed bench: ${ROUNDS} alternating rounds of ${PUTS} PUTs of 4 KiB per side; follower: ${
    FOLLOWER === "none" ? "keeps nothing" : "notifications (queued, not delivered)"
  }`,
);
for (const conc of [1, 32]) {
  const plain = await setup(false);
  const followed = await setup(true);
  await plain.run(conc); // warm-up, untimed
  await followed.run(conc);
  const p = { seconds: 0, cpu: 0, bytes: 0 };
  const f = { seconds: 0, cpu: 0, bytes: 0 };
  const add = (to: typeof p, x: typeof p) => {
    to.seconds += x.seconds;
    to.cpu += x.cpu;
    to.bytes += x.bytes;
  };
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      add(p, await plain.run(conc));
      add(f, await followed.run(conc));
    } else {
      add(f, await followed.run(conc));
      add(p, await plain.run(conc));
    }
  }
  const tp = p.seconds;
  const tf = f.seconds;
  const rate = (t: number) => (ROUNDS * PUTS / t).toFixed(0);
  const per = (x: typeof p) =>
    `${(x.cpu / ROUNDS / PUTS).toFixed(0)} µs CPU, ${
      (x.bytes / ROUNDS / PUTS / 1024).toFixed(1)
    } KiB written`;
  const c = followed.dispatcher!.counts;
  console.log(
    `${conc} at a time: not followed ${rate(tp)} PUT/s, followed ${rate(tf)} PUT/s, ` +
      `followed/not ${
        (tp / tf).toFixed(3)
      } (dispatcher: ${c.batches} reads, ${c.removals} removals${
        followed.queued() === null ? "" : `; ${followed.queued()} deliveries queued`
      })`,
  );
  console.log(`  per PUT: not followed ${per(p)}; followed ${per(f)}`);
  await plain.close();
  await followed.close();
}
