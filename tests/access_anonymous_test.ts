/**
 * Anonymous (unsigned) requests, operation by operation: a bucket whose ACL is public-read-write
 * lets anyone list, read, write and delete objects (AWS's grants of AllUsers READ and WRITE), and
 * nothing else; a private bucket refuses every operation, a missing key included, with 403.
 */
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { errorCode } from "./_helpers/signed_fetch.ts";
import { S3Client } from "@aws-sdk/client-s3";

Deno.test("anonymous requests: what a public-read-write ACL allows, and nothing more", async (t) => {
  const srv = await startServer();
  const s3 = new S3Client({
    endpoint: srv.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "open", ACL: "public-read-write" }));
    await s3.send(new CreateBucketCommand({ Bucket: "closed" }));
    await s3.send(new PutObjectCommand({ Bucket: "closed", Key: "k", Body: "secret" }));
    const anon = async (method: string, path: string, body?: BodyInit) => {
      const res = await fetch(`${srv.endpoint}${path}`, { method, body });
      const code = res.status >= 300 && method !== "HEAD"
        ? await errorCode(res)
        : (await res.body?.cancel(), null);
      return [res.status, code];
    };

    await t.step("public-read-write: objects and listings", async () => {
      assertEquals(await anon("PUT", "/open/a.txt", "anon data"), [200, null]);
      assertEquals(await anon("GET", "/open/a.txt"), [403, "AccessDenied"]);
      assertEquals(await anon("HEAD", "/open/a.txt"), [403, null]);
      assertEquals(await anon("GET", "/open?list-type=2"), [200, null]);
      assertEquals(await anon("GET", "/open"), [200, null]);
      assertEquals(await anon("GET", "/open?versions"), [200, null]);
      // Listing is allowed, so a missing key is an honest 404.
      assertEquals(await anon("GET", "/open/missing"), [404, "NoSuchKey"]);
      const created = await fetch(`${srv.endpoint}/open/mp?uploads`, { method: "POST" });
      assertEquals(created.status, 200);
      const uploadId = /<UploadId>([^<]+)</.exec(await created.text())![1];
      const part = await fetch(`${srv.endpoint}/open/mp?partNumber=1&uploadId=${uploadId}`, {
        method: "PUT",
        body: "part one",
      });
      assertEquals(part.status, 200);
      await part.body?.cancel();
      const done = await fetch(`${srv.endpoint}/open/mp?uploadId=${uploadId}`, {
        method: "POST",
        body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${
          part.headers.get("etag")
        }</ETag></Part></CompleteMultipartUpload>`,
      });
      assertEquals(done.status, 200);
      await done.body?.cancel();
      const form = new FormData();
      form.append("key", "posted.txt");
      form.append("file", new Blob(["from a form"]), "posted.txt");
      const posted = await fetch(`${srv.endpoint}/open`, { method: "POST", body: form });
      assertEquals(posted.status, 204);
      await posted.body?.cancel();
      assertEquals(await anon("DELETE", "/open/a.txt"), [204, null]);
    });

    await t.step("public-read-write grants no configuration and no ACL access", async () => {
      for (
        const [method, path] of [
          ["GET", "/open?acl"],
          ["PUT", "/open?acl"],
          ["GET", "/open?policy"],
          ["GET", "/open?versioning"],
          ["PUT", "/open?tagging"],
          ["GET", "/open/posted.txt?tagging"],
          ["DELETE", "/open"],
          ["GET", "/"],
          ["PUT", "/new-bucket"],
        ]
      ) {
        const got = await anon(method, path);
        assertEquals(got[0], 403, `${method} ${path}: ${got}`);
      }
    });

    await t.step("a private bucket: every operation 403, a missing key too", async () => {
      for (
        const [method, path] of [
          ["GET", "/closed/k"],
          ["GET", "/closed/missing"],
          ["HEAD", "/closed/k"],
          ["PUT", "/closed/k"],
          ["DELETE", "/closed/k"],
          ["GET", "/closed?list-type=2"],
          ["POST", "/closed/mp?uploads"],
          ["GET", "/closed?acl"],
        ]
      ) {
        assertEquals((await anon(method, path))[0], 403, `${method} ${path}`);
      }
      const got = await s3.send(new PutObjectCommand({ Bucket: "closed", Key: "k2", Body: "x" }));
      assertEquals(got.$metadata.httpStatusCode, 200);
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
