/**
 * The console's empty and force-delete (`POST /api/v1/buckets/:bucket/empty|force-delete`):
 * every version, delete marker and multipart upload goes, in DeleteObjects-sized batches with a
 * progress line each; a version under Object Lock is refused by S3 and reported, the rest goes,
 * and force-delete then leaves the bucket in place.
 */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { ADMIN_PASSWORD, ADMIN_USER, type AuditEntry, startIamServer } from "./iam_fixture.ts";
import { cli } from "./_helpers/admin_cli.ts";

interface Progress {
  versions: number;
  deleteMarkers: number;
  uploadsAborted: number;
  refusedCount: number;
  refused: { key: string; versionId: string; code: string }[];
  done?: boolean;
  bucketDeleted?: boolean;
  error?: { code: string; message: string };
}

async function putMany(s3: S3Client, bucket: string, n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `k/${String(i).padStart(5, "0")}`, Body: "x" }),
      );
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function countVersions(s3: S3Client, bucket: string): Promise<number> {
  const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  return (r.Versions?.length ?? 0) + (r.DeleteMarkers?.length ?? 0);
}

Deno.test("console API: empty and force-delete a bucket", async (t) => {
  const s = await startIamServer();
  const s3 = s.srv.client();
  /** Runs an empty or force-delete and returns its NDJSON lines. */
  const run = async (bucket: string, what: "empty" | "force-delete", confirm = bucket) => {
    const res = await fetch(`${s.srv.consoleUrl}/api/v1/buckets/${bucket}/${what}`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ confirm }),
    });
    const text = await res.text();
    if (!res.ok) return { status: res.status, lines: [] as Progress[], text };
    assertEquals(res.headers.get("content-type"), "application/x-ndjson");
    const lines = text.trim().split("\n").map((l) => JSON.parse(l) as Progress);
    return { status: res.status, lines, text };
  };
  try {
    await t.step("the typed confirmation and the bucket must match", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "keepme" }));
      await s3.send(new PutObjectCommand({ Bucket: "keepme", Key: "a", Body: "a" }));
      const r = await run("keepme", "force-delete", "keep");
      assertEquals(r.status, 400);
      assertEquals(JSON.parse(r.text).error.code, "InvalidRequest");
      assertEquals(await countVersions(s3, "keepme"), 1);
      assertEquals((await run("nosuchbucket", "empty")).status, 404);
    });

    await t.step("empty: versions, delete markers and uploads, in batches", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "emptyme" }));
      await putMany(s3, "emptyme", 1003);
      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: "emptyme",
          VersioningConfiguration: { Status: "Enabled" },
        }),
      );
      await s3.send(new PutObjectCommand({ Bucket: "emptyme", Key: "k/00000", Body: "v2" }));
      await s3.send(new DeleteObjectCommand({ Bucket: "emptyme", Key: "k/00001" }));
      await s3.send(new CreateMultipartUploadCommand({ Bucket: "emptyme", Key: "big" }));
      const r = await run("emptyme", "empty");
      assertEquals(r.status, 200, r.text);
      const last = r.lines.at(-1)!;
      assertEquals(last.done, true);
      assertEquals(last.error, undefined);
      assertEquals(last.versions, 1004);
      assertEquals(last.deleteMarkers, 1);
      assertEquals(last.uploadsAborted, 1);
      assertEquals(last.refusedCount, 0);
      // 1,005 entries: two DeleteObjects batches, then the uploads; each reported.
      assert(r.lines.length >= 4, r.text);
      assertEquals(r.lines[0].versions + r.lines[0].deleteMarkers, 1000);
      assertEquals(await countVersions(s3, "emptyme"), 0);
      const ups = await s3.send(new ListMultipartUploadsCommand({ Bucket: "emptyme" }));
      assertEquals(ups.Uploads?.length ?? 0, 0);
      // Emptied, not deleted.
      await s3.send(new HeadBucketCommand({ Bucket: "emptyme" }));
    });

    await t.step("force-delete: a locked version refuses, the rest goes", async () => {
      await s3.send(
        new CreateBucketCommand({ Bucket: "lockedb", ObjectLockEnabledForBucket: true }),
      );
      await s3.send(
        new PutObjectCommand({
          Bucket: "lockedb",
          Key: "kept",
          Body: "k",
          ObjectLockMode: "COMPLIANCE",
          ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000),
        }),
      );
      await s3.send(new PutObjectCommand({ Bucket: "lockedb", Key: "free", Body: "f" }));
      await s3.send(new DeleteObjectCommand({ Bucket: "lockedb", Key: "kept" }));
      const r = await run("lockedb", "force-delete");
      assertEquals(r.status, 200, r.text);
      const last = r.lines.at(-1)!;
      assertEquals(last.done, true);
      assertEquals(last.bucketDeleted, false);
      assertEquals(last.error?.code, "BucketNotEmpty");
      assertEquals(last.refusedCount, 1);
      assertEquals(last.refused[0].key, "kept");
      assertEquals(last.refused[0].code, "AccessDenied");
      assertEquals(last.versions, 1);
      assertEquals(last.deleteMarkers, 1);
      const left = await s3.send(new ListObjectVersionsCommand({ Bucket: "lockedb" }));
      assertEquals(left.Versions?.map((v) => v.Key), ["kept"]);
      assertEquals(left.DeleteMarkers?.length ?? 0, 0);
      await s3.send(new HeadBucketCommand({ Bucket: "lockedb" }));
    });

    await t.step("force-delete removes the emptied bucket, audited", async () => {
      const r = await run("keepme", "force-delete");
      assertEquals(r.status, 200, r.text);
      const last = r.lines.at(-1)!;
      assertEquals(last.bucketDeleted, true);
      assertEquals(last.versions, 1);
      await assertS3Error(
        () => s3.send(new HeadBucketCommand({ Bucket: "keepme" })),
        "NotFound",
        404,
      );
      const a = await s.api("/audit?action=bucket.force-delete&limit=10", {
        token: s.adminToken,
      });
      const entries = a.body.items as AuditEntry[];
      const ok = entries.find((e) => e.resource === "bucket/keepme");
      assertEquals(ok?.result, "success");
      assertEquals(entries.find((e) => e.resource === "bucket/lockedb")?.result, "failure");
    });

    await t.step("the admin CLI: bucket force-delete --yes, online only", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "clibucket" }));
      await s3.send(new PutObjectCommand({ Bucket: "clibucket", Key: "x", Body: "x" }));
      const online = [
        "--url",
        s.srv.consoleUrl,
        "--user",
        ADMIN_USER,
        "--password",
        ADMIN_PASSWORD,
      ];
      const noYes = await cli("bucket", "force-delete", "clibucket", ...online);
      assertEquals(noYes.code, 2, noYes.stderr);
      const offline = await cli(
        "bucket",
        "empty",
        "clibucket",
        "--yes",
        "--data-dir",
        "/nonexistent",
      );
      assertEquals(offline.code, 2, offline.stderr);
      assertEquals(await countVersions(s3, "clibucket"), 1);
      const r = await cli("bucket", "force-delete", "clibucket", "--yes", ...online);
      assertEquals(r.code, 0, r.stderr);
      const last = r.json as Progress;
      assertEquals(last.bucketDeleted, true);
      assertEquals(last.versions, 1);
      await assertS3Error(
        () => s3.send(new HeadBucketCommand({ Bucket: "clibucket" })),
        "NotFound",
        404,
      );
    });
  } finally {
    await s.stop();
  }
});
