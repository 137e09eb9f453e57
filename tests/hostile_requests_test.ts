/**
 * Hostile input, end to end: names and keys far past S3's limits are refused with the S3 error
 * before any lookup (signed or not), an error answered before the body is read closes the
 * connection, and a document body declared too long is refused before it is sent.
 */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";
import { rawExchange, rawSignedRequest, signedHead } from "./_helpers/raw_http.ts";

const B = "hostile";
const LONG_BUCKET = "b".repeat(2100);
const LONG_KEY = "k".repeat(2100);

Deno.test("hostile requests are S3 errors, not internal errors or open connections", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "src", Body: "x" }));

    await t.step("a bucket name over 2 KB is InvalidBucketName, signed or anonymous", async () => {
      const requests: [string, string, Record<string, string>][] = [
        ["GET", `/${LONG_BUCKET}/k`, {}],
        ["HEAD", `/${LONG_BUCKET}/k`, {}],
        ["PUT", `/${LONG_BUCKET}/k`, {}],
        ["DELETE", `/${LONG_BUCKET}/k`, {}],
        ["GET", `/${LONG_BUCKET}`, { uploads: "" }],
        ["GET", `/${LONG_BUCKET}`, { "list-type": "2" }],
        ["PUT", `/${LONG_BUCKET}`, {}],
      ];
      for (const [method, path, query] of requests) {
        const what = `${method} ${Object.keys(query).join("")}`;
        const signed = await signedFetch(srv, { method, path, query });
        assertEquals(signed.status, 400, `signed ${what}`);
        if (method !== "HEAD") assertEquals(await errorCode(signed), "InvalidBucketName", what);
        else await signed.body?.cancel();
        const qs = new URLSearchParams(query).toString();
        const anon = await fetch(`${srv.endpoint}${path}${qs ? "?" + qs : ""}`, { method });
        assertEquals(anon.status, 400, `anonymous ${what}`);
        if (method !== "HEAD") assertEquals(await errorCode(anon), "InvalidBucketName", what);
        else await anon.body?.cancel();
      }
    });

    await t.step("the InvalidBucketName message says what is wrong with the name", async () => {
      const res = await signedFetch(srv, { method: "PUT", path: "/Bad_Bucket" });
      const text = await res.text();
      assertEquals(res.status, 400);
      assert(text.includes("<Code>InvalidBucketName</Code>"), text);
      assert(/only lowercase letters, digits, dots and hyphens/.test(text), text);
    });

    await t.step("a key over 1024 bytes is KeyTooLongError on reads as on writes", async () => {
      for (const method of ["GET", "PUT", "DELETE"]) {
        for (const key of ["k".repeat(1500), LONG_KEY]) {
          const res = await signedFetch(srv, { method, path: `/${B}/${key}` });
          assertEquals(res.status, 400, `${method} ${key.length}`);
          assertEquals(await errorCode(res), "KeyTooLongError", `${method} ${key.length}`);
        }
      }
    });

    await t.step("a listing prefix or marker over 1024 bytes is KeyTooLongError", async () => {
      const queries: Record<string, string>[] = [
        { "list-type": "2", prefix: LONG_KEY },
        { versions: "", "key-marker": LONG_KEY },
        { uploads: "", prefix: LONG_KEY },
      ];
      for (const query of queries) {
        const res = await signedFetch(srv, { method: "GET", path: `/${B}`, query });
        assertEquals(res.status, 400, Object.keys(query).join());
        assertEquals(await errorCode(res), "KeyTooLongError", Object.keys(query).join());
      }
    });

    await t.step("a DeleteObjects key over 1024 bytes is its own KeyTooLongError", async () => {
      const body = `<Delete><Object><Key>${LONG_KEY}</Key></Object></Delete>`;
      const res = await signedFetch(srv, {
        method: "POST",
        path: `/${B}`,
        query: { delete: "" },
        body,
        headers: { "content-md5": createHash("md5").update(body).digest("base64") },
      });
      const text = await res.text();
      assertEquals(res.status, 200);
      assert(text.includes("<Code>KeyTooLongError</Code>"), text.replace(/k{50,}/, "k…"));
    });

    await t.step(
      "a copy source with such a bucket or key is refused before the lookup",
      async () => {
        const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: "dst" }));
        const cases: [string, string][] = [
          [`/${LONG_BUCKET}/src`, "InvalidBucketName"],
          [`/${B}/${LONG_KEY}`, "KeyTooLongError"],
          [`/${B}/${"k".repeat(1500)}`, "KeyTooLongError"],
        ];
        const queries: Record<string, string>[] = [{}, {
          partNumber: "1",
          uploadId: upload.UploadId!,
        }];
        for (const [source, code] of cases) {
          for (const query of queries) {
            const res = await signedFetch(srv, {
              method: "PUT",
              path: `/${B}/dst`,
              query,
              headers: { "x-amz-copy-source": source },
            });
            const what = `${source.slice(0, 12)} ${Object.keys(query).join()}`;
            assertEquals(res.status, 400, what);
            assertEquals(await errorCode(res), code, what);
          }
        }
      },
    );

    await t.step(
      "a connection answered before its body is read closes when the peer hangs up",
      async () => {
        // A signed payload hash makes authentication pipe the body through a verifying stream.
        const announced = { "content-length": "1000000", "x-amz-content-sha256": "ab".repeat(32) };
        const cases = [
          ["/no-such-bucket/k", {}, "404"],
          [`/${B}/k`, { torrent: "" }, "501"],
          [`/${LONG_BUCKET}/k`, {}, "400"],
        ] as const;
        for (const [path, query, status] of cases) {
          const head = await signedHead(srv, { method: "PUT", path, query, headers: announced });
          const { answer, closed } = await rawExchange(srv, head, {
            closeWithinMs: 2000,
            hangUp: true,
          });
          assert(answer?.startsWith(`HTTP/1.1 ${status}`), `${path}: ${answer?.split("\r\n")[0]}`);
          assert(closed, `${path.slice(0, 20)}: still open after the ${status} and the peer's FIN`);
        }
      },
    );

    await t.step("a document body declared over 4 MiB is refused before it is sent", async () => {
      const documents: [string, string, Record<string, string>][] = [
        ["PUT", `/${B}/src`, { tagging: "" }],
        ["POST", `/${B}`, { delete: "" }],
      ];
      for (const [method, path, query] of documents) {
        const res = await rawSignedRequest(srv, {
          method,
          path,
          query,
          headers: { "content-length": String(100 * 1024 * 1024) },
          waitMs: 5000,
        });
        assert(res !== null, "no answer while the body was still expected");
        assert(res.startsWith("HTTP/1.1 400"), res.split("\r\n")[0]);
        assert(res.includes("<Code>MaxMessageLengthExceeded</Code>"), res);
      }
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
