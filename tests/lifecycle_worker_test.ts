/**
 * The lifecycle worker with an injected clock: the S3 app runs in-process (the same
 * createServerApp main.ts uses) so a test can run a pass "days later" with `lifecycle.runOnce(now)`.
 */
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type LifecycleRule,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { startApp } from "./_helpers/app.ts";
import { assertInlineOwnership } from "./_helpers/inline.ts";

const DAY = 86_400_000;

async function versionsOf(s3: S3Client, Bucket: string, Prefix: string) {
  const l = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix }));
  return [
    ...(l.Versions ?? []).map((v) => ({ id: v.VersionId!, latest: !!v.IsLatest, marker: false })),
    ...(l.DeleteMarkers ?? []).map((v) => ({
      id: v.VersionId!,
      latest: !!v.IsLatest,
      marker: true,
    })),
  ];
}

async function setRules(s3: S3Client, Bucket: string, Rules: LifecycleRule[]) {
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }),
  );
}

Deno.test("lifecycle worker applies rules as of an injected time", async (t) => {
  const { app, s3, stop } = await startApp();
  const now = Date.now();
  try {
    const V = "lcver";
    await s3.send(new CreateBucketCommand({ Bucket: V }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: V, VersioningConfiguration: { Status: "Enabled" } }),
    );

    await t.step(
      "Expiration Days adds a delete marker once due, only under the prefix",
      async () => {
        await setRules(s3, V, [
          { ID: "exp", Status: "Enabled", Filter: { Prefix: "exp/" }, Expiration: { Days: 1 } },
        ]);
        await s3.send(new PutObjectCommand({ Bucket: V, Key: "exp/a", Body: "a" }));
        await s3.send(new PutObjectCommand({ Bucket: V, Key: "keep/b", Body: "b" }));
        let r = await app.lifecycle.runOnce(now + DAY / 2);
        assertEquals(r.expired, 0);
        r = await app.lifecycle.runOnce(now + 2 * DAY + 1);
        assertEquals(r.expired, 1);
        await assertS3Error(
          () => s3.send(new GetObjectCommand({ Bucket: V, Key: "exp/a" })),
          "NoSuchKey",
          404,
        );
        const v = await versionsOf(s3, V, "exp/a");
        assertEquals(v.map((x) => [x.marker, x.latest]), [[false, false], [true, true]]);
        const kept = await s3.send(new GetObjectCommand({ Bucket: V, Key: "keep/b" }));
        await kept.Body?.transformToByteArray();
        // A second pass does not stack markers.
        r = await app.lifecycle.runOnce(now + 3 * DAY);
        assertEquals(r.expired, 0);
      },
    );

    await t.step(
      "NoncurrentVersionExpiration honours NoncurrentDays and NewerNoncurrentVersions",
      async () => {
        await setRules(s3, V, [
          {
            ID: "nc",
            Status: "Enabled",
            Filter: { Prefix: "nc/" },
            NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 },
          },
        ]);
        const ids = [];
        for (const body of ["1", "2", "3"]) {
          ids.push(
            (await s3.send(new PutObjectCommand({ Bucket: V, Key: "nc/k", Body: body })))
              .VersionId!,
          );
        }
        let r = await app.lifecycle.runOnce(now + DAY / 2);
        assertEquals(r.noncurrentRemoved, 0);
        r = await app.lifecycle.runOnce(now + 3 * DAY);
        assertEquals(r.noncurrentRemoved, 1);
        const v = await versionsOf(s3, V, "nc/k");
        assertEquals(v.map((x) => x.id), [ids[2], ids[1]]);
      },
    );

    await t.step("ExpiredObjectDeleteMarker removes markers with nothing behind them", async () => {
      await setRules(s3, V, [
        {
          ID: "eodm",
          Status: "Enabled",
          Filter: { Prefix: "m/" },
          Expiration: { ExpiredObjectDeleteMarker: true },
        },
      ]);
      await s3.send(new DeleteObjectCommand({ Bucket: V, Key: "m/lonely" }));
      await s3.send(new PutObjectCommand({ Bucket: V, Key: "m/hidden", Body: "x" }));
      await s3.send(new DeleteObjectCommand({ Bucket: V, Key: "m/hidden" }));
      const r = await app.lifecycle.runOnce(now + DAY);
      assertEquals(r.markersRemoved, 1);
      assertEquals(await versionsOf(s3, V, "m/lonely"), []);
      assertEquals((await versionsOf(s3, V, "m/hidden")).length, 2);
    });

    await t.step("tag and size filters select what expires", async () => {
      await setRules(s3, V, [
        {
          ID: "and",
          Status: "Enabled",
          Filter: {
            And: { Prefix: "f/", Tags: [{ Key: "del", Value: "yes" }], ObjectSizeGreaterThan: 2 },
          },
          Expiration: { Days: 1 },
        },
      ]);
      const put = (Key: string, Body: string, Tagging?: string) =>
        s3.send(new PutObjectCommand({ Bucket: V, Key, Body, Tagging }));
      await put("f/match", "long body", "del=yes");
      await put("f/small", "x", "del=yes");
      await put("f/untagged", "long body");
      const r = await app.lifecycle.runOnce(now + 2 * DAY + 1);
      assertEquals(r.expired, 1);
      const latest = async (k: string) => (await versionsOf(s3, V, k)).find((x) => x.latest);
      assertEquals((await latest("f/match"))?.marker, true);
      assertEquals((await latest("f/small"))?.marker, false);
      assertEquals((await latest("f/untagged"))?.marker, false);
    });

    await t.step("AbortIncompleteMultipartUpload aborts stale uploads", async () => {
      await setRules(s3, V, [
        {
          ID: "mpu",
          Status: "Enabled",
          Filter: { Prefix: "up/" },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ]);
      await s3.send(new CreateMultipartUploadCommand({ Bucket: V, Key: "up/big" }));
      await s3.send(new CreateMultipartUploadCommand({ Bucket: V, Key: "other/big" }));
      let r = await app.lifecycle.runOnce(now + DAY / 2);
      assertEquals(r.uploadsAborted, 0);
      r = await app.lifecycle.runOnce(now + 3 * DAY);
      assertEquals(r.uploadsAborted, 1);
      const l = await s3.send(new ListMultipartUploadsCommand({ Bucket: V }));
      assertEquals(l.Uploads?.map((u) => u.Key), ["other/big"]);
    });

    await t.step("locked versions are never removed", async () => {
      const L = "lcLocked".toLowerCase();
      await s3.send(new CreateBucketCommand({ Bucket: L, ObjectLockEnabledForBucket: true }));
      const until = new Date(now + 30 * DAY);
      const put = (Body: string) =>
        s3.send(
          new PutObjectCommand({
            Bucket: L,
            Key: "k",
            Body,
            ObjectLockMode: "COMPLIANCE",
            ObjectLockRetainUntilDate: until,
          }),
        );
      const v1 = (await put("1")).VersionId!;
      const v2 = (await put("2")).VersionId!;
      await setRules(s3, L, [
        {
          ID: "all",
          Status: "Enabled",
          Filter: {},
          Expiration: { Days: 1 },
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        },
      ]);
      let r = await app.lifecycle.runOnce(now + 5 * DAY);
      // The current version gets a marker (that removes nothing); v1 stays locked.
      assertEquals([r.expired, r.noncurrentRemoved], [1, 0]);
      assert(r.skippedLocked >= 1);
      let v = await versionsOf(s3, L, "k");
      assertEquals(v.filter((x) => !x.marker).map((x) => x.id), [v2, v1]);
      // Even a pass "as of" a time after the retention: storage checks locks against the real
      // clock when removing, so an injected or skewed time cannot unlock anything.
      r = await app.lifecycle.runOnce(now + 40 * DAY);
      assertEquals(r.noncurrentRemoved, 0);
      assert(r.skippedLocked >= 1);
      v = await versionsOf(s3, L, "k");
      assertEquals(v.filter((x) => !x.marker).map((x) => x.id), [v2, v1]);
    });

    await t.step("unversioned buckets lose expired objects; Date rules apply", async () => {
      const U = "lcplain";
      await s3.send(new CreateBucketCommand({ Bucket: U }));
      await s3.send(new PutObjectCommand({ Bucket: U, Key: "old", Body: "x" }));
      const midnight = new Date(Math.ceil((now + DAY) / DAY) * DAY);
      await setRules(s3, U, [
        { ID: "date", Status: "Enabled", Filter: {}, Expiration: { Date: midnight } },
      ]);
      let r = await app.lifecycle.runOnce(now);
      assertEquals(r.expired, 0);
      r = await app.lifecycle.runOnce(midnight.getTime());
      assertEquals(r.expired, 1);
      assertEquals(await versionsOf(s3, U, ""), []);
      const stats = await app.storage.backend.bucketStats(
        (await app.storage.backend.getBucket("", U)).id,
      );
      assertEquals(stats, { objects: 0, bytes: 0 });
    });
  } finally {
    await stop();
  }
});

Deno.test("lifecycle expiration of inline objects drops their bytes", async () => {
  const { app, s3, stop } = await startApp();
  const now = Date.now();
  try {
    for (const [Bucket, versioned] of [["lc-plain", false], ["lc-ver", true]] as const) {
      await s3.send(new CreateBucketCommand({ Bucket }));
      if (versioned) {
        await s3.send(
          new PutBucketVersioningCommand({
            Bucket,
            VersioningConfiguration: { Status: "Enabled" },
          }),
        );
      }
      await s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket,
          LifecycleConfiguration: {
            Rules: [{
              ID: "all",
              Status: "Enabled",
              Filter: { Prefix: "x/" },
              Expiration: { Days: 1 },
              ...(versioned ? { NoncurrentVersionExpiration: { NoncurrentDays: 1 } } : {}),
            }],
          },
        }),
      );
      for (let i = 0; i < 6; i++) {
        for (let round = 0; round < 2; round++) {
          await s3.send(
            new PutObjectCommand({ Bucket, Key: `x/${i}`, Body: new Uint8Array(100 + round) }),
          );
        }
      }
      await s3.send(new PutObjectCommand({ Bucket, Key: "keep", Body: new Uint8Array(5) }));
      // The listing copy is loaded before the expiration runs: it must follow it.
      await s3.send(new ListObjectsV2Command({ Bucket }));
      await app.storage.core.meta.listMemory.idle();
      await s3.send(new ListObjectsV2Command({ Bucket }));
    }
    const before = await assertInlineOwnership(app.storage.core.meta.reader);
    assertEquals(before, 6 + 1 + 12 + 1);
    // Day 2: currents expire (markers in the versioned bucket); day 4: noncurrents go too.
    await app.lifecycle.runOnce(now + 2 * DAY + 1000);
    await app.lifecycle.runOnce(now + 4 * DAY + 1000);
    for (const Bucket of ["lc-plain", "lc-ver"]) {
      const l = await s3.send(new ListObjectsV2Command({ Bucket }));
      assertEquals((l.Contents ?? []).map((o) => o.Key), ["keep"], Bucket);
      const r = await s3.send(new GetObjectCommand({ Bucket, Key: "keep" }));
      assertEquals((await r.Body!.transformToByteArray()).length, 5);
    }
    assertEquals(
      await assertInlineOwnership(app.storage.core.meta.reader),
      2,
      "only kept objects' bytes",
    );
  } finally {
    await stop();
  }
});

Deno.test("closing the app waits for the lifecycle pass in progress", async () => {
  const { app, s3, stop } = await startApp();
  let stopped = false;
  try {
    const B = "lcclose";
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await setRules(s3, B, [
      { ID: "all", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 1 } },
    ]);
    const n = 40;
    for (let i = 0; i < n; i++) {
      await s3.send(new PutObjectCommand({ Bucket: B, Key: `k${i}`, Body: "x" }));
    }
    // The pass is running when the app closes: the close waits for it instead of closing the
    // metadata store under it (its next read failed, and the pass with it).
    const pass = app.lifecycle.runOnce(Date.now() + 2 * DAY);
    stopped = true;
    await stop();
    assertEquals((await pass).expired, n);
  } finally {
    if (!stopped) await stop();
  }
});
