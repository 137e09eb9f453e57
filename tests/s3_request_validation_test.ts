/**
 * Requests S3 refuses before doing any work, end to end: a Content-Length over the 5 GiB limit
 * (answered before the body is read), XML character references to non-characters in a request
 * body, and reserved bucket name prefixes and suffixes.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";
import { rawSignedRequest } from "./_helpers/raw_http.ts";

const B = "request-validation";

Deno.test("S3 request validation: body size, XML characters, bucket names", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));

    await t.step(
      "a Content-Length over 5 GiB is EntityTooLarge before the body is read",
      async () => {
        const res = await rawSignedRequest(srv, {
          method: "PUT",
          path: `/${B}/huge`,
          headers: { "content-length": String(5 * 1024 ** 3 + 1) },
          waitMs: 5000,
        });
        assert(res !== null, "no answer while the body was still expected");
        assert(res.startsWith("HTTP/1.1 400"), res.split("\r\n")[0]);
        assert(res.includes("<Code>EntityTooLarge</Code>"), res);
        await assertS3Error(
          () => s3.send(new HeadObjectCommand({ Bucket: B, Key: "huge" })),
          "NotFound",
          404,
        );
      },
    );

    await t.step("XML character references to non-characters are MalformedXML", async () => {
      await s3.send(new PutObjectCommand({ Bucket: B, Key: "tagged", Body: "x" }));
      for (const ref of ["&#0;", "&#x1;", "&#xD800;", "&#xFFFF;", "&#x110000;"]) {
        const body =
          `<Tagging><TagSet><Tag><Key>k</Key><Value>a${ref}b</Value></Tag></TagSet></Tagging>`;
        const res = await signedFetch(srv, {
          method: "PUT",
          path: `/${B}/tagged`,
          query: { tagging: "" },
          body,
          headers: { "content-md5": createHash("md5").update(body).digest("base64") },
        });
        assertEquals([res.status, await errorCode(res)], [400, "MalformedXML"], ref);
      }
      const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "tagged" }));
      assertEquals(tags.TagSet, []);
      // Tab, line feed and astral characters are XML characters.
      const ok =
        "<Tagging><TagSet><Tag><Key>k</Key><Value>a&#9;&#x1F600;</Value></Tag></TagSet></Tagging>";
      const res = await signedFetch(srv, {
        method: "PUT",
        path: `/${B}/tagged`,
        query: { tagging: "" },
        body: ok,
        headers: { "content-md5": createHash("md5").update(ok).digest("base64") },
      });
      assertEquals(res.status, 200, await res.text());
    });

    await t.step("reserved bucket name prefixes and suffixes are InvalidBucketName", async () => {
      for (
        const Bucket of ["amzn-s3-demo-bucket", "sthree-configurator-x", "xn--abc", "abc--ol-s3"]
      ) {
        await assertS3Error(
          () => s3.send(new CreateBucketCommand({ Bucket })),
          "InvalidBucketName",
          400,
        );
      }
      await s3.send(new CreateBucketCommand({ Bucket: "amzn-s3-demo" }));
      await s3.send(new DeleteBucketCommand({ Bucket: "amzn-s3-demo" }));
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
