/**
 * Replication between two MaxIOFS servers on loopback (both started with
 * --allow-private-endpoints), beyond whole objects: tag, retention and legal-hold changes made
 * over S3 reach the destination's copy; versions left PENDING when the configuration is deleted
 * become FAILED; an SSE-C object fails at once with its reason in the failure list.
 */
import {
  CreateBucketCommand,
  DeleteBucketReplicationCommand,
  DeleteObjectTaggingCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketReplicationCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { readParams, writeParams } from "./_helpers/sse.ts";
import { type IamServer, startIamServer } from "./iam_fixture.ts";
import {
  addDestination,
  eventually,
  rules,
  status,
  versionedBucket,
} from "./_helpers/replication.ts";

const ALLOW = ["--allow-private-endpoints"];

async function tagsOf(s3: S3Client, bucket: string, key: string) {
  const r = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return (r.TagSet ?? []).map((t) => `${t.Key}=${t.Value}`).sort().join("&");
}

async function versionCount(s3: S3Client, bucket: string, key: string) {
  const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return (r.Versions ?? []).filter((v) => v.Key === key).length;
}

async function replicationStatus(src: IamServer) {
  const st = await src.api("/buckets/src/replication", { token: src.adminToken });
  assertEquals(st.status, 200);
  return st.body as {
    rules: { queued: number }[];
    failures: { state: string; attempts: number; lastError: string | null }[];
  };
}

Deno.test("replication: tag, retention and legal-hold changes reach the destination's copy", async (t) => {
  const dst = await startIamServer({}, { args: ALLOW });
  const src = await startIamServer({}, { args: ALLOW });
  const a = src.srv.client();
  const b = dst.srv.client();
  try {
    for (const [c, name] of [[a, "src"], [b, "dst"]] as const) {
      await c.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
    }
    await addDestination(src, "dr", dst, "dst");
    await a.send(
      new PutBucketReplicationCommand({ Bucket: "src", ReplicationConfiguration: rules("dr") }),
    );
    await a.send(
      new PutObjectCommand({ Bucket: "src", Key: "doc", Body: "contract", Tagging: "stage=draft" }),
    );
    await eventually(
      "the copy at the destination",
      async () =>
        await status(b.send(new HeadObjectCommand({ Bucket: "dst", Key: "doc" }))) === 200,
    );
    assertEquals(await tagsOf(b, "dst", "doc"), "stage=draft");

    await t.step("a new tag set, then none, on the same copy", async () => {
      await a.send(
        new PutObjectTaggingCommand({
          Bucket: "src",
          Key: "doc",
          Tagging: { TagSet: [{ Key: "stage", Value: "final" }, { Key: "owner", Value: "ops" }] },
        }),
      );
      await eventually(
        "the new tags at the destination",
        async () => await tagsOf(b, "dst", "doc") === "owner=ops&stage=final",
      );
      await a.send(new DeleteObjectTaggingCommand({ Bucket: "src", Key: "doc" }));
      await eventually("no tags at the destination", async () => {
        return await tagsOf(b, "dst", "doc") === "";
      });
      // The bytes were not copied again: the destination still has the one version.
      assertEquals(await versionCount(b, "dst", "doc"), 1);
    });

    await t.step("retention and legal hold", async () => {
      const until = new Date("2031-01-01T00:00:00Z");
      await a.send(
        new PutObjectRetentionCommand({
          Bucket: "src",
          Key: "doc",
          Retention: { Mode: "GOVERNANCE", RetainUntilDate: until },
        }),
      );
      await a.send(
        new PutObjectLegalHoldCommand({ Bucket: "src", Key: "doc", LegalHold: { Status: "ON" } }),
      );
      await eventually("the legal hold at the destination", async () => {
        const h = await b.send(new GetObjectLegalHoldCommand({ Bucket: "dst", Key: "doc" }))
          .catch(() => null);
        return h?.LegalHold?.Status === "ON";
      });
      const r = await b.send(new GetObjectRetentionCommand({ Bucket: "dst", Key: "doc" }));
      assertEquals(r.Retention?.Mode, "GOVERNANCE");
      assertEquals(r.Retention?.RetainUntilDate?.getTime(), until.getTime());
      await eventually("the queue is empty", async () => {
        return (await replicationStatus(src)).rules[0].queued === 0;
      });
      assertEquals((await replicationStatus(src)).failures, []);
      // Statuses are settled together every 250 ms, after the task has left the queue.
      await eventually("the source's status COMPLETED", async () => {
        const head = await a.send(new HeadObjectCommand({ Bucket: "src", Key: "doc" }));
        return head.ReplicationStatus === "COMPLETED";
      });
      // Lock changes are sent alone too: still the one version at the destination.
      assertEquals(await versionCount(b, "dst", "doc"), 1);
    });
  } finally {
    await src.stop();
    await dst.stop();
  }
});

Deno.test("replication: PENDING versions become FAILED when the configuration is deleted; SSE-C objects fail at once", async (t) => {
  const dst = await startIamServer({}, { args: ALLOW });
  const src = await startIamServer({}, { args: [...ALLOW, "--sse-c-over-http"] });
  const a = src.srv.client();
  const b = dst.srv.client();
  try {
    await versionedBucket(b, "dst");
    await versionedBucket(a, "src");
    await addDestination(src, "dr", dst, "dst");
    await a.send(
      new PutBucketReplicationCommand({ Bucket: "src", ReplicationConfiguration: rules("dr") }),
    );

    await t.step("an SSE-C object: FAILED after one attempt, the reason listed", async () => {
      await a.send(
        new PutObjectCommand({
          Bucket: "src",
          Key: "sealed",
          Body: "customer's own",
          ...writeParams("SSE-C"),
        }),
      );
      await eventually("the version FAILED", async () => {
        const h = await a.send(
          new HeadObjectCommand({ Bucket: "src", Key: "sealed", ...readParams("SSE-C") }),
        );
        return h.ReplicationStatus === "FAILED";
      });
      const { failures } = await replicationStatus(src);
      assertEquals(failures.length, 1);
      assertEquals(failures[0].state, "dead");
      assertEquals(failures[0].attempts, 1);
      assert(/SSE-C/.test(failures[0].lastError ?? ""), String(failures[0].lastError));
      assertEquals(
        await status(b.send(new HeadObjectCommand({ Bucket: "dst", Key: "sealed" }))),
        404,
      );
    });

    await t.step("the destination down, then the configuration deleted", async () => {
      const port = dst.srv.port;
      await dst.srv.stop({ keepData: true });
      await a.send(new PutObjectCommand({ Bucket: "src", Key: "stuck", Body: "never copied" }));
      const before = await a.send(new HeadObjectCommand({ Bucket: "src", Key: "stuck" }));
      assertEquals(before.ReplicationStatus, "PENDING");
      await a.send(new DeleteBucketReplicationCommand({ Bucket: "src" }));
      await eventually("the version FAILED", async () => {
        const h = await a.send(new HeadObjectCommand({ Bucket: "src", Key: "stuck" }));
        return h.ReplicationStatus === "FAILED";
      });
      // Nothing is left queued: the destination coming back receives nothing.
      const back = await startServer({
        dataDir: dst.srv.dataDir,
        args: [...ALLOW, "--listen", `127.0.0.1:${port}`],
      });
      try {
        const st = await src.api("/buckets/src/replication", { token: src.adminToken });
        assertEquals(st.body.rules, []);
        assertEquals(st.body.failures, []);
        assertEquals(
          await status(back.client().send(new HeadObjectCommand({ Bucket: "dst", Key: "stuck" }))),
          404,
        );
      } finally {
        await back.stop();
      }
    });
  } finally {
    await src.stop();
    await dst.stop();
  }
});
