/**
 * The `null` version names itself: once a bucket has had versioning (Enabled or Suspended), S3
 * sends `x-amz-version-id: null` for it on GET, HEAD and GetObjectAttributes; a bucket
 * that never had versioning sends no version header at all.
 */
import { assertEquals } from "./_helpers/assert.ts";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { bodyBytes, startServer } from "./_helpers/server.ts";

const B = "vnull";

async function versioning(s3: S3Client, Status: "Enabled" | "Suspended") {
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status } }),
  );
}

async function readVersionIds(s3: S3Client, Key: string, VersionId?: string) {
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key, VersionId }));
  await bodyBytes(got.Body);
  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key, VersionId }));
  const attrs = await s3.send(
    new GetObjectAttributesCommand({ Bucket: B, Key, VersionId, ObjectAttributes: ["ETag"] }),
  );
  return [got.VersionId, head.VersionId, attrs.VersionId];
}

Deno.test("x-amz-version-id: null once a bucket has had versioning", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));

    await t.step("an unversioned bucket sends no version header", async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: "old", Body: "v0" }));
      assertEquals(put.VersionId, undefined);
      assertEquals(await readVersionIds(s3, "old"), [undefined, undefined, undefined]);
    });

    await t.step("Enabled: the pre-versioning object is read as version null", async () => {
      await versioning(s3, "Enabled");
      assertEquals(await readVersionIds(s3, "old"), ["null", "null", "null"]);
      assertEquals(await readVersionIds(s3, "old", "null"), ["null", "null", "null"]);
      const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: "old", Body: "v1" }));
      assertEquals(await readVersionIds(s3, "old"), [put.VersionId, put.VersionId, put.VersionId]);
      assertEquals(await readVersionIds(s3, "old", "null"), ["null", "null", "null"]);
    });

    await t.step("Suspended: reads name the null version", async () => {
      await versioning(s3, "Suspended");
      await s3.send(new PutObjectCommand({ Bucket: B, Key: "new", Body: "s" }));
      assertEquals(await readVersionIds(s3, "new"), ["null", "null", "null"]);
      const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: "mp" }));
      const part = await s3.send(
        new UploadPartCommand({
          Bucket: B,
          Key: "mp",
          UploadId: up.UploadId,
          PartNumber: 1,
          Body: "p",
        }),
      );
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: B,
          Key: "mp",
          UploadId: up.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
      assertEquals(await readVersionIds(s3, "mp"), ["null", "null", "null"]);
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
