/**
 * The change log's entries: the changes of one KV commit share one entry (merged writes
 * included), large commits are split into entries under Deno KV's value limit, positions go on
 * from a cursor inside an entry, and an entry written before entries were lists still reads.
 */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { openTempStorage, putText, type Storage } from "../../../tests/_helpers/storage.ts";
import { FEED_PREFIX, feedKey } from "../meta/keys.ts";
import type { BucketRecord } from "../types.ts";

async function followed(s: Storage, name: string): Promise<BucketRecord> {
  const b = await s.backend.createBucket({ ns: "", name, ownerId: "o", region: "us-east-1" });
  return await s.backend.updateBucket(b, (r) => ({ ...r, feed: ["x"] }));
}

async function entries(s: Storage): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const e of s.core.meta.reader.list<unknown[]>({ prefix: FEED_PREFIX })) {
    out.push(e.value);
  }
  return out;
}

Deno.test("change log: writes merged into one commit share one entry", async () => {
  const opened = await openTempStorage("maxiofs-feed-log-");
  const s = opened.storage;
  try {
    const b = await followed(s, "merged");
    // Started in one tick: the first commits alone, the others wait and are merged.
    await Promise.all(["a", "b", "c", "d", "e"].map((k) => putText(s, b, k, k)));
    // Usually [1, 4]; on a loaded machine a write may reach the committer a commit later.
    const stored = await entries(s);
    assert(stored.length < 5, `${stored.length} entries: nothing merged`);
    assertEquals(stored.reduce((n, e) => n + e.length, 0), 5);
    const got = await s.core.feed.read(100);
    assertEquals(got.map((c) => c.key).sort(), ["a", "b", "c", "d", "e"]);
    // A PUT says whether it marked its version replication PENDING (here: no rule, no).
    assertEquals(got.map((c) => c.replicationPending), [false, false, false, false, false]);
    const seqs = got.map((c) => BigInt(c.seq));
    assert(seqs.every((x, i) => i === 0 || x > seqs[i - 1]));
    assertEquals(s.core.feed.depth(), 5);
    // A cursor inside the merged entry returns the rest of it only.
    const rest = await s.core.feed.read(100, got[2].seq);
    assertEquals(rest.map((c) => c.seq), got.slice(3).map((c) => c.seq));
    await s.core.feed.remove(got);
    assertEquals(await entries(s), []);
    assertEquals(s.core.feed.depth(), 0);
  } finally {
    await opened.close();
  }
});

Deno.test("change log: a large commit is split into entries under the value limit", async () => {
  const opened = await openTempStorage("maxiofs-feed-split-");
  const s = opened.storage;
  try {
    const b = await followed(s, "split");
    const op = s.core.meta.write();
    const long = "k".repeat(900);
    for (let i = 0; i < 200; i++) {
      s.core.feed.record(op, b, { event: "ObjectCreated:Put" }, {
        key: `${long}${i}`,
        versionId: "null",
      });
    }
    assert((await op.commit()).ok);
    const stored = await entries(s);
    assert(stored.length > 1, `${stored.length} entries`);
    assertEquals(stored.reduce((n, e) => n + e.length, 0), 200);
    const got = await s.core.feed.read(1000);
    assertEquals(got.map((c) => c.key), Array.from({ length: 200 }, (_, i) => `${long}${i}`));
    assertEquals(got[0].replicationPending, undefined, "not said by the writer");
  } finally {
    await opened.close();
  }
});

Deno.test("change log: an entry of one change (the earlier form) still reads", async () => {
  const opened = await openTempStorage("maxiofs-feed-old-");
  const s = opened.storage;
  try {
    const old = [
      1_700_000_000_000,
      "bid",
      "",
      "old",
      "k",
      "null",
      0,
      1,
      '"e"',
      0,
      null,
      null,
      null,
    ];
    await s.core.meta.set(feedKey(1_700_000_000_000_000n), old);
    const got = await s.core.feed.read(10);
    assertEquals(got.map((c) => [c.event, c.bucket, c.key, c.size]), [
      ["ObjectCreated:Put", "old", "k", 1],
    ]);
    // Written before changes said whether the version was marked PENDING: unknown.
    assertEquals(got[0].replicationPending, undefined);
    await s.core.feed.remove(got);
    assertEquals(await entries(s), []);
  } finally {
    await opened.close();
  }
});
