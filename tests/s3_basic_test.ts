import { assertEquals, assertRejects } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { bodyBytes, randomBytes, startServer } from "./_helpers/server.ts";

Deno.test("S3 basics through the AWS SDK", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await t.step("create, list and head a bucket", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "basics" }));
      const list = await s3.send(new ListBucketsCommand({}));
      assertEquals(list.Buckets?.map((b) => b.Name), ["basics"]);
      await s3.send(new HeadBucketCommand({ Bucket: "basics" }));
    });

    await t.step("put, get, head, list and delete an object with an odd key", async () => {
      const key = "dir//a/../b c+d%e/ünï.txt";
      const data = randomBytes(100_000);
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: "basics",
          Key: key,
          Body: data,
          ContentType: "text/plain",
          Metadata: { color: "blue" },
        }),
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: "basics", Key: key }));
      assertEquals(got.ETag, put.ETag);
      assertEquals(got.ContentType, "text/plain");
      assertEquals(got.Metadata, { color: "blue" });
      assertEquals(await bodyBytes(got.Body), data);
      const head = await s3.send(new HeadObjectCommand({ Bucket: "basics", Key: key }));
      assertEquals(head.ContentLength, data.length);
      const list = await s3.send(new ListObjectsV2Command({ Bucket: "basics" }));
      assertEquals(list.Contents?.map((c) => c.Key), [key]);
      await s3.send(new DeleteObjectCommand({ Bucket: "basics", Key: key }));
      const err = await assertRejects(() =>
        s3.send(new HeadObjectCommand({ Bucket: "basics", Key: key }))
      );
      assertEquals(
        (err as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode,
        404,
      );
    });

    await t.step("delete the bucket", async () => {
      await s3.send(new DeleteBucketCommand({ Bucket: "basics" }));
      const list = await s3.send(new ListBucketsCommand({}));
      assertEquals(list.Buckets ?? [], []);
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
