/**
 * Object reads and writes end to end: stored headers and metadata, digests and checksums,
 * ranges, conditional requests, response-* overrides, key edge cases, GetObjectAttributes.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ObjectAttributes,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { bodyBytes, randomBytes, startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";

const B = "objects";
const enc = new TextEncoder();
const md5b64 = (d: Uint8Array | string) => createHash("md5").update(d).digest("base64");
const md5hex = (d: Uint8Array | string) => createHash("md5").update(d).digest("hex");
const hexToB64 = (hex: string) =>
  btoa(String.fromCharCode(...hex.match(/../g)!.map((h) => parseInt(h, 16))));

Deno.test("S3 objects: headers, digests, ranges, conditionals, keys", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  const put = (key: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
    signedFetch(srv, { method: "PUT", path: `/${B}/${key}`, body, headers });
  const get = (key: string, headers: Record<string, string> = {}, query?: Record<string, string>) =>
    signedFetch(srv, { method: "GET", path: `/${B}/${key}`, headers, query });
  const head = (key: string, headers: Record<string, string> = {}) =>
    signedFetch(srv, { method: "HEAD", path: `/${B}/${key}`, headers });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));

    await t.step(
      "content headers and x-amz-meta-* are stored and returned; ETag is MD5",
      async () => {
        const data = randomBytes(5000, 7);
        const expires = new Date("2030-01-02T03:04:05Z");
        const res = await s3.send(
          new PutObjectCommand({
            Bucket: B,
            Key: "headers.bin",
            Body: data,
            ContentType: "application/x-test",
            ContentDisposition: 'attachment; filename="x.bin"',
            ContentEncoding: "identity",
            ContentLanguage: "de-CH",
            CacheControl: "max-age=60",
            Expires: expires,
            Metadata: { color: "blue", "two-words": "a b" },
          }),
        );
        assertEquals(res.ETag, `"${md5hex(data)}"`);
        const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "headers.bin" }));
        assertEquals(h.ETag, res.ETag);
        assertEquals(h.ContentLength, 5000);
        assertEquals(h.ContentType, "application/x-test");
        assertEquals(h.ContentDisposition, 'attachment; filename="x.bin"');
        assertEquals(h.ContentEncoding, "identity");
        assertEquals(h.ContentLanguage, "de-CH");
        assertEquals(h.CacheControl, "max-age=60");
        assertEquals(h.Expires?.getTime(), expires.getTime());
        assertEquals(h.Metadata, { color: "blue", "two-words": "a b" });
        assert(h.LastModified instanceof Date);
        const raw = await head("headers.bin");
        assertEquals(raw.headers.get("accept-ranges"), "bytes");
        assert(raw.headers.get("x-amz-request-id"));
      },
    );

    await t.step("an object without Content-Type reads back as binary/octet-stream", async () => {
      // A string body would make fetch add text/plain; bytes carry no Content-Type.
      const res = await put("no-type", enc.encode("x"));
      assertEquals(res.status, 200);
      const h = await head("no-type");
      assertEquals(h.headers.get("content-type"), "binary/octet-stream");
    });

    await t.step("user metadata is limited to 2 KB", async () => {
      const ok = await put("meta-ok", "x", { "x-amz-meta-a": "v".repeat(2047) });
      assertEquals(ok.status, 200);
      const big = await put("meta-big", "x", { "x-amz-meta-a": "v".repeat(2048) });
      assertEquals(big.status, 400);
      assertEquals(await errorCode(big), "MetadataTooLarge");
      assertEquals((await head("meta-big")).status, 404);
      // Non-ASCII bytes count once each: 2047 bytes of 0xE9 fit (as raw latin1 header bytes).
      const latin = await put("meta-latin", "x", { "x-amz-meta-a": "\u00e9".repeat(2047) });
      assertEquals(latin.status, 200);
      await latin.body?.cancel();
    });

    await t.step(
      "Content-MD5: matching, wrong (BadDigest) and malformed (InvalidDigest)",
      async () => {
        const body = "content md5 body";
        assertEquals((await put("md5", body, { "content-md5": md5b64(body) })).status, 200);
        const bad = await put("md5-bad", body, { "content-md5": md5b64("other") });
        assertEquals(bad.status, 400);
        assertEquals(await errorCode(bad), "BadDigest");
        const malformed = await put("md5-bad", body, { "content-md5": "not-base64!" });
        assertEquals(malformed.status, 400);
        assertEquals(await errorCode(malformed), "InvalidDigest");
        const short = await put("md5-bad", body, { "content-md5": btoa("short") });
        assertEquals(await errorCode(short), "InvalidDigest");
        assertEquals((await head("md5-bad")).status, 404);
      },
    );

    await t.step(
      "x-amz-checksum-* is verified, stored and returned with checksum mode",
      async () => {
        // Published check values for "123456789".
        const check: Record<string, string> = {
          crc32: hexToB64("cbf43926"),
          crc32c: hexToB64("e3069283"),
          crc64nvme: hexToB64("ae8b14860a799888"),
          sha1: createHash("sha1").update("123456789").digest("base64"),
          sha256: createHash("sha256").update("123456789").digest("base64"),
        };
        for (const [alg, value] of Object.entries(check)) {
          const key = `ck-${alg}`;
          const res = await put(key, "123456789", { [`x-amz-checksum-${alg}`]: value });
          assertEquals(res.status, 200, `${alg}: ${await res.text()}`);
          assertEquals(res.headers.get(`x-amz-checksum-${alg}`), value);
          const plain = await get(key);
          assertEquals(plain.headers.get(`x-amz-checksum-${alg}`), null);
          await plain.body?.cancel();
          const withMode = await get(key, { "x-amz-checksum-mode": "ENABLED" });
          assertEquals(withMode.headers.get(`x-amz-checksum-${alg}`), value);
          assertEquals(await withMode.text(), "123456789");
          const wrong = await put(`${key}-wrong`, "123456780", {
            [`x-amz-checksum-${alg}`]: value,
          });
          assertEquals(wrong.status, 400, alg);
          assertEquals(await errorCode(wrong), "BadDigest");
          const malformed = await put(`${key}-wrong`, "x", {
            [`x-amz-checksum-${alg}`]: "AAAA" + value,
          });
          assertEquals(malformed.status, 400, alg);
          assertEquals(await errorCode(malformed), "InvalidRequest");
          assertEquals((await head(`${key}-wrong`)).status, 404);
        }
      },
    );

    await t.step("the SDK's own checksums round-trip (ChecksumMode ENABLED)", async () => {
      for (const alg of [ChecksumAlgorithm.CRC32C, ChecksumAlgorithm.SHA256]) {
        const data = randomBytes(70_000, 3);
        const res = await s3.send(
          new PutObjectCommand({
            Bucket: B,
            Key: `sdk-${alg}`,
            Body: data,
            ChecksumAlgorithm: alg,
          }),
        );
        const got = await s3.send(
          new GetObjectCommand({ Bucket: B, Key: `sdk-${alg}`, ChecksumMode: "ENABLED" }),
        );
        const field = `Checksum${alg}` as "ChecksumCRC32C" | "ChecksumSHA256";
        assert(res[field]);
        assertEquals(got[field], res[field]);
        assertEquals(await bodyBytes(got.Body), data);
      }
    });

    const ten = "0123456789";
    await t.step("Range: closed, suffix, open, clipped, ignored and unsatisfiable", async () => {
      await put("ten", ten);
      const cases: [string, number, string, string | null][] = [
        ["bytes=0-4", 206, "01234", "bytes 0-4/10"],
        ["bytes=-3", 206, "789", "bytes 7-9/10"],
        ["bytes=-30", 206, ten, "bytes 0-9/10"],
        ["bytes=6-", 206, "6789", "bytes 6-9/10"],
        ["bytes=8-100", 206, "89", "bytes 8-9/10"],
        ["bytes=0-1,3-4", 200, ten, null],
        ["bytes=5-2", 200, ten, null],
        ["garbage", 200, ten, null],
        ["items=0-1", 200, ten, null],
      ];
      for (const [range, status, body, contentRange] of cases) {
        const res = await get("ten", { range });
        assertEquals(res.status, status, range);
        assertEquals(res.headers.get("content-range"), contentRange, range);
        assertEquals(await res.text(), body, range);
      }
      for (const range of ["bytes=10-", "bytes=100-200", "bytes=-0"]) {
        const res = await get("ten", { range });
        assertEquals(res.status, 416, range);
        assertEquals(await errorCode(res), "InvalidRange");
      }
      await put("empty", "");
      const emptyRange = await get("empty", { range: "bytes=0-" });
      assertEquals(emptyRange.status, 416);
      await emptyRange.body?.cancel();
      const empty = await get("empty");
      assertEquals(empty.status, 200);
      assertEquals(await empty.text(), "");
      // With checksum mode, a partial body carries no whole-object checksum (boto3 validates it).
      await put("ten-ck", ten, { "x-amz-checksum-crc32": hexToB64("a684c7c6") });
      const partial = await get("ten-ck", { range: "bytes=0-4", "x-amz-checksum-mode": "ENABLED" });
      assertEquals(partial.status, 206);
      assertEquals(partial.headers.get("x-amz-checksum-crc32"), null);
      assertEquals(await partial.text(), "01234");
      const whole = await get("ten-ck", { range: "bytes=0-", "x-amz-checksum-mode": "ENABLED" });
      assertEquals(whole.headers.get("x-amz-checksum-crc32"), hexToB64("a684c7c6"));
      await whole.body?.cancel();
      const sdkRange = await s3.send(
        new GetObjectCommand({
          Bucket: B,
          Key: "ten-ck",
          Range: "bytes=3-5",
          ChecksumMode: "ENABLED",
        }),
      );
      assertEquals(new TextDecoder().decode(await bodyBytes(sdkRange.Body)), "345");
      const sdk = await s3.send(
        new GetObjectCommand({ Bucket: B, Key: "ten", Range: "bytes=2-3" }),
      );
      assertEquals(new TextDecoder().decode(await bodyBytes(sdk.Body)), "23");
      assertEquals(sdk.ContentRange, "bytes 2-3/10");
    });

    await t.step("conditional GET and HEAD with AWS precedence", async () => {
      const etag = `"${md5hex(ten)}"`;
      const past = new Date(Date.now() - 86400_000).toUTCString();
      const future = new Date(Date.now() + 86400_000).toUTCString();
      const cases: [Record<string, string>, number][] = [
        [{ "if-match": etag }, 200],
        [{ "if-match": '"0000"' }, 412],
        [{ "if-match": "*" }, 200],
        [{ "if-none-match": etag }, 304],
        [{ "if-none-match": '"0000"' }, 200],
        [{ "if-modified-since": past }, 200],
        [{ "if-modified-since": future }, 304],
        [{ "if-unmodified-since": future }, 200],
        [{ "if-unmodified-since": past }, 412],
        // If-Match true decides over If-Unmodified-Since false.
        [{ "if-match": etag, "if-unmodified-since": past }, 200],
        // If-None-Match false decides over If-Modified-Since true.
        [{ "if-none-match": etag, "if-modified-since": past }, 304],
        // If-None-Match true wins over If-Modified-Since false.
        [{ "if-none-match": '"0000"', "if-modified-since": future }, 200],
        [{ "if-match": '"0000"', "if-none-match": etag }, 412],
        [{ "if-modified-since": "not a date" }, 200],
      ];
      for (const [headers, status] of cases) {
        const g = await get("ten", headers);
        assertEquals(g.status, status, JSON.stringify(headers));
        const text = await g.text();
        if (status === 304) {
          assertEquals(text, "");
          assertEquals(g.headers.get("etag"), etag);
        }
        if (status === 412) assert(text.includes("<Code>PreconditionFailed</Code>"));
        const h = await head("ten", headers);
        assertEquals(h.status, status, "HEAD " + JSON.stringify(headers));
        assertEquals(await h.text(), "");
      }
    });

    await t.step("conditional PUT: If-None-Match * and If-Match", async () => {
      const fresh = await put("cond-put", "one", { "if-none-match": "*" });
      assertEquals(fresh.status, 200);
      const again = await put("cond-put", "two", { "if-none-match": "*" });
      assertEquals(again.status, 412);
      assertEquals(await errorCode(again), "PreconditionFailed");
      const wrong = await put("cond-put", "two", { "if-match": '"0000"' });
      assertEquals(wrong.status, 412);
      await wrong.body?.cancel();
      const right = await put("cond-put", "three", { "if-match": `"${md5hex("one")}"` });
      assertEquals(right.status, 200);
      const missing = await put("cond-missing", "x", { "if-match": `"${md5hex("x")}"` });
      assertEquals(missing.status, 404);
      assertEquals(await errorCode(missing), "NoSuchKey");
      assertEquals(await (await get("cond-put")).text(), "three");
      await assertS3Error(
        () =>
          s3.send(
            new PutObjectCommand({ Bucket: B, Key: "cond-put", Body: "4", IfNoneMatch: "*" }),
          ),
        "PreconditionFailed",
        412,
      );
    });

    await t.step("response-* query parameters override the stored headers", async () => {
      const got = await s3.send(
        new GetObjectCommand({
          Bucket: B,
          Key: "headers.bin",
          ResponseContentType: "text/csv",
          ResponseContentDisposition: "inline",
          ResponseCacheControl: "no-store",
          ResponseContentLanguage: "fr",
          ResponseContentEncoding: "gzip",
          ResponseExpires: new Date("2031-01-01T00:00:00Z"),
        }),
      );
      assertEquals(got.ContentType, "text/csv");
      assertEquals(got.ContentDisposition, "inline");
      assertEquals(got.CacheControl, "no-store");
      assertEquals(got.ContentLanguage, "fr");
      assertEquals(got.ContentEncoding, "gzip");
      assertEquals(got.Expires?.toISOString(), "2031-01-01T00:00:00.000Z");
      await bodyBytes(got.Body);
      // Non-ASCII override values travel as their UTF-8 bytes; line breaks are refused.
      const disposition = "attachment; filename*=UTF-8''日本.txt; name=\"ü\"";
      const utf8 = await get("headers.bin", {}, { "response-content-disposition": disposition });
      assertEquals(utf8.status, 200);
      const raw = utf8.headers.get("content-disposition")!;
      assertEquals(
        new TextDecoder().decode(Uint8Array.from(raw, (c) => c.charCodeAt(0))),
        disposition,
      );
      await utf8.body?.cancel();
      const crlf = await get("headers.bin", {}, { "response-content-type": "a\r\nx-evil: 1" });
      assertEquals(crlf.status, 400);
      assertEquals(await errorCode(crlf), "InvalidArgument");
      const stored = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "headers.bin" }));
      assertEquals(stored.ContentType, "application/x-test");
    });

    await t.step("keys: 1024 bytes of any UTF-8, 1025 is KeyTooLongError", async () => {
      const keys = [
        "a//b///c",
        "../up/../../x",
        "./dot/./seg",
        "with space and+plus",
        "percent%20literal%2F%",
        "ünïcødé/日本語/😀",
        "trailing/",
        "q?mark#hash&amp=1",
        "é".repeat(512),
        "k".repeat(1024),
      ];
      for (const [i, key] of keys.entries()) {
        const data = enc.encode(`value ${i}`);
        await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: data }));
        const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
        assertEquals(await bodyBytes(got.Body), data, key);
      }
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: B }));
      const names = new Set(listed.Contents?.map((c) => c.Key));
      for (const key of keys) assert(names.has(key), `listed ${key}`);
      await assertS3Error(
        () => s3.send(new PutObjectCommand({ Bucket: B, Key: "k".repeat(1025), Body: "x" })),
        "KeyTooLongError",
        400,
      );
      await assertS3Error(
        () => s3.send(new PutObjectCommand({ Bucket: B, Key: "é".repeat(513), Body: "x" })),
        "KeyTooLongError",
        400,
      );
    });

    await t.step("an unanswered Expect: 100-continue asks the client to close", async () => {
      // botocore reuses the early status of such a response for the next request on the
      // connection and hangs (empty upload_file followed by another upload).
      const empty = await put("expect-empty", new Uint8Array(0), { expect: "100-continue" });
      assertEquals(empty.status, 200);
      assertEquals(empty.headers.get("connection"), "close");
      await empty.body?.cancel();
      const early = await signedFetch(srv, {
        method: "PUT",
        path: "/no-such-bucket/k",
        body: new Uint8Array(10),
        headers: { expect: "100-continue" },
      });
      assertEquals(early.status, 404);
      assertEquals(early.headers.get("connection"), "close");
      await early.body?.cancel();
      const plain = await put("expect-none", new Uint8Array(0));
      assertEquals(plain.headers.get("connection"), null);
      await plain.body?.cancel();
    });

    await t.step("DeleteObject is idempotent (204 twice)", async () => {
      await put("del-me", "x");
      for (let i = 0; i < 2; i++) {
        const res = await signedFetch(srv, { method: "DELETE", path: `/${B}/del-me` });
        assertEquals(res.status, 204);
        assertEquals(await res.text(), "");
      }
      await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "never-existed" }));
      assertEquals((await head("del-me")).status, 404);
    });

    await t.step("GetObjectAttributes", async () => {
      const res = await s3.send(
        new PutObjectCommand({
          Bucket: B,
          Key: "attrs",
          Body: "123456789",
          ChecksumAlgorithm: ChecksumAlgorithm.CRC32C,
          StorageClass: "STANDARD_IA",
        }),
      );
      const a = await s3.send(
        new GetObjectAttributesCommand({
          Bucket: B,
          Key: "attrs",
          ObjectAttributes: [
            ObjectAttributes.ETAG,
            ObjectAttributes.CHECKSUM,
            ObjectAttributes.OBJECT_PARTS,
            ObjectAttributes.STORAGE_CLASS,
            ObjectAttributes.OBJECT_SIZE,
          ],
        }),
      );
      assertEquals(a.ETag, res.ETag!.replaceAll('"', ""));
      assertEquals(a.ObjectSize, 9);
      assertEquals(a.StorageClass, "STANDARD_IA");
      assertEquals(a.Checksum?.ChecksumCRC32C, hexToB64("e3069283"));
      assertEquals(a.Checksum?.ChecksumType, "FULL_OBJECT");
      assertEquals(a.ObjectParts, undefined);
      assert(a.LastModified instanceof Date);
      const some = await s3.send(
        new GetObjectAttributesCommand({
          Bucket: B,
          Key: "attrs",
          ObjectAttributes: [ObjectAttributes.OBJECT_SIZE],
        }),
      );
      assertEquals(some.ObjectSize, 9);
      assertEquals(some.ETag, undefined);
      // A multipart object lists its parts, paged by x-amz-max-parts / part-number-marker.
      const up = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: B,
          Key: "mp-attrs",
          ChecksumAlgorithm: ChecksumAlgorithm.CRC32,
        }),
      );
      const sizes = [5 * 1024 * 1024, 5 * 1024 * 1024, 1000];
      const parts = [];
      for (const [i, size] of sizes.entries()) {
        const p = await s3.send(
          new UploadPartCommand({
            Bucket: B,
            Key: "mp-attrs",
            UploadId: up.UploadId,
            PartNumber: i + 1,
            Body: randomBytes(size, i + 1),
            ChecksumAlgorithm: ChecksumAlgorithm.CRC32,
          }),
        );
        parts.push({ PartNumber: i + 1, ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32 });
      }
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: B,
          Key: "mp-attrs",
          UploadId: up.UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      const mp = await s3.send(
        new GetObjectAttributesCommand({
          Bucket: B,
          Key: "mp-attrs",
          ObjectAttributes: [ObjectAttributes.OBJECT_PARTS, ObjectAttributes.OBJECT_SIZE],
          MaxParts: 2,
        }),
      );
      assertEquals(mp.ObjectSize, sizes[0] + sizes[1] + sizes[2]);
      assertEquals(mp.ObjectParts?.TotalPartsCount, 3);
      assertEquals(mp.ObjectParts?.IsTruncated, true);
      assertEquals(mp.ObjectParts?.NextPartNumberMarker, "2");
      assertEquals(mp.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size]), [
        [1, sizes[0]],
        [2, sizes[1]],
      ]);
      assertEquals(mp.ObjectParts?.Parts?.[0].ChecksumCRC32, parts[0].ChecksumCRC32);
      const rest = await s3.send(
        new GetObjectAttributesCommand({
          Bucket: B,
          Key: "mp-attrs",
          ObjectAttributes: [ObjectAttributes.OBJECT_PARTS],
          PartNumberMarker: "2",
        }),
      );
      assertEquals(rest.ObjectParts?.IsTruncated, false);
      assertEquals(rest.ObjectParts?.Parts?.map((p) => p.PartNumber), [3]);
      const bad = await get("attrs", { "x-amz-object-attributes": "ETag,Colour" }, {
        attributes: "",
      });
      assertEquals(bad.status, 400);
      assertEquals(await errorCode(bad), "InvalidArgument");
      await assertS3Error(
        () =>
          s3.send(
            new GetObjectAttributesCommand({
              Bucket: B,
              Key: "missing",
              ObjectAttributes: [ObjectAttributes.ETAG],
            }),
          ),
        "NoSuchKey",
        404,
      );
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
