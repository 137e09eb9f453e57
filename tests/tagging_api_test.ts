import { assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
} from "@aws-sdk/client-s3";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";

const tagSet = (n: number, k = (i: number) => `k${i}`, v = (i: number) => `v${i}`) =>
  Array.from({ length: n }, (_, i) => ({ Key: k(i), Value: v(i) }));

Deno.test("tagging through the AWS SDK", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  const B = "tags";
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: "Enabled" } }),
    );

    let v1 = "";
    await t.step("x-amz-tagging on PUT, tagging count on GET", async () => {
      v1 = (await s3.send(
        new PutObjectCommand({ Bucket: B, Key: "o", Body: "1", Tagging: "a=1&b=two%20words" }),
      )).VersionId!;
      const g = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "o" }));
      assertEquals(g.TagSet, [{ Key: "a", Value: "1" }, { Key: "b", Value: "two words" }]);
      assertEquals(g.VersionId, v1);
      const o = await s3.send(new GetObjectCommand({ Bucket: B, Key: "o" }));
      await o.Body?.transformToByteArray();
      assertEquals(o.TagCount, 2);
    });

    await t.step("object tags are per version", async () => {
      const v2 = (await s3.send(new PutObjectCommand({ Bucket: B, Key: "o", Body: "2" })))
        .VersionId!;
      await s3.send(
        new PutObjectTaggingCommand({
          Bucket: B,
          Key: "o",
          VersionId: v1,
          Tagging: { TagSet: [{ Key: "old", Value: "yes" }] },
        }),
      );
      const latest = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "o" }));
      assertEquals([latest.TagSet, latest.VersionId], [[], v2]);
      const old = await s3.send(
        new GetObjectTaggingCommand({ Bucket: B, Key: "o", VersionId: v1 }),
      );
      assertEquals(old.TagSet, [{ Key: "old", Value: "yes" }]);
      await s3.send(new DeleteObjectTaggingCommand({ Bucket: B, Key: "o", VersionId: v1 }));
      const gone = await s3.send(
        new GetObjectTaggingCommand({ Bucket: B, Key: "o", VersionId: v1 }),
      );
      assertEquals(gone.TagSet, []);
    });

    await t.step("tag limits answer InvalidTag", async () => {
      const bad = [
        tagSet(11),
        tagSet(1, () => "k".repeat(129)),
        tagSet(1, () => "k", () => "v".repeat(257)),
        tagSet(2, () => "same"),
      ];
      for (const TagSet of bad) {
        await assertS3Error(
          () => s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: "o", Tagging: { TagSet } })),
          "InvalidTag",
          400,
        );
      }
      // The limits themselves are accepted: 10 tags, 128-character keys, 256-character values.
      await s3.send(
        new PutObjectTaggingCommand({
          Bucket: B,
          Key: "o",
          Tagging: { TagSet: tagSet(10, (i) => `${i}`.padEnd(128, "k"), () => "v".repeat(256)) },
        }),
      );
      await assertS3Error(
        () => s3.send(new PutObjectCommand({ Bucket: B, Key: "p", Body: "x", Tagging: "a=1&a=2" })),
        "InvalidTag",
        400,
      );
      const res = await signedFetch(srv, {
        method: "PUT",
        path: `/${B}/o`,
        query: { tagging: "" },
        body: "<Tagging><TagSet><Tag><Key>x</Key></Tag></TagSet></Tagging>",
      });
      assertEquals([res.status, await errorCode(res)], [400, "MalformedXML"]);
    });

    await t.step("copy keeps tags by default and replaces them on request", async () => {
      await s3.send(
        new PutObjectCommand({ Bucket: B, Key: "src", Body: "s", Tagging: "from=src" }),
      );
      await s3.send(new CopyObjectCommand({ Bucket: B, Key: "c1", CopySource: `${B}/src` }));
      const c1 = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "c1" }));
      assertEquals(c1.TagSet, [{ Key: "from", Value: "src" }]);
      await s3.send(
        new CopyObjectCommand({
          Bucket: B,
          Key: "c2",
          CopySource: `${B}/src`,
          TaggingDirective: "REPLACE",
          Tagging: "new=tag",
        }),
      );
      const c2 = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "c2" }));
      assertEquals(c2.TagSet, [{ Key: "new", Value: "tag" }]);
    });

    await t.step("tagging a delete marker", async () => {
      const m = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "c2" }));
      await assertS3Error(
        () => s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "c2" })),
        "NoSuchKey",
        404,
      );
      await assertS3Error(
        () =>
          s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "c2", VersionId: m.VersionId })),
        "MethodNotAllowed",
        405,
      );
    });

    await t.step("bucket tagging: get, put (50 max), delete", async () => {
      await assertS3Error(
        () => s3.send(new GetBucketTaggingCommand({ Bucket: B })),
        "NoSuchTagSet",
        404,
      );
      await s3.send(new PutBucketTaggingCommand({ Bucket: B, Tagging: { TagSet: tagSet(50) } }));
      const g = await s3.send(new GetBucketTaggingCommand({ Bucket: B }));
      assertEquals(g.TagSet?.length, 50);
      await assertS3Error(
        () => s3.send(new PutBucketTaggingCommand({ Bucket: B, Tagging: { TagSet: tagSet(51) } })),
        "InvalidTag",
        400,
      );
      await s3.send(new DeleteBucketTaggingCommand({ Bucket: B }));
      await assertS3Error(
        () => s3.send(new GetBucketTaggingCommand({ Bucket: B })),
        "NoSuchTagSet",
        404,
      );
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
