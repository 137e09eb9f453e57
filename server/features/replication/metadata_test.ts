/**
 * Metadata-only changes (tags, retention, legal hold) copied alone to a second MaxIOFS; versions
 * left PENDING by a removed or disabled rule; SSE-C versions failing at once. The source is
 * storage opened in-process with a clock the test moves (tests/_helpers/replication_source.ts).
 */
import {
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  ListObjectVersionsCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { startServer, type TestServer } from "../../../tests/_helpers/server.ts";
import {
  change,
  destBytes,
  put,
  rulesDoc,
  setup,
} from "../../../tests/_helpers/replication_source.ts";
import { parseReplication } from "./config.ts";
import { parseXml } from "../../s3/xml.ts";
import type { BucketRecord, ObjectRecord } from "../../storage/types.ts";
import type { Backend } from "../../storage/mod.ts";

const ALLOW = ["--allow-private-endpoints"];

async function destTags(dest: TestServer, bucket: string, key: string) {
  const r = await dest.client().send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return Object.fromEntries((r.TagSet ?? []).map((t) => [t.Key, t.Value]));
}

async function destVersions(dest: TestServer, bucket: string, key: string) {
  const r = await dest.client().send(
    new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }),
  );
  return (r.Versions ?? []).filter((v) => v.Key === key).length;
}

function update(
  storage: Backend,
  b: BucketRecord,
  rec: ObjectRecord,
  patch: (r: ObjectRecord) => ObjectRecord,
): Promise<ObjectRecord> {
  return storage.updateObjectVersion(b, rec.key, rec.versionId, patch);
}

Deno.test("replication worker: tags, retention and legal hold changes are copied without the bytes", async (t) => {
  const dest = await startServer({ args: ALLOW });
  const s = await setup(dest, "locked", { lock: true });
  try {
    const v1 = await put(s.storage, s.b, "doc", "the bytes", {
      tags: { stage: "draft" },
      replication: "PENDING",
    });
    await s.repl.follower.accept([change(s.b, v1)]);
    assertEquals(await s.repl.worker.drain(), 1);
    assertEquals(await destVersions(dest, "locked", "doc"), 1);
    const copied = s.repl.metrics.totals.bytes;

    await t.step("a new tag set, then none", async () => {
      const tagged = await update(s.storage, s.b, v1, (r) => ({
        ...r,
        tags: { stage: "final", owner: "ops" },
      }));
      await s.repl.follower.accept([change(s.b, tagged, "ObjectTagging:Put")]);
      assertEquals(await s.repl.worker.drain(), 1);
      assertEquals(await destTags(dest, "locked", "doc"), { stage: "final", owner: "ops" });
      const untagged = await update(s.storage, s.b, v1, (r) => ({ ...r, tags: undefined }));
      await s.repl.follower.accept([change(s.b, untagged, "ObjectTagging:Delete")]);
      assertEquals(await s.repl.worker.drain(), 1);
      assertEquals(await destTags(dest, "locked", "doc"), {});
    });

    await t.step("retention and legal hold", async () => {
      const until = Date.parse("2031-01-01T00:00:00Z");
      const retained = await update(s.storage, s.b, v1, (r) => ({
        ...r,
        retention: { mode: "GOVERNANCE", until },
      }));
      const held = await update(s.storage, s.b, retained, (r) => ({ ...r, legalHold: true }));
      await s.repl.follower.accept([
        change(s.b, retained, "ObjectRetention:Put"),
        change(s.b, held, "ObjectLegalHold:Put"),
      ]);
      assertEquals(await s.repl.worker.drain(), 2);
      const r = await dest.client().send(
        new GetObjectRetentionCommand({ Bucket: "locked", Key: "doc" }),
      );
      assertEquals(r.Retention?.Mode, "GOVERNANCE");
      assertEquals(r.Retention?.RetainUntilDate?.getTime(), until);
      const h = await dest.client().send(
        new GetObjectLegalHoldCommand({ Bucket: "locked", Key: "doc" }),
      );
      assertEquals(h.LegalHold?.Status, "ON");
      const released = await update(s.storage, s.b, held, (r) => ({ ...r, legalHold: false }));
      await s.repl.follower.accept([change(s.b, released, "ObjectLegalHold:Put")]);
      assertEquals(await s.repl.worker.drain(), 1);
      const h2 = await dest.client().send(
        new GetObjectLegalHoldCommand({ Bucket: "locked", Key: "doc" }),
      );
      assertEquals(h2.LegalHold?.Status, "OFF");
    });

    await t.step("none of it copied the bytes again", async () => {
      assertEquals(await destVersions(dest, "locked", "doc"), 1);
      assertEquals(s.repl.metrics.totals.bytes, copied);
      assertEquals((await s.storage.getObjectRecord(s.b, "doc")).replication, "COMPLETED");
      assertEquals(s.repl.failures(s.b), []);
    });

    await t.step(
      "in order with the key's other changes; an older version's tags stay",
      async () => {
        const v2 = await put(s.storage, s.b, "doc", "newer bytes", { replication: "PENDING" });
        const v2tagged = await update(s.storage, s.b, v2, (r) => ({ ...r, tags: { v: "2" } }));
        const v1tagged = await update(s.storage, s.b, v1, (r) => ({ ...r, tags: { v: "1" } }));
        await s.repl.follower.accept([
          change(s.b, v2),
          change(s.b, v2tagged, "ObjectTagging:Put"),
          change(s.b, v1tagged, "ObjectTagging:Put"),
        ]);
        // One task of the key at a time: the copy of v2 first.
        assertEquals(s.repl.queue.due(Date.now() * 2, 10, new Set()).length, 1);
        assertEquals(await s.repl.worker.drain(), 3);
        const got = await destBytes(dest, "locked", "doc");
        assertEquals(new TextDecoder().decode(got.bytes), "newer bytes");
        // v1 is no longer the current version: its tags are not put on v2's copy.
        assertEquals(await destTags(dest, "locked", "doc"), { v: "2" });
        assertEquals(await destVersions(dest, "locked", "doc"), 2);
      },
    );

    await t.step("a tag change of an object the destination lacks copies it whole", async () => {
      const early = await put(s.storage, s.b, "never-copied", "made before the rule saw it");
      const tagged = await update(s.storage, s.b, early, (r) => ({ ...r, tags: { late: "yes" } }));
      await s.repl.follower.accept([change(s.b, tagged, "ObjectTagging:Put")]);
      assertEquals(await s.repl.worker.drain(), 1);
      const got = await destBytes(dest, "locked", "never-copied");
      assertEquals(new TextDecoder().decode(got.bytes), "made before the rule saw it");
      assertEquals(await destTags(dest, "locked", "never-copied"), { late: "yes" });
    });
  } finally {
    await s.close();
    await dest.stop();
  }
});

Deno.test("replication worker: lock changes for a destination without Object Lock leave its copy as it is", async () => {
  const dest = await startServer({ args: ALLOW });
  const s = await setup(dest, "plain");
  try {
    const v = await put(s.storage, s.b, "k", "bytes", { replication: "PENDING" });
    const held = await update(s.storage, s.b, v, (r) => ({ ...r, legalHold: true }));
    await s.repl.follower.accept([change(s.b, v), change(s.b, held, "ObjectLegalHold:Put")]);
    assertEquals(await s.repl.worker.drain(), 2);
    assertEquals(s.repl.failures(s.b), []);
    assertEquals((await s.storage.getObjectRecord(s.b, "k")).replication, "COMPLETED");
    assertEquals(await destVersions(dest, "plain", "k"), 1);
  } finally {
    await s.close();
    await dest.stop();
  }
});

Deno.test("replication worker: versions PENDING when their rule goes become FAILED", async (t) => {
  const dest = await startServer({ args: ALLOW });
  // Wrong credentials: copies fail and wait out their backoff.
  const s = await setup(dest, "gone", { secret: "wrong-secret-000000000000000000000000000" });
  const status = async (key: string, versionId?: string) =>
    (await s.storage.getObjectRecord(s.b, key, versionId)).replication;
  try {
    await t.step("the configuration deleted with tasks queued and in backoff", async () => {
      const waiting = await put(s.storage, s.b, "waiting", "x", { replication: "PENDING" });
      await s.repl.follower.accept([change(s.b, waiting)]);
      assertEquals(await s.repl.worker.drain(), 1);
      assertEquals(s.repl.failures(s.b)[0].attempts, 1);
      const queued = await put(s.storage, s.b, "queued", "y", { replication: "PENDING" });
      await s.repl.follower.accept([change(s.b, queued)]);
      await s.repl.configure(s.b, null);
      assertEquals(await status("waiting"), "FAILED");
      assertEquals(await status("queued"), "FAILED");
      assertEquals(s.repl.queue.counts(s.b.id), []);
      // Past every backoff, nothing is left to run.
      s.advance(3_600_000);
      assertEquals(await s.repl.worker.drain(), 0);
    });

    await t.step("a change handed over after its rule was removed", async () => {
      // The write saw the rule and stored PENDING; the feed hands the change over after the
      // configuration went.
      const late = await put(s.storage, s.b, "late", "z", { replication: "PENDING" });
      await s.repl.follower.accept([change(s.b, late)]);
      assertEquals(await status("late"), "FAILED");
    });

    await t.step("a rule disabled drops its tasks", async () => {
      await s.repl.configure(s.b, rulesDoc("dr"));
      const v = await put(s.storage, s.b, "dis", "w", { replication: "PENDING" });
      await s.repl.follower.accept([change(s.b, v)]);
      await s.repl.configure(s.b, rulesDoc("dr", "Enabled", "Disabled"));
      assertEquals(await status("dis"), "FAILED");
      assertEquals(s.repl.queue.counts(s.b.id), []);
    });

    await t.step("a rule removed while its task is about to run", async () => {
      await s.repl.configure(s.b, rulesDoc("dr"));
      const v = await put(s.storage, s.b, "race", "r", { replication: "PENDING" });
      await s.repl.follower.accept([change(s.b, v)]);
      // The configuration changes under the worker (not through configure, which drops tasks).
      await s.storage.putBucketConfig(s.b.id, "replication", rulesDoc("dr", "Enabled", "Disabled"));
      assertEquals(await s.repl.worker.drain(), 1);
      assertEquals(await status("race"), "FAILED");
      assertEquals(s.repl.failures(s.b), []);
    });
  } finally {
    await s.close();
    await dest.stop();
  }
});

Deno.test("replication worker: one of two rules removed: the other's copy settles the version", async () => {
  const dest = await startServer({ args: ALLOW });
  const s = await setup(dest, "two");
  try {
    await s.repl.destinations.put("", {
      name: "dr2",
      endpoint: dest.endpoint,
      bucket: "two",
      accessKey: dest.accessKey,
      secretKey: dest.secretKey,
    });
    const twoRules = (withSecond: boolean) =>
      parseReplication(parseXml(
        `<ReplicationConfiguration>` +
          ["dr", ...(withSecond ? ["dr2"] : [])].map((d, i) =>
            `<Rule><ID>${d}</ID><Priority>${i + 1}</Priority><Filter><Prefix></Prefix></Filter>` +
            `<Status>Enabled</Status><DeleteMarkerReplication><Status>Disabled</Status>` +
            `</DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::${d}</Bucket>` +
            `</Destination></Rule>`
          ).join("") + `</ReplicationConfiguration>`,
      ));
    await s.repl.configure(s.b, twoRules(true));
    const v = await put(s.storage, s.b, "k", "both", { replication: "PENDING" });
    await s.repl.follower.accept([change(s.b, v)]);
    assertEquals(s.repl.queue.counts(s.b.id).length, 2);
    await s.repl.configure(s.b, twoRules(false));
    assertEquals((await s.storage.getObjectRecord(s.b, "k")).replication, "PENDING");
    assertEquals(await s.repl.worker.drain(), 1);
    assertEquals((await s.storage.getObjectRecord(s.b, "k")).replication, "COMPLETED");
  } finally {
    await s.close();
    await dest.stop();
  }
});

Deno.test("replication worker: an SSE-C version fails at once, named as such, and is not queued again", async () => {
  const dest = await startServer({ args: ALLOW });
  const s = await setup(dest, "ssec");
  try {
    const key = new Uint8Array(32).fill(9);
    const keyMd5 = createHash("md5").update(key).digest("base64");
    const v = await put(s.storage, s.b, "sealed", "only its owner can read this", {
      sse: { mode: "SSE-C", key, keyMd5 },
      replication: "PENDING",
    });
    assertEquals(v.enc?.mode, "SSE-C");
    await s.repl.follower.accept([change(s.b, v)]);
    assertEquals(await s.repl.worker.drain(), 1);
    const [task] = s.repl.failures(s.b);
    assertEquals(task.state, "dead");
    assertEquals(task.attempts, 1);
    assert(/SSE-C/.test(task.lastError ?? ""), task.lastError ?? "no error");
    assertEquals((await s.storage.getObjectRecord(s.b, "sealed")).replication, "FAILED");
    s.advance(3_600_000);
    assertEquals(await s.repl.worker.drain(), 0);
    // A sync finds it missing at the destination but does not queue it a second time.
    assertEquals(await s.repl.syncNow(s.b), 0);
    assertEquals(s.repl.failures(s.b).length, 1);
  } finally {
    await s.close();
    await dest.stop();
  }
});

Deno.test("replication worker: a sync skips keys already queued and queues dead-lettered ones again", async () => {
  const dest = await startServer({ args: ALLOW });
  const s = await setup(dest, "resync", { secret: "wrong-secret-000000000000000000000000000" });
  try {
    const dead = await put(s.storage, s.b, "dead", "given up", { replication: "PENDING" });
    await s.repl.follower.accept([change(s.b, dead)]);
    for (let i = 0; i < 3; i++) {
      await s.repl.worker.drain();
      s.advance(60_000);
    }
    const waiting = await put(s.storage, s.b, "waiting", "in backoff", { replication: "PENDING" });
    await s.repl.follower.accept([change(s.b, waiting)]);
    assertEquals(await s.repl.worker.drain(), 1);
    assertEquals(
      s.repl.failures(s.b).map((f) => `${f.key}:${f.state}`).sort(),
      ["dead:dead", "waiting:queued"],
    );
    await s.repl.destinations.put("", {
      name: "dr",
      endpoint: dest.endpoint,
      bucket: "resync",
      accessKey: dest.accessKey,
      secretKey: dest.secretKey,
    });
    // "waiting" is left to its own task; "dead" is queued again.
    assertEquals(await s.repl.syncNow(s.b), 1);
    s.advance(60_000);
    assertEquals(await s.repl.worker.drain(), 2);
    for (const [key, body] of [["dead", "given up"], ["waiting", "in backoff"]]) {
      assertEquals(new TextDecoder().decode((await destBytes(dest, "resync", key)).bytes), body);
    }
  } finally {
    await s.close();
    await dest.stop();
  }
});
