/**
 * What following a bucket costs its writes: 4 KiB PUTs through the real storage (fsync on, group
 * commit), 1 and 32 at a time, into a bucket without followers and into one followed (each commit
 * then also sets its `["feed", seq]` entry). The dispatcher is not running: the feed only grows,
 * which is the request path's share of the cost. `deno bench -A --unstable-kv
 * server/features/feed/feed_bench.ts`
 */
import { openTempStorage } from "../../../tests/_helpers/storage.ts";
import { setFollowing } from "./dispatcher.ts";

const opened = await openTempStorage("maxiofs-feed-bench-");
const s = opened.storage;
const plain = await s.backend.createBucket({
  ns: "",
  name: "not-followed",
  ownerId: "o",
  region: "us-east-1",
});
const followed = await setFollowing(
  s.backend,
  await s.backend.createBucket({ ns: "", name: "followed", ownerId: "o", region: "us-east-1" }),
  "notifications",
  true,
);
const body = new Uint8Array(4096);
let n = 0;
const put = (bucket: typeof plain) =>
  s.backend.putObject(bucket, {
    key: `k${n++}`,
    body: new Blob([body]).stream(),
    contentLength: body.length,
    content: {},
    meta: {},
    ownerId: "o",
    origin: { event: "ObjectCreated:Put", requestId: "r", principalId: "p", sourceIp: "127.0.0.1" },
  });
const many = (bucket: typeof plain) => Promise.all(Array.from({ length: 32 }, () => put(bucket)));

Deno.bench(
  "PUT 4 KiB, 1 at a time, bucket not followed",
  { group: "c1", baseline: true },
  async () => {
    await put(plain);
  },
);
Deno.bench("PUT 4 KiB, 1 at a time, bucket followed", { group: "c1" }, async () => {
  await put(followed);
});
Deno.bench(
  "PUT 4 KiB, 32 at a time, bucket not followed",
  { group: "c32", baseline: true },
  async () => {
    await many(plain);
  },
);
Deno.bench("PUT 4 KiB, 32 at a time, bucket followed", { group: "c32" }, async () => {
  await many(followed);
});

globalThis.addEventListener("unload", () => {
  opened.close();
});
