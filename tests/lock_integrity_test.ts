/**
 * Object Lock writes need an integrity value, as in S3: a PutObject with Object Lock headers, or
 * into a bucket with a default retention, needs Content-MD5 or an x-amz-checksum-* header
 * (InvalidRequest otherwise); PutObjectLockConfiguration, PutObjectRetention and
 * PutObjectLegalHold need one like every "request checksum required" operation.
 */
import { createHash } from "node:crypto";
import {
  CreateBucketCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
} from "@aws-sdk/client-s3";
import { assertEquals } from "./_helpers/assert.ts";
import { startServer, type TestServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";
import { newChecksumHasher, toBase64 } from "../server/storage/objects/hashing.ts";

const B = "lock-md5";
const md5 = (s: string) => createHash("md5").update(s).digest("base64");
const crc32 = (s: string) => {
  const h = newChecksumHasher("CRC32");
  h.update(new TextEncoder().encode(s));
  return toBase64(h.digest());
};

async function put(srv: TestServer, path: string, headers: Record<string, string>, body = "x") {
  const res = await signedFetch(srv, { method: "PUT", path, headers, body });
  return [res.status, res.ok ? null : await errorCode(res)];
}

async function putXml(
  srv: TestServer,
  path: string,
  query: Record<string, string>,
  body: string,
  headers: Record<string, string> = {},
) {
  const res = await signedFetch(srv, { method: "PUT", path, query, headers, body });
  return [res.status, res.ok ? null : await errorCode(res)];
}

Deno.test("Object Lock writes require Content-MD5 or a checksum", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B, ObjectLockEnabledForBucket: true }));
    const until = new Date(Date.now() + 24 * 3600_000).toISOString();
    const retention = {
      "x-amz-object-lock-mode": "GOVERNANCE",
      "x-amz-object-lock-retain-until-date": until,
    };

    await t.step("PutObject with lock headers", async () => {
      assertEquals(await put(srv, `/${B}/r`, retention), [400, "InvalidRequest"]);
      assertEquals(
        await put(srv, `/${B}/h`, { "x-amz-object-lock-legal-hold": "ON" }),
        [400, "InvalidRequest"],
      );
      assertEquals(await put(srv, `/${B}/r`, { ...retention, "content-md5": md5("x") }), [
        200,
        null,
      ]);
      assertEquals(
        await put(srv, `/${B}/r`, { ...retention, "x-amz-checksum-crc32": crc32("x") }),
        [200, null],
      );
      // A wrong digest is still BadDigest, not accepted as "present".
      assertEquals(await put(srv, `/${B}/r`, { ...retention, "content-md5": md5("y") }), [
        400,
        "BadDigest",
      ]);
      // Without lock headers and without a default retention, no digest is needed.
      assertEquals(await put(srv, `/${B}/plain`, {}), [200, null]);
      // The SDK sends a checksum of its own.
      await s3.send(
        new PutObjectCommand({
          Bucket: B,
          Key: "sdk",
          Body: "x",
          ObjectLockMode: "GOVERNANCE",
          ObjectLockRetainUntilDate: new Date(until),
        }),
      );
    });

    await t.step("lock configuration, retention and legal hold bodies", async () => {
      const cfg =
        "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>";
      assertEquals(await putXml(srv, `/${B}`, { "object-lock": "" }, cfg), [
        400,
        "InvalidRequest",
      ]);
      const ret =
        `<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>${until}</RetainUntilDate></Retention>`;
      assertEquals(await putXml(srv, `/${B}/plain`, { retention: "" }, ret), [
        400,
        "InvalidRequest",
      ]);
      const hold = "<LegalHold><Status>ON</Status></LegalHold>";
      assertEquals(await putXml(srv, `/${B}/plain`, { "legal-hold": "" }, hold), [
        400,
        "InvalidRequest",
      ]);
      assertEquals(
        await putXml(srv, `/${B}/plain`, { "legal-hold": "" }, hold, { "content-md5": md5("x") }),
        [400, "BadDigest"],
      );
      assertEquals(
        await putXml(srv, `/${B}/plain`, { "legal-hold": "" }, hold, { "content-md5": md5(hold) }),
        [200, null],
      );
      // The SDK sends what these operations require.
      await s3.send(
        new PutObjectRetentionCommand({
          Bucket: B,
          Key: "plain",
          Retention: { Mode: "GOVERNANCE", RetainUntilDate: new Date(until) },
        }),
      );
      await s3.send(
        new PutObjectLegalHoldCommand({ Bucket: B, Key: "plain", LegalHold: { Status: "OFF" } }),
      );
      await s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: B,
          ObjectLockConfiguration: {
            ObjectLockEnabled: "Enabled",
            Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 1 } },
          },
        }),
      );
    });

    await t.step("a default retention makes every PutObject a lock request", async () => {
      assertEquals(await put(srv, `/${B}/d`, {}), [400, "InvalidRequest"]);
      assertEquals(await put(srv, `/${B}/d`, { "content-md5": md5("x") }), [200, null]);
    });

    await t.step("buckets without Object Lock need no digest", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "lock-md5-plain" }));
      assertEquals(await put(srv, `/lock-md5-plain/p`, {}), [200, null]);
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
