/**
 * Issue 15 end to end, through the one evaluator: bucket policies across tenants and for
 * anonymous callers, an explicit Deny over the owner, ACLs of buckets and objects, public access
 * blocks at bucket and tenant level, and copies from another tenant's bucket.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
} from "@aws-sdk/client-s3";
import { assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { errorCode, requestsAs } from "./_helpers/signed_fetch.ts";
import { makeTenant, startIamServer } from "./iam_fixture.ts";

Deno.test("access control: policies, ACLs and public access blocks decide together", async (t) => {
  const s = await startIamServer();
  try {
    const a = await makeTenant(s, "tenant-a");
    const b = await makeTenant(s, "tenant-b");
    const aS3 = s.s3(a.user.key, a.user.secret);
    const bS3 = s.s3(b.user.key, b.user.secret);
    const bAdminS3 = s.s3(b.admin.key, b.admin.secret);
    const rootS3 = s.s3(s.srv.accessKey, s.srv.secretKey);
    await bS3.send(new CreateBucketCommand({ Bucket: "b-data" }));
    await bS3.send(new PutObjectCommand({ Bucket: "b-data", Key: "k", Body: "B" }));

    const send = (who: { key: string; secret: string } | null) => requestsAs(s.srv, who);
    const userA = send(a.user);
    const anonymous = send(null);
    const status = async (res: Response) => {
      const code = res.status >= 300 ? await errorCode(res) : (await res.body?.cancel(), null);
      return [res.status, code];
    };
    const policy = (statements: unknown[]) =>
      JSON.stringify({ Version: "2012-10-17", Statement: statements });

    await t.step("a bucket policy lets another tenant's user read, and only read", async () => {
      assertEquals(await status(await userA("GET", "/tenant-b:b-data/k")), [403, "AccessDenied"]);
      await bS3.send(
        new PutBucketPolicyCommand({
          Bucket: "b-data",
          Policy: policy([{
            Sid: "TenantARead",
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::tenant-a:user/tenant-a-user" },
            Action: "s3:GetObject",
            Resource: "arn:aws:s3:::b-data/*",
          }]),
        }),
      );
      const got = await userA("GET", "/tenant-b:b-data/k");
      assertEquals([got.status, await got.text()], [200, "B"]);
      assertEquals(await status(await userA("PUT", "/tenant-b:b-data/x", {}, {}, "A")), [
        403,
        "AccessDenied",
      ]);
      assertEquals(await status(await userA("GET", "/tenant-b:b-data", { "list-type": "2" })), [
        403,
        "AccessDenied",
      ]);
      // A missing key: no right to list, so 403, not 404.
      assertEquals(await status(await userA("GET", "/tenant-b:b-data/missing")), [
        403,
        "AccessDenied",
      ]);
    });

    await t.step("a copy from another tenant's bucket needs its read permission", async () => {
      await aS3.send(new CreateBucketCommand({ Bucket: "a-data" }));
      await aS3.send(
        new CopyObjectCommand({ Bucket: "a-data", Key: "copy", CopySource: "tenant-b:b-data/k" }),
      );
      const got = await aS3.send(new GetObjectCommand({ Bucket: "a-data", Key: "copy" }));
      assertEquals(await got.Body!.transformToString(), "B");
    });

    await t.step("an explicit Deny of the bucket policy binds the owner too", async () => {
      await bS3.send(
        new PutBucketPolicyCommand({
          Bucket: "b-data",
          Policy: policy([{
            Sid: "NoDeletes",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:DeleteObject",
            Resource: "arn:aws:s3:::b-data/*",
          }]),
        }),
      );
      await assertS3Error(
        () => bS3.send(new DeleteObjectCommand({ Bucket: "b-data", Key: "k" })),
        "AccessDenied",
        403,
      );
      // The previous Allow is gone with the policy it was in.
      assertEquals(await status(await userA("GET", "/tenant-b:b-data/k")), [403, "AccessDenied"]);
    });

    await t.step("anonymous reads through a public policy; 404 only with list rights", async () => {
      await rootS3.send(new CreateBucketCommand({ Bucket: "site" }));
      await rootS3.send(new PutObjectCommand({ Bucket: "site", Key: "index.html", Body: "hi" }));
      assertEquals(await status(await anonymous("GET", "/site/index.html")), [403, "AccessDenied"]);
      await rootS3.send(
        new PutBucketPolicyCommand({
          Bucket: "site",
          Policy: policy([{
            Effect: "Allow",
            Principal: "*",
            Action: "s3:GetObject",
            Resource: "arn:aws:s3:::site/*",
          }]),
        }),
      );
      const got = await anonymous("GET", "/site/index.html");
      assertEquals([got.status, await got.text()], [200, "hi"]);
      assertEquals(await status(await anonymous("GET", "/site/nope")), [403, "AccessDenied"]);
      assertEquals(await status(await anonymous("PUT", "/site/x", {}, {}, "x")), [
        403,
        "AccessDenied",
      ]);
      await rootS3.send(
        new PutBucketPolicyCommand({
          Bucket: "site",
          Policy: policy([{
            Effect: "Allow",
            Principal: "*",
            Action: ["s3:GetObject", "s3:ListBucket"],
            Resource: ["arn:aws:s3:::site", "arn:aws:s3:::site/*"],
          }]),
        }),
      );
      assertEquals(await status(await anonymous("GET", "/site/nope")), [404, "NoSuchKey"]);
      // A tenant user reaches the global bucket by its plain name through the same policy.
      const viaA = await userA("GET", "/site/index.html");
      assertEquals([viaA.status, await viaA.text()], [200, "hi"]);
    });

    await t.step("ACLs: a public-read bucket lists, a public-read object reads", async () => {
      await rootS3.send(new CreateBucketCommand({ Bucket: "acl-pub", ACL: "public-read" }));
      await rootS3.send(new PutObjectCommand({ Bucket: "acl-pub", Key: "open", Body: "o" }));
      await rootS3.send(
        new PutObjectCommand({ Bucket: "acl-pub", Key: "shown", Body: "s", ACL: "public-read" }),
      );
      assertEquals(await status(await anonymous("GET", "/acl-pub", { "list-type": "2" })), [
        200,
        null,
      ]);
      assertEquals(await status(await anonymous("GET", "/acl-pub/open")), [403, "AccessDenied"]);
      assertEquals(await status(await anonymous("GET", "/acl-pub/shown")), [200, null]);
      // A grant to one user of another tenant, by canonical id.
      await bS3.send(
        new PutObjectCommand({
          Bucket: "b-data",
          Key: "for-a",
          Body: "to A",
          GrantRead: `id="${a.user.id}"`,
        }),
      );
      const got = await userA("GET", "/tenant-b:b-data/for-a");
      assertEquals([got.status, await got.text()], [200, "to A"]);
    });

    await t.step("public access blocks: bucket level", async () => {
      await rootS3.send(
        new PutPublicAccessBlockCommand({
          Bucket: "acl-pub",
          PublicAccessBlockConfiguration: { IgnorePublicAcls: true, BlockPublicAcls: true },
        }),
      );
      assertEquals(await status(await anonymous("GET", "/acl-pub/shown")), [403, "AccessDenied"]);
      await assertS3Error(
        () =>
          rootS3.send(
            new PutObjectCommand({ Bucket: "acl-pub", Key: "more", Body: "m", ACL: "public-read" }),
          ),
        "AccessDenied",
        403,
      );
      await assertS3Error(
        () => rootS3.send(new PutBucketAclCommand({ Bucket: "acl-pub", ACL: "public-read-write" })),
        "AccessDenied",
        403,
      );
      await rootS3.send(
        new PutPublicAccessBlockCommand({
          Bucket: "site",
          PublicAccessBlockConfiguration: { BlockPublicPolicy: true, RestrictPublicBuckets: true },
        }),
      );
      // The public policy stays, but only callers of the bucket's namespace may use it.
      assertEquals(await status(await anonymous("GET", "/site/index.html")), [403, "AccessDenied"]);
      assertEquals(await status(await userA("GET", "/site/index.html")), [403, "AccessDenied"]);
      await assertS3Error(
        () =>
          rootS3.send(
            new PutBucketPolicyCommand({
              Bucket: "site",
              Policy: policy([{
                Effect: "Allow",
                Principal: "*",
                Action: "s3:GetObject",
                Resource: "arn:aws:s3:::site/*",
              }]),
            }),
          ),
        "AccessDenied",
        403,
      );
    });

    await t.step("other bucket configurations are not the public access block", async () => {
      // Encryption answered the public access block's document once (a dispatch fall-through).
      const userB = send(b.user);
      assertEquals(await status(await userB("GET", "/b-data", { encryption: "" })), [
        404,
        "ServerSideEncryptionConfigurationNotFoundError",
      ]);
    });

    await t.step("public access blocks: tenant level, set by the tenant's admin", async () => {
      await bS3.send(new CreateBucketCommand({ Bucket: "b-pub", ACL: "public-read" }));
      assertEquals(await status(await anonymous("GET", "/tenant-b:b-pub", { "list-type": "2" })), [
        200,
        null,
      ]);
      const put = await s.api(`/tenants/${b.tenantId}/public-access-block`, {
        method: "PUT",
        token: b.admin.token,
        body: { ignorePublicAcls: true, blockPublicAcls: true },
      });
      assertEquals(put.status, 200, JSON.stringify(put.body));
      assertEquals(await status(await anonymous("GET", "/tenant-b:b-pub", { "list-type": "2" })), [
        403,
        "AccessDenied",
      ]);
      await assertS3Error(
        () => bAdminS3.send(new CreateBucketCommand({ Bucket: "b-pub2", ACL: "public-read" })),
        "AccessDenied",
        403,
      );
    });
  } finally {
    await s.stop();
  }
});
