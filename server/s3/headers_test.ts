import assert from "node:assert/strict";
import {
  contentHeadersFrom,
  declaredDataLength,
  metadataHeaderValue,
  storedContentEncoding,
  userMetadataFrom,
  userMetadataTo,
} from "./headers.ts";
import { S3Error } from "./errors.ts";

Deno.test("headers: Content-Encoding is kept as sent, less aws-chunked", () => {
  assert.equal(storedContentEncoding("gzip, br"), "gzip, br");
  assert.equal(storedContentEncoding("gzip,br"), "gzip,br");
  assert.equal(storedContentEncoding("gzip, aws-chunked"), "gzip");
  assert.equal(storedContentEncoding("aws-chunked,gzip, br"), "gzip, br");
  assert.equal(storedContentEncoding("AWS-Chunked"), "");
  assert.deepEqual(contentHeadersFrom(new Headers({ "content-encoding": "aws-chunked" })), {});
  assert.deepEqual(contentHeadersFrom(new Headers({ "content-encoding": "br, gzip" })), {
    contentEncoding: "br, gzip",
  });
});

Deno.test("headers: object data needs a length unless its transfer is chunked", () => {
  assert.equal(declaredDataLength(new Headers(), 7), 7);
  assert.equal(declaredDataLength(new Headers({ "transfer-encoding": "chunked" }), null), null);
  assert.equal(
    declaredDataLength(new Headers({ "transfer-encoding": "gzip, Chunked" }), null),
    null,
  );
  assert.throws(
    () => declaredDataLength(new Headers(), null),
    (e) => e instanceof S3Error && e.code === "MissingContentLength",
  );
  assert.throws(
    () => declaredDataLength(new Headers({ "transfer-encoding": "chunkedness" }), null),
    (e) => e instanceof S3Error && e.code === "MissingContentLength",
  );
});

Deno.test("headers: non-ASCII metadata is stored as text, returned as S3 returns it", () => {
  // One char per byte, as a header value is read: "é" as UTF-8 (c3 a9) and as Latin-1 (e9).
  const h = new Headers({ "x-amz-meta-u": "caf\u00c3\u00a9", "x-amz-meta-l": "caf\u00e9" });
  assert.deepEqual(userMetadataFrom(h), { u: "café", l: "café" });
  assert.equal(metadataHeaderValue("plain"), "plain");
  assert.equal(metadataHeaderValue("café"), "café");
  assert.equal(metadataHeaderValue("日本"), "=?UTF-8?B?5pel5pys?=");
  const out: Record<string, string> = {};
  userMetadataTo({ a: "日本", b: "x" }, out);
  assert.deepEqual(out, { "x-amz-meta-a": "=?UTF-8?B?5pel5pys?=", "x-amz-meta-b": "x" });
});
