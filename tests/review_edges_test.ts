/**
 * Review findings on request edges, end to end: each step is a case that once answered wrongly.
 */
import { CreateBucketCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { assert, assertS3Error } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { rawSignedRequest } from "./_helpers/raw_http.ts";

const B = "review-edges";

Deno.test("S3 request edges (review)", async (t) => {
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
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
