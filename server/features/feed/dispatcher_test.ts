/**
 * The change feed end to end on a real storage: only followed buckets record changes, in the
 * commit of the write (events, versions, markers), the dispatcher hands every change to every
 * follower and removes it, a follower that fails gets the same batch again, changes left in the
 * feed at a restart are handed over after it, and positions are never reused.
 */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { openTempStorage, putText, quiet, type Storage } from "../../../tests/_helpers/storage.ts";
import { openStorage } from "../../storage/mod.ts";
import type { BucketRecord, FeedFollower, ObjectChange } from "../../storage/mod.ts";
import { FeedDispatcher, setFollowing } from "./dispatcher.ts";

class Collect implements FeedFollower {
  readonly got: ObjectChange[] = [];
  failNext = 0;
  constructor(readonly name: string) {}
  accept(changes: ObjectChange[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error("follower down"));
    }
    this.got.push(...changes);
    return Promise.resolve();
  }
}

const noPause = () => Promise.resolve();

async function bucket(
  s: Storage,
  name: string,
  versioned = false,
): Promise<BucketRecord> {
  let b = await s.backend.createBucket({ ns: "", name, ownerId: "o", region: "us-east-1" });
  if (versioned) b = await s.backend.updateBucket(b, (r) => ({ ...r, versioning: "Enabled" }));
  return b;
}

Deno.test("change feed: followed buckets only, one change per committed write", async () => {
  let t = 1_700_000_000_000;
  const opened = await openTempStorage("maxiofs-feed-", { clock: { now: () => (t += 1000) } });
  const s = opened.storage;
  try {
    const quietBucket = await bucket(s, "unfollowed");
    let b = await bucket(s, "followed", true);
    b = await setFollowing(s.backend, b, "notifications", true);
    assertEquals(b.feed, ["notifications"]);
    await putText(s, quietBucket, "x", "1");
    assertEquals(await s.backend.changes.read(10), []);

    const v1 = await putText(s, b, "docs/a.txt", "hello");
    await s.backend.updateObjectVersion(b, "docs/a.txt", v1.versionId, (r) => ({
      ...r,
      tags: { k: "v" },
    }), { event: "ObjectTagging:Put", principalId: "u1", sourceIp: "10.0.0.1" });
    // A change of retention names no event: nothing recorded.
    await s.backend.updateObjectVersion(b, "docs/a.txt", v1.versionId, (r) => r);
    const marker = await s.backend.deleteObject(b, "docs/a.txt", {
      origin: { event: "ObjectRemoved:Delete", requestId: "r1" },
    });
    await s.backend.deleteObject(b, "docs/a.txt", {
      versionId: v1.versionId,
      origin: { event: "LifecycleExpiration:Delete" },
    });

    const follower = new Collect("notifications");
    const d = new FeedDispatcher(s.backend, [follower], quiet, {
      pause: noPause,
      removeEveryMs: 0,
    });
    assertEquals(s.backend.changes.depth(), 4);
    await d.drain();
    assertEquals(s.backend.changes.depth(), 0);
    assertEquals(await s.backend.changes.read(10), []);
    const got = follower.got;
    assertEquals(got.map((c) => c.event), [
      "ObjectCreated:Put",
      "ObjectTagging:Put",
      "ObjectRemoved:DeleteMarkerCreated",
      "LifecycleExpiration:Delete",
    ]);
    assertEquals(got[0].bucket, "followed");
    assertEquals(got[0].key, "docs/a.txt");
    assertEquals(got[0].versionId, v1.versionId);
    assertEquals(got[0].size, 5);
    assertEquals(got[0].etag, v1.etag);
    assertEquals(got[1].principalId, "u1");
    assertEquals(got[1].sourceIp, "10.0.0.1");
    assertEquals(got[2].deleteMarker, true);
    assertEquals(got[2].versionId, marker!.versionId);
    assertEquals(got[2].requestId, "r1");
    assertEquals(got[3].versionId, v1.versionId);
    for (let i = 1; i < got.length; i++) assert(BigInt(got[i].seq) > BigInt(got[i - 1].seq));

    // Unfollowed again: nothing more is recorded.
    b = await setFollowing(s.backend, b, "notifications", false);
    assertEquals(b.feed, undefined);
    await putText(s, b, "later", "x");
    assertEquals(await s.backend.changes.read(10), []);
  } finally {
    await opened.close();
  }
});

Deno.test("change feed: a failing follower gets the batch again; a restart hands over what is left", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-feed-restart-" });
  // A clock that goes back at the restart: positions must still grow.
  let t = 1_700_000_000_000;
  const clock = { now: () => (t += 1000) };
  try {
    const first = await openStorage({ dataDir, log: quiet, clock });
    let b = await bucket(first, "bucket-one");
    b = await setFollowing(first.backend, b, "replication", true);
    await putText(first, b, "k1", "1");
    await putText(first, b, "k2", "2");
    const a = new Collect("replication");
    const other = new Collect("notifications");
    a.failNext = 1;
    const d = new FeedDispatcher(first.backend, [other, a], quiet, {
      pause: noPause,
      removeEveryMs: 0,
    });
    const idle = d.idle();
    d.start();
    await idle;
    await d.stop();
    // The batch went to `other` twice (at least once is the contract), to `a` once it worked.
    assertEquals(a.got.map((c) => c.key), ["k1", "k2"]);
    assertEquals(other.got.map((c) => c.key), ["k1", "k2", "k1", "k2"]);
    assertEquals(d.counts.failures, 1);
    const lastSeq = BigInt(a.got[1].seq);
    // Written and left in the feed at shutdown.
    await putText(first, b, "k3", "3");
    await first.close();

    t = 1_600_000_000_000;
    const second = await openStorage({ dataDir, log: quiet, clock });
    try {
      assertEquals(second.backend.changes.depth(), 1);
      const c = new Collect("replication");
      const d2 = new FeedDispatcher(second.backend, [c], quiet, {
        pause: noPause,
        removeEveryMs: 0,
      });
      let idle = d2.idle();
      d2.start();
      await idle;
      assertEquals(c.got.map((x) => x.key), ["k3"]);
      idle = d2.idle();
      await putText(second, b, "k4", "4");
      await idle;
      await d2.stop();
      assertEquals(c.got.map((x) => x.key), ["k3", "k4"]);
      assert(BigInt(c.got[0].seq) > lastSeq);
      assert(BigInt(c.got[1].seq) > BigInt(c.got[0].seq));
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("change feed: a change committed after a later one is still handed over", async () => {
  let t = 1_700_000_000_000;
  const opened = await openTempStorage("maxiofs-feed-order-", {
    clock: { now: () => (t += 1000) },
  });
  const s = opened.storage;
  try {
    const b = await setFollowing(s.backend, await bucket(s, "ordered"), "x", true);
    const log = s.core.feed;
    // Two commits built in order (their feed entries positioned then); the first ends last.
    const first = s.core.meta.write();
    log.record(first, b, { event: "ObjectCreated:Put" }, { key: "a", versionId: "null" });
    const second = s.core.meta.write();
    log.record(second, b, { event: "ObjectCreated:Put" }, { key: "c", versionId: "null" });
    const opA = s.core.meta.writer.atomic();
    const a = log.add(opA, first.appends);
    const opC = s.core.meta.writer.atomic();
    const c = log.add(opC, second.appends);
    assert(a[0] < c[0]);
    await opC.commit();
    log.settled(c, true);
    // `a` is still being committed: nothing is returned past it.
    assertEquals(await log.read(10), []);
    await opA.commit();
    log.settled(a, true);
    const got = await log.read(10);
    assertEquals(got.map((x) => x.key), ["a", "c"]);
    // Reading on after the last one returned finds nothing more.
    assertEquals(await log.read(10, got[1].seq), []);
  } finally {
    await opened.close();
  }
});
