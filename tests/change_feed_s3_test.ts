/**
 * Every S3 write names its event in the change feed (storage/feed): PUT,
 * copy, multipart complete, tagging, ACL, delete and the marker a versioned delete creates,
 * DeleteObjects, and the lifecycle worker's expirations, with the caller's request id, principal
 * and address. The dispatcher is stopped first so the feed can be read as written.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startApp } from "./_helpers/app.ts";
import { setFollowing } from "../server/features/feed/dispatcher.ts";

Deno.test("change feed: the event of every S3 write, with who made it", async () => {
  let now = Date.now();
  const t = await startApp({ clock: { now: () => now } });
  const { app, s3 } = t;
  try {
    await app.feed.stop();
    await s3.send(new CreateBucketCommand({ Bucket: "followed" }));
    await s3.send(new CreateBucketCommand({ Bucket: "quiet" }));
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: "followed",
        VersioningConfiguration: { Status: "Enabled" },
      }),
    );
    const backend = app.storage.backend;
    await setFollowing(backend, await backend.getBucket("", "followed"), "test", true);

    await s3.send(new PutObjectCommand({ Bucket: "quiet", Key: "q", Body: "q" }));
    const put = await s3.send(new PutObjectCommand({ Bucket: "followed", Key: "a", Body: "abc" }));
    await s3.send(
      new CopyObjectCommand({ Bucket: "followed", Key: "b", CopySource: "followed/a" }),
    );
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: "followed", Key: "m" }));
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: "followed",
        Key: "m",
        UploadId: up.UploadId,
        PartNumber: 1,
        Body: "part",
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: "followed",
        Key: "m",
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: "followed",
        Key: "a",
        Tagging: { TagSet: [{ Key: "k", Value: "v" }] },
      }),
    );
    await s3.send(new PutObjectAclCommand({ Bucket: "followed", Key: "a", ACL: "public-read" }));
    await s3.send(new DeleteObjectCommand({ Bucket: "followed", Key: "a" }));
    await s3.send(
      new DeleteObjectCommand({ Bucket: "followed", Key: "b", VersionId: undefined }),
    );
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: "followed",
        Delete: { Objects: [{ Key: "a", VersionId: put.VersionId }] },
      }),
    );
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: "followed",
        LifecycleConfiguration: {
          Rules: [{
            ID: "expire",
            Status: "Enabled",
            Filter: { Prefix: "m" },
            Expiration: { Days: 1 },
          }],
        },
      }),
    );
    now += 3 * 86_400_000;
    await app.lifecycle.runOnce(now);

    const changes = await backend.changes.read(100);
    assertEquals(changes.map((c) => `${c.event} ${c.key}`), [
      "ObjectCreated:Put a",
      "ObjectCreated:Copy b",
      "ObjectCreated:CompleteMultipartUpload m",
      "ObjectTagging:Put a",
      "ObjectAcl:Put a",
      "ObjectRemoved:DeleteMarkerCreated a",
      "ObjectRemoved:DeleteMarkerCreated b",
      "ObjectRemoved:Delete a",
      "LifecycleExpiration:DeleteMarkerCreated m",
    ]);
    assert(changes.every((c) => c.bucket === "followed" && c.ns === ""));
    const fromS3 = changes.slice(0, -1);
    assert(fromS3.every((c) => c.requestId && c.principalId && c.sourceIp === "127.0.0.1"));
    assertEquals(changes.at(-1)!.requestId, undefined);
    assertEquals(changes[0].versionId, put.VersionId);
    assertEquals(changes[0].size, 3);
    assertEquals(changes[7].versionId, put.VersionId);
  } finally {
    await t.stop();
  }
});
