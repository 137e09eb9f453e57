/**
 * SSE-KMS through the S3 API with named keys of the built-in key service (created through the
 * console API, as an operator creates `testkey-1` for conformance suites): the key id as a bare
 * id or an ARN, the ARN, context and bucket key echoed, a bucket default naming a key, and the
 * errors AWS gives for an unknown or a disabled key (nothing stored).
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { bodyBytes, randomBytes } from "./_helpers/server.ts";
import { startIamServer } from "./iam_fixture.ts";

const BUCKET = "enc-kms";

Deno.test("SSE-KMS with named keys", async (t) => {
  const s = await startIamServer();
  const s3 = s.srv.client();
  try {
    const token = s.adminToken;
    const arns: Record<string, string> = {};
    for (const id of ["testkey-1", "testkey-2"]) {
      const k = await s.api("/kms/keys", { token, body: { id } });
      assertEquals(k.status, 201, JSON.stringify(k.body));
      arns[id] = k.body.arn;
    }
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const data = randomBytes(200_000, 4);

    await t.step(
      "a key by id or ARN, with context and bucket key, echoed and read back",
      async () => {
        const context = btoa(JSON.stringify({ project: "conformance" }));
        const put = await s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: "by-id",
            Body: data,
            ServerSideEncryption: "aws:kms",
            SSEKMSKeyId: "testkey-1",
            SSEKMSEncryptionContext: context,
            BucketKeyEnabled: true,
          }),
        );
        assertEquals(put.ServerSideEncryption, "aws:kms");
        assertEquals(put.SSEKMSKeyId, arns["testkey-1"]);
        assertEquals(put.SSEKMSEncryptionContext, context);
        assertEquals(put.BucketKeyEnabled, true);
        const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "by-id" }));
        assertEquals(await bodyBytes(got.Body), data);
        assertEquals(got.SSEKMSKeyId, arns["testkey-1"]);
        assertEquals(got.BucketKeyEnabled, true);

        const byArn = await s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: "by-arn",
            Body: data,
            ServerSideEncryption: "aws:kms",
            SSEKMSKeyId: arns["testkey-2"],
          }),
        );
        assertEquals(byArn.SSEKMSKeyId, arns["testkey-2"]);
        // A copy re-encrypts under the key its request names.
        const copy = await s3.send(
          new CopyObjectCommand({
            Bucket: BUCKET,
            Key: "copied",
            CopySource: `${BUCKET}/by-id`,
            ServerSideEncryption: "aws:kms",
            SSEKMSKeyId: "testkey-2",
          }),
        );
        assertEquals(copy.SSEKMSKeyId, arns["testkey-2"]);
        const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "copied" }));
        assertEquals(head.SSEKMSKeyId, arns["testkey-2"]);
      },
    );

    await t.step("the bucket default names a key", async () => {
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: BUCKET,
          ServerSideEncryptionConfiguration: {
            Rules: [{
              ApplyServerSideEncryptionByDefault: {
                SSEAlgorithm: "aws:kms",
                KMSMasterKeyID: "testkey-2",
              },
              BucketKeyEnabled: true,
            }],
          },
        }),
      );
      const put = await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: "by-default", Body: data }),
      );
      assertEquals(put.ServerSideEncryption, "aws:kms");
      assertEquals(put.SSEKMSKeyId, arns["testkey-2"]);
      assertEquals(put.BucketKeyEnabled, true);
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "by-default" }));
      assertEquals(await bodyBytes(got.Body), data);
    });

    await t.step("an unknown key: KMS.NotFoundException, nothing stored", async () => {
      await assertS3Error(
        () =>
          s3.send(
            new PutObjectCommand({
              Bucket: BUCKET,
              Key: "unknown",
              Body: data,
              ServerSideEncryption: "aws:kms",
              SSEKMSKeyId: "no-such-key",
            }),
          ),
        "KMS.NotFoundException",
        400,
      );
      await assertS3Error(
        () => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "unknown" })),
        "NotFound",
        404,
      );
    });

    await t.step("a disabled key: writes and reads refused, enabled again readable", async () => {
      const off = await s.api("/kms/keys/testkey-1/disable", { token, method: "POST" });
      assertEquals(off.status, 200, JSON.stringify(off.body));
      await assertS3Error(
        () =>
          s3.send(
            new PutObjectCommand({
              Bucket: BUCKET,
              Key: "disabled",
              Body: data,
              ServerSideEncryption: "aws:kms",
              SSEKMSKeyId: "testkey-1",
            }),
          ),
        "KMS.DisabledException",
        400,
      );
      await assertS3Error(
        () => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "by-id" })),
        "KMS.DisabledException",
        400,
      );
      const on = await s.api("/kms/keys/testkey-1/enable", { token, method: "POST" });
      assertEquals(on.status, 200);
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "by-id" }));
      assert((await bodyBytes(got.Body)).length === data.length, "readable again");
    });
  } finally {
    s3.destroy();
    await s.stop();
  }
});
