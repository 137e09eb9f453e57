/**
 * The follower, queue and worker against a second MaxIOFS started on loopback (allowed with
 * --allow-private-endpoints): the source is storage opened in-process with a clock the test
 * moves, changes are handed to the follower as the feed dispatcher would.
 */
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { randomBytes, startServer } from "../../../tests/_helpers/server.ts";
import { change, destBytes, put, setup } from "../../../tests/_helpers/replication_source.ts";
import { parseReplication } from "./config.ts";
import { parseXml } from "../../s3/xml.ts";

Deno.test("replication worker: copies objects with metadata, marks them, replicates markers", async (t) => {
  const dest = await startServer({ args: ["--allow-private-endpoints"] });
  const s = await setup(dest, "dst1");
  try {
    assertEquals(s.b.feed, ["replication"]);
    await t.step("small and multipart-sized objects, bytes and metadata compared", async () => {
      const small = await put(s.storage, s.b, "a/small.txt", "hello", {
        content: { contentType: "text/plain", cacheControl: "max-age=5" },
        meta: { color: "blue" },
        tags: { team: "x" },
        replication: "PENDING",
      });
      const bigData = randomBytes(20 * 1024 * 1024 + 123);
      const big = await put(s.storage, s.b, "big.bin", bigData, { replication: "PENDING" });
      await s.repl.follower.accept([change(s.b, small), change(s.b, big)]);
      // Handing the same batch over again (after a crash) queues nothing new.
      await s.repl.follower.accept([change(s.b, small, "ObjectCreated:Put", { seq: "1" })]);
      assertEquals(s.repl.queue.counts(s.b.id)[0].queued, 2);
      assertEquals(await s.repl.worker.drain(), 2);
      const a = await destBytes(dest, "dst1", "a/small.txt");
      assertEquals(new TextDecoder().decode(a.bytes), "hello");
      assertEquals(a.head.ContentType, "text/plain");
      assertEquals(a.head.CacheControl, "max-age=5");
      assertEquals(a.head.Metadata, { color: "blue" });
      assertEquals(a.head.TagCount, 1);
      assertEquals(a.head.ReplicationStatus, "REPLICA");
      const g = await destBytes(dest, "dst1", "big.bin");
      assertEquals(g.bytes.length, bigData.length);
      assert(g.bytes.every((v, i) => v === bigData[i]), "big object bytes differ");
      const srcRec = await s.storage.getObjectRecord(s.b, "a/small.txt");
      assertEquals(srcRec.replication, "COMPLETED");
      assertEquals(s.repl.queue.counts(s.b.id), []);
    });
    await t.step("a delete marker is replicated; replica changes are not queued", async () => {
      const m = await s.storage.deleteObject(s.b, "a/small.txt");
      assert(m?.deleteMarker);
      await s.repl.follower.accept([
        change(s.b, m!, "ObjectRemoved:DeleteMarkerCreated", { deleteMarker: true }),
        change(s.b, m!, "ObjectCreated:Put", { replica: true, key: "from-peer" }),
      ]);
      assertEquals(await s.repl.worker.drain(), 1);
      const head = await dest.client().send(
        new HeadObjectCommand({ Bucket: "dst1", Key: "a/small.txt" }),
      ).then(() => 200, (e) => e.$metadata?.httpStatusCode);
      assertEquals(head, 404);
    });
    await t.step("per-key order: the newer version is the destination's latest", async () => {
      const v1 = await put(s.storage, s.b, "k", "one", { replication: "PENDING" });
      const v2 = await put(s.storage, s.b, "k", "two", { replication: "PENDING" });
      await s.repl.follower.accept([change(s.b, v1), change(s.b, v2)]);
      // One task per key at a time: the first pass takes v1 only.
      assertEquals(s.repl.queue.due(Date.now() * 2, 10, new Set()).length, 1);
      assertEquals(await s.repl.worker.drain(), 2);
      assertEquals(new TextDecoder().decode((await destBytes(dest, "dst1", "k")).bytes), "two");
    });
    await t.step("sync now queues what the destination lacks, and nothing once equal", async () => {
      await put(s.storage, s.b, "unqueued", "made before the rule saw it");
      assertEquals(await s.repl.syncNow(s.b), 1);
      assertEquals(await s.repl.worker.drain(), 1);
      assertEquals(await s.repl.syncNow(s.b), 0);
    });
  } finally {
    await s.close();
    await dest.stop();
  }
});

Deno.test("replication worker: an unreachable destination retries with backoff, then dead-letters; retry copies", async () => {
  const dest = await startServer({ args: ["--allow-private-endpoints"] });
  const s = await setup(dest, "dst2");
  const port = dest.port;
  await dest.stop();
  try {
    assert(/ECONNREFUSED/.test(String(await s.repl.testDestination("", "dr"))), "refused");
    const rec = await put(s.storage, s.b, "x", "payload", { replication: "PENDING" });
    await s.repl.follower.accept([change(s.b, rec)]);
    assertEquals(await s.repl.worker.drain(), 1);
    let [task] = s.repl.failures(s.b);
    assertEquals(task.attempts, 1);
    assertEquals(task.state, "queued");
    // Not due again until the backoff passed.
    assertEquals(await s.repl.worker.drain(), 0);
    s.advance(1000);
    assertEquals(await s.repl.worker.drain(), 1);
    s.advance(2000);
    assertEquals(await s.repl.worker.drain(), 1);
    [task] = s.repl.failures(s.b);
    assertEquals(task.state, "dead");
    assertEquals((await s.storage.getObjectRecord(s.b, "x")).replication, "FAILED");
    // The destination comes back (same port); a retry copies the object.
    const back = await startServer({
      args: ["--allow-private-endpoints", "--listen", `127.0.0.1:${port}`],
    });
    try {
      await back.client().send(new CreateBucketCommand({ Bucket: "dst2" }));
      assertEquals(await s.repl.testDestination("", "dr"), null);
      assertEquals(s.repl.retry(s.b), 1);
      assertEquals(await s.repl.worker.drain(), 1);
      assertEquals(new TextDecoder().decode((await destBytes(back, "dst2", "x")).bytes), "payload");
      assertEquals((await s.storage.getObjectRecord(s.b, "x")).replication, "COMPLETED");
      assertEquals(s.repl.failures(s.b), []);
    } finally {
      await back.stop();
    }
  } finally {
    await s.close();
  }
});

Deno.test("replication worker: wrong credentials fail with the destination's error, data untouched", async () => {
  const dest = await startServer({ args: ["--allow-private-endpoints"] });
  const s = await setup(dest, "dst3", { secret: "not-the-secret-key-000000000000000000000" });
  try {
    const probe = await s.repl.testDestination("", "dr");
    assert(probe && /403/.test(probe), String(probe));
    assertEquals(
      await s.repl.testDestination("", "nope"),
      'no replication destination "nope" is registered',
    );
    const rec = await put(s.storage, s.b, "x", "payload", { replication: "PENDING" });
    await s.repl.follower.accept([change(s.b, rec)]);
    await s.repl.worker.drain();
    const [task] = s.repl.failures(s.b);
    assert(/SignatureDoesNotMatch/.test(task.lastError ?? ""), task.lastError ?? "no error");
    const src = await s.storage.getObjectRecord(s.b, "x");
    assertEquals(src.etag, rec.etag);
    assertEquals(src.replication, "PENDING");
  } finally {
    await s.close();
    await dest.stop();
  }
});

Deno.test("replication worker: scheduled and manual modes stop following the feed; a schedule syncs when due", async () => {
  const dest = await startServer({ args: ["--allow-private-endpoints"] });
  const s = await setup(dest, "dst4");
  try {
    await s.repl.setMode(s.b, "scheduled", 600);
    let b = await s.storage.getBucket("", "src");
    assertEquals(b.feed, undefined);
    await put(s.storage, b, "s1", "one");
    // Due at once (never synced), then not again until the interval passed.
    assertEquals(await s.repl.runSchedules(), 1);
    assertEquals(await s.repl.worker.drain(), 1);
    await put(s.storage, b, "s2", "two");
    assertEquals(await s.repl.runSchedules(), 0);
    s.advance(600_000);
    assertEquals(await s.repl.runSchedules(), 1);
    assertEquals(await s.repl.worker.drain(), 1);
    assertEquals(new TextDecoder().decode((await destBytes(dest, "dst4", "s2")).bytes), "two");
    await s.repl.setMode(s.b, "manual");
    s.advance(600_000);
    assertEquals(await s.repl.runSchedules(), 0);
    await s.repl.setMode(s.b, "realtime");
    b = await s.storage.getBucket("", "src");
    assertEquals(b.feed, ["replication"]);
    let refused = "";
    await s.repl.setMode(s.b, "scheduled", 5).catch((e) => refused = e.code);
    assertEquals(refused, "InvalidArgument");
  } finally {
    await s.close();
    await dest.stop();
  }
});

Deno.test("replication worker: the 'newer' conflict policy keeps a destination object written later", async () => {
  const dest = await startServer({ args: ["--allow-private-endpoints"] });
  // The source's clock is years behind: its versions are older than the destination's writes.
  const s = await setup(dest, "dst5", { conflict: "newer", now: 1_600_000_000_000 });
  try {
    await dest.client().send(
      new PutObjectCommand({ Bucket: "dst5", Key: "both", Body: "written at the destination" }),
    );
    const rec = await put(s.storage, s.b, "both", "older at the source");
    const fresh = await put(s.storage, s.b, "only-source", "copied");
    await s.repl.follower.accept([change(s.b, rec), change(s.b, fresh)]);
    assertEquals(await s.repl.worker.drain(), 2);
    assertEquals(
      new TextDecoder().decode((await destBytes(dest, "dst5", "both")).bytes),
      "written at the destination",
    );
    assertEquals(
      new TextDecoder().decode((await destBytes(dest, "dst5", "only-source")).bytes),
      "copied",
    );
  } finally {
    await s.close();
    await dest.stop();
  }
});

Deno.test("replication worker: a dead-lettered older version retried after a newer one was copied is skipped", async () => {
  const dest = await startServer({ args: ["--allow-private-endpoints"] });
  const s = await setup(dest, "dst6", { secret: "wrong-secret-000000000000000000000000000" });
  try {
    const v1 = await put(s.storage, s.b, "k", "old", { replication: "PENDING" });
    await s.repl.follower.accept([change(s.b, v1)]);
    for (let i = 0; i < 3; i++) {
      await s.repl.worker.drain();
      s.advance(60_000);
    }
    assertEquals(s.repl.failures(s.b)[0].state, "dead");
    // The credentials are fixed; a newer version is copied while the old one is dead.
    await s.repl.destinations.put("", {
      name: "dr",
      endpoint: dest.endpoint,
      bucket: "dst6",
      accessKey: dest.accessKey,
      secretKey: dest.secretKey,
    });
    const v2 = await put(s.storage, s.b, "k", "new", { replication: "PENDING" });
    await s.repl.follower.accept([change(s.b, v2)]);
    assertEquals(await s.repl.worker.drain(), 1);
    assertEquals(s.repl.retry(s.b), 1);
    assertEquals(await s.repl.worker.drain(), 1);
    assertEquals(new TextDecoder().decode((await destBytes(dest, "dst6", "k")).bytes), "new");
    assertEquals((await s.storage.getObjectRecord(s.b, "k", v1.versionId)).replication, "FAILED");
    assertEquals((await s.storage.getObjectRecord(s.b, "k")).replication, "COMPLETED");
  } finally {
    await s.close();
    await dest.stop();
  }
});

Deno.test("replication worker: encrypted objects go out decrypted; tag filters select by the object's tags", async () => {
  const dest = await startServer({ args: ["--allow-private-endpoints"] });
  const s = await setup(dest, "dst7");
  try {
    await s.repl.configure(
      s.b,
      parseReplication(parseXml(
        `<ReplicationConfiguration><Rule><ID>tagged</ID><Priority>1</Priority><Filter><Tag>` +
          `<Key>copy</Key><Value>yes</Value></Tag></Filter><Status>Enabled</Status>` +
          `<DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication>` +
          `<Destination><Bucket>arn:aws:s3:::dr</Bucket></Destination></Rule>` +
          `</ReplicationConfiguration>`,
      )),
    );
    const secret = await put(s.storage, s.b, "sealed", "plaintext at the destination", {
      sse: { mode: "AES256" },
      tags: { copy: "yes" },
    });
    assert(secret.enc, "stored encrypted");
    const skipped = await put(s.storage, s.b, "untagged", "stays", { tags: { copy: "no" } });
    await s.repl.follower.accept([change(s.b, secret), change(s.b, skipped)]);
    assertEquals(await s.repl.worker.drain(), 1);
    assertEquals(
      new TextDecoder().decode((await destBytes(dest, "dst7", "sealed")).bytes),
      "plaintext at the destination",
    );
    const missing = await dest.client().send(
      new HeadObjectCommand({ Bucket: "dst7", Key: "untagged" }),
    ).then(() => 200, (e) => e.$metadata?.httpStatusCode);
    assertEquals(missing, 404);
  } finally {
    await s.close();
    await dest.stop();
  }
});
