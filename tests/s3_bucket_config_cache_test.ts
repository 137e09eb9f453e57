/**
 * Object requests see a bucket's configuration as it is now: the Expiration header of HEAD
 * follows lifecycle rules put, replaced and deleted a moment before, and a bucket created again
 * under the same name starts without the old configuration (the bucket record is cached).
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";

const B = "config-cache";

Deno.test("the bucket configuration object requests see", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "tagged", Body: "x" }));

    await t.step("bucket configuration changes show at once on object requests", async () => {
      const rules = (id: string) =>
        s3.send(
          new PutBucketLifecycleConfigurationCommand({
            Bucket: B,
            LifecycleConfiguration: {
              Rules: [{
                ID: id,
                Status: "Enabled",
                Filter: { Prefix: "" },
                Expiration: { Days: 3 },
              }],
            },
          }),
        );
      const expiration = async () =>
        (await s3.send(new HeadObjectCommand({ Bucket: B, Key: "tagged" }))).Expiration;
      assertEquals(await expiration(), undefined);
      await rules("first");
      assert((await expiration())?.includes('rule-id="first"'));
      await rules("second");
      assert((await expiration())?.includes('rule-id="second"'));
      await s3.send(new DeleteBucketLifecycleCommand({ Bucket: B }));
      assertEquals(await expiration(), undefined);
      // A bucket created again under the same name starts without the old configuration.
      await rules("third");
      await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "tagged" }));
      await s3.send(new DeleteBucketCommand({ Bucket: B }));
      await s3.send(new CreateBucketCommand({ Bucket: B }));
      await s3.send(new PutObjectCommand({ Bucket: B, Key: "tagged", Body: "x" }));
      assertEquals(await expiration(), undefined);
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
