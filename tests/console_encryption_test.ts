/**
 * The console API's bucket default encryption (`/api/v1/buckets/:bucket/encryption`, running
 * S3's Get/Put/DeleteBucketEncryption as the session user) and objects through the console's S3
 * passthrough: SSE-S3 uploads and downloads work, an SSE-C object answers that it needs its key.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { assertEquals } from "./_helpers/assert.ts";
import { makeTenant, startIamServer } from "./iam_fixture.ts";
import { writeParams } from "./_helpers/sse.ts";

Deno.test("console API: bucket default encryption and encrypted objects", async (t) => {
  const s = await startIamServer({ MAXIOFS_SSE_C_OVER_HTTP: "true" });
  try {
    const a = await makeTenant(s, "encc");
    const b = await makeTenant(s, "encd");
    const token = a.admin.token;
    const created = await s.api("/buckets", { token, body: { name: "encb" } });
    assertEquals(created.status, 201);

    await t.step("none, then SSE-KMS, then SSE-S3; bad input leaves it", async () => {
      const get = () => s.api("/buckets/encb/encryption", { token });
      assertEquals((await get()).body, { encryption: null });
      const kms = await s.api("/buckets/encb/encryption", {
        method: "PUT",
        token,
        body: { algorithm: "aws:kms", kmsKeyId: "testkey-1", bucketKey: true },
      });
      assertEquals(kms.status, 200, JSON.stringify(kms.body));
      assertEquals((await get()).body, {
        encryption: { algorithm: "aws:kms", kmsKeyId: "testkey-1", bucketKey: true },
      });
      for (const bad of [{ algorithm: "AES512" }, { algorithm: "AES256", kmsKeyId: "k" }, []]) {
        const r = await s.api("/buckets/encb/encryption", { method: "PUT", token, body: bad });
        assertEquals(r.status, 400, JSON.stringify(bad));
      }
      assertEquals((await get()).body.encryption.algorithm, "aws:kms", "unchanged");
      const s3Default = await s.api("/buckets/encb/encryption", {
        method: "PUT",
        token,
        body: { algorithm: "AES256" },
      });
      assertEquals(s3Default.body, { encryption: { algorithm: "AES256", bucketKey: false } });
      // The S3 API sees the same configuration.
      const xml = await s.api("/s3/encb?encryption", { token });
      assertEquals(xml.status, 200);
      assertEquals(/<SSEAlgorithm>AES256<\/SSEAlgorithm>/.test(xml.body), true);
    });

    await t.step("another tenant's user cannot read or change it", async () => {
      const r = await s.api("/buckets/encb/encryption", { token: b.admin.token });
      assertEquals(r.status === 404 || r.status === 403, true, String(r.status));
      const w = await s.api("/buckets/encb/encryption", {
        method: "PUT",
        token: b.admin.token,
        body: { algorithm: null },
      });
      assertEquals(w.status === 404 || w.status === 403, true, String(w.status));
    });

    await t.step("uploads through the console get the default and download as sent", async () => {
      const put = await fetch(`${s.srv.consoleUrl}/api/v1/s3/encb/doc.txt`, {
        method: "PUT",
        body: "console bytes",
        headers: { authorization: `Bearer ${token}` },
      });
      assertEquals(put.status, 200);
      assertEquals(put.headers.get("x-amz-server-side-encryption"), "AES256");
      await put.body?.cancel();
      const got = await fetch(`${s.srv.consoleUrl}/api/v1/s3/encb/doc.txt`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assertEquals(got.headers.get("x-amz-server-side-encryption"), "AES256");
      assertEquals(await got.text(), "console bytes");
    });

    await t.step("an SSE-C object says it needs its key", async () => {
      const s3 = s.s3(a.admin.key, a.admin.secret);
      await s3.send(
        new PutObjectCommand({
          Bucket: "encb",
          Key: "secret.bin",
          Body: "customer bytes",
          ...writeParams("SSE-C"),
        }),
      );
      s3.destroy();
      const got = await s.api("/s3/encb/secret.bin", { token });
      assertEquals(got.status, 400);
      assertEquals(/<Code>InvalidRequest<\/Code>/.test(got.body), true);
      assertEquals(/Server Side Encryption/.test(got.body), true);
    });

    await t.step("removing the default", async () => {
      const del = await s.api("/buckets/encb/encryption", { method: "DELETE", token });
      assertEquals(del.status, 204);
      assertEquals((await s.api("/buckets/encb/encryption", { token })).body, {
        encryption: null,
      });
    });
  } finally {
    await s.stop();
  }
});
