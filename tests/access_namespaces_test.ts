/**
 * Bucket names across namespaces (docs/decisions/0011, docs/multi-tenancy.md) and anonymous
 * callers: `tenant:bucket` names another tenant's bucket, unqualified names fall back to the
 * global namespace, anonymous callers resolve in the global namespace, and a missing key is
 * 404 only to callers who may list the bucket.
 */
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { assertEquals } from "./_helpers/assert.ts";
import { errorCode, requestsAs } from "./_helpers/signed_fetch.ts";
import { makeTenant, startIamServer } from "./iam_fixture.ts";

Deno.test("bucket names across namespaces, and anonymous callers", async (t) => {
  const s = await startIamServer();
  try {
    const a = await makeTenant(s, "tenant-a");
    const b = await makeTenant(s, "tenant-b");
    const aS3 = s.s3(a.user.key, a.user.secret);
    const bS3 = s.s3(b.user.key, b.user.secret);
    const rootS3 = s.s3(s.srv.accessKey, s.srv.secretKey);
    await bS3.send(new CreateBucketCommand({ Bucket: "b-only" }));
    await bS3.send(new PutObjectCommand({ Bucket: "b-only", Key: "k", Body: "B" }));
    await rootS3.send(new CreateBucketCommand({ Bucket: "shared" }));
    await rootS3.send(new PutObjectCommand({ Bucket: "shared", Key: "k", Body: "global" }));

    const as = (who: { key: string; secret: string } | null) => requestsAs(s.srv, who);
    const userA = as(a.user);
    const userB = as(b.user);
    const anonymous = as(null);
    const expect = async (res: Response, status: number, code: string | null) => {
      const got = res.status >= 300 ? await errorCode(res) : (await res.body?.cancel(), null);
      assertEquals([res.status, got], [status, code]);
    };

    await t.step(
      "tenant:bucket names another tenant's bucket; access is the bucket's call",
      async () => {
        // Found (not 404), but tenant-b's bucket allows nobody of tenant-a.
        await expect(await userA("GET", "/tenant-b:b-only/k"), 403, "AccessDenied");
        await expect(
          await userA("GET", "/tenant-b:b-only", { "list-type": "2" }),
          403,
          "AccessDenied",
        );
        // The unqualified name still resolves in the caller's namespace, then the global one.
        await expect(await userA("GET", "/b-only/k"), 404, "NoSuchBucket");
        // Its own tenant's qualified name is the same bucket as the plain name.
        const own = await userB("GET", "/tenant-b:b-only/k");
        assertEquals([own.status, await own.text()], [200, "B"]);
      },
    );

    await t.step("a qualifier naming no tenant, or malformed, answers as S3 does", async () => {
      await expect(await userA("GET", "/no-such-tenant:b-only/k"), 404, "NoSuchBucket");
      await expect(await userA("GET", "/Bad_Tenant:b-only/k"), 400, "InvalidBucketName");
      await expect(await userA("GET", "/tenant-b:B/k"), 400, "InvalidBucketName");
    });

    await t.step("unqualified names fall back to the global namespace", async () => {
      // tenant-a has no "shared": the global bucket is found, and it does not allow tenant-a.
      await expect(await userA("GET", "/shared/k"), 403, "AccessDenied");
      // Once tenant-a owns a "shared" of its own, that one wins.
      await aS3.send(new CreateBucketCommand({ Bucket: "shared" }));
      await expect(await userA("GET", "/shared/k"), 404, "NoSuchKey");
    });

    await t.step("CreateBucket only in the caller's own namespace", async () => {
      await expect(await userA("PUT", "/tenant-b:new-one"), 403, "AccessDenied");
      await expect(await userA("PUT", "/tenant-a:mine-too"), 200, null);
      const listed = await userA("GET", "/mine-too", { "list-type": "2" });
      assertEquals(listed.status, 200);
      await listed.body?.cancel();
      await expect(await anonymous("PUT", "/anon-bucket"), 403, "AccessDenied");
    });

    await t.step(
      "anonymous callers: global names, 403 without a grant, 404 for no bucket",
      async () => {
        await expect(await anonymous("GET", "/shared/k"), 403, "AccessDenied");
        // No one may list "shared" anonymously: a missing key is 403 too, not 404.
        await expect(await anonymous("GET", "/shared/missing"), 403, "AccessDenied");
        await expect(await anonymous("GET", "/no-such-bucket/k"), 404, "NoSuchBucket");
        await expect(await anonymous("GET", "/"), 403, "AccessDenied");
      },
    );

    await t.step("a missing key is 404 to who may list, 403 to who may not", async () => {
      await expect(await userB("GET", "/b-only/missing"), 404, "NoSuchKey");
      await expect(await userB("HEAD", "/b-only/missing"), 404, null);
      // A policy that allows GetObject but not ListBucket.
      const p = await s.api("/policies", {
        token: b.admin.token,
        body: {
          name: "get-only",
          document: {
            Version: "2012-10-17",
            Statement: [{
              Effect: "Allow",
              Action: "s3:GetObject",
              Resource: "arn:aws:s3:::b-only/*",
            }],
          },
        },
      });
      assertEquals(p.status, 201);
      const reader = await s.api("/users", {
        token: b.admin.token,
        body: { username: "b-reader", password: "b-reader-Password-1", role: "tenant_user" },
      });
      assertEquals(reader.status, 201, JSON.stringify(reader.body));
      const at = await s.api(`/policies/${p.body.id}/attachments/users/${reader.body.id}`, {
        method: "PUT",
        token: b.admin.token,
      });
      assertEquals(at.status, 204);
      const token = await s.login("b-reader", "b-reader-Password-1");
      const k = await s.api("/access-keys", { token, body: {} });
      const r = as({ key: k.body.accessKeyId, secret: k.body.secretAccessKey });
      const got = await r("GET", "/b-only/k");
      assertEquals([got.status, await got.text()], [200, "B"]);
      await expect(await r("GET", "/b-only/missing"), 403, "AccessDenied");
    });
  } finally {
    await s.stop();
  }
});
