/**
 * A client that stops sending in the middle of a body is answered `RequestTimeout` once
 * `--body-timeout` seconds pass without a byte, and nothing of it is kept: a stalled upload must
 * not hold a connection, a temp file and graceful shutdown forever.
 */
import { CreateBucketCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { randomBytes, startServer } from "./_helpers/server.ts";
import { rawSignedRequest } from "./_helpers/raw_http.ts";

const B = "body-timeout";

Deno.test("a stalled request body is RequestTimeout after --body-timeout", async () => {
  const srv = await startServer({ args: ["--body-timeout", "1"] });
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    // 10 KB of a declared 100 KB, then silence with the connection open.
    const res = await rawSignedRequest(srv, {
      method: "PUT",
      path: `/${B}/stalled`,
      headers: { "content-length": "100000" },
      body: randomBytes(10_000, 9),
      waitMs: 8000,
    });
    assert(res !== null, "no answer to a stalled body");
    assert(res.startsWith("HTTP/1.1 400"), res.split("\r\n")[0]);
    assert(res.includes("<Code>RequestTimeout</Code>"), res);
    await assertS3Error(
      () => s3.send(new HeadObjectCommand({ Bucket: B, Key: "stalled" })),
      "NotFound",
      404,
    );
    const partial: string[] = [];
    for await (const f of Deno.readDir(`${srv.dataDir}/tmp`)) {
      const st = await Deno.stat(`${srv.dataDir}/tmp/${f.name}`);
      if (st.size > 0) partial.push(f.name);
    }
    assertEquals(partial, []);
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
