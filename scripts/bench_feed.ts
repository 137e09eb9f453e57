/**
 * What following a bucket costs its writes: 4 KiB PUTs through the real storage (fsync on, group
 * commit), 1 and 32 at a time, into a bucket without followers and into one followed, whose
 * commits also set their `["feed", seq]` entry while a dispatcher hands the feed to a follower
 * that keeps nothing (as the notification and replication followers would, minus their SQLite
 * insert) and removes it. The two run in alternating rounds, each on a storage of its own, and the
 * ratio is of their totals, so load from elsewhere falls on both alike.
 *
 * `deno task bench:feed [--rounds N] [--puts N]`
 */
import { openTempStorage, quiet } from "../tests/_helpers/storage.ts";
import type { BucketRecord } from "../server/storage/mod.ts";
import { FeedDispatcher, setFollowing } from "../server/features/feed/dispatcher.ts";

const arg = (name: string, dflt: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
};
const ROUNDS = arg("rounds", 10);
const PUTS = arg("puts", 320);
const body = new Uint8Array(4096);

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
  if (followed) {
    bucket = await setFollowing(s.backend, bucket, "bench", true);
    dispatcher = new FeedDispatcher(s.backend, [{ name: "bench", accept: async () => {} }], quiet);
    dispatcher.start();
  }
  let n = 0;
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
  /** Seconds for `PUTS` PUTs, `conc` at a time. */
  const run = async (conc: number) => {
    const t0 = performance.now();
    for (let i = 0; i < PUTS; i += conc) {
      await Promise.all(Array.from({ length: Math.min(conc, PUTS - i) }, put));
    }
    return (performance.now() - t0) / 1000;
  };
  const close = async () => {
    await dispatcher?.stop();
    await opened.close();
  };
  return { run, close, dispatcher };
}

console.log(`feed bench: ${ROUNDS} alternating rounds of ${PUTS} PUTs of 4 KiB per side`);
for (const conc of [1, 32]) {
  const plain = await setup(false);
  const followed = await setup(true);
  await plain.run(conc); // warm-up, untimed
  await followed.run(conc);
  let tp = 0;
  let tf = 0;
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      tp += await plain.run(conc);
      tf += await followed.run(conc);
    } else {
      tf += await followed.run(conc);
      tp += await plain.run(conc);
    }
  }
  const rate = (t: number) => (ROUNDS * PUTS / t).toFixed(0);
  const c = followed.dispatcher!.counts;
  console.log(
    `${conc} at a time: not followed ${rate(tp)} PUT/s, followed ${rate(tf)} PUT/s, ` +
      `followed/not ${
        (tp / tf).toFixed(3)
      } (dispatcher: ${c.batches} reads, ${c.removals} removals)`,
  );
  await plain.close();
  await followed.close();
}
