/** CopyObject end to end: directives, copy onto itself, source conditions, encoding, buckets. */
import { createHash } from "node:crypto";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { bodyBytes, randomBytes, startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";

const SRC = "copy-src";
const DST = "copy-dst";
const md5hex = (d: Uint8Array | string) => createHash("md5").update(d).digest("hex");

Deno.test("S3 CopyObject", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  const data = randomBytes(300_000, 11);
  const copy = (headers: Record<string, string>, dest = `/${DST}/out`) =>
    signedFetch(srv, { method: "PUT", path: dest, headers });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: SRC }));
    await s3.send(new CreateBucketCommand({ Bucket: DST }));
    const src = await s3.send(
      new PutObjectCommand({
        Bucket: SRC,
        Key: "dir/source file+%.bin",
        Body: data,
        ContentType: "application/x-src",
        CacheControl: "max-age=1",
        Metadata: { origin: "src" },
        Tagging: "a=1&b=2",
      }),
    );
    const srcKey = "dir/source file+%.bin";

    await t.step("cross-bucket copy keeps bytes, metadata and tags (COPY directives)", async () => {
      const res = await s3.send(
        new CopyObjectCommand({
          Bucket: DST,
          Key: "copied",
          CopySource: `${SRC}/${encodeURIComponent(srcKey)}`,
          ContentType: "ignored/by-copy",
          Metadata: { ignored: "yes" },
        }),
      );
      assertEquals(res.CopyObjectResult?.ETag, src.ETag);
      assertEquals(res.CopyObjectResult?.ETag, `"${md5hex(data)}"`);
      assert(res.CopyObjectResult?.LastModified instanceof Date);
      const got = await s3.send(new GetObjectCommand({ Bucket: DST, Key: "copied" }));
      assertEquals(await bodyBytes(got.Body), data);
      assertEquals(got.ContentType, "application/x-src");
      assertEquals(got.CacheControl, "max-age=1");
      assertEquals(got.Metadata, { origin: "src" });
      assertEquals(got.TagCount, 2);
    });

    await t.step("copy source with a leading slash and a ?versionId=null suffix", async () => {
      const res = await copy({
        "x-amz-copy-source": `/${SRC}/${encodeURIComponent(srcKey)}?versionId=null`,
      });
      assertEquals(res.status, 200);
      const xml = await res.text();
      assert(xml.includes("<CopyObjectResult"), xml);
      assert(xml.includes(`<ETag>&quot;${md5hex(data)}&quot;</ETag>`), xml);
      assert(/<LastModified>\d{4}-\d\d-\d\dT[\d:.]+Z<\/LastModified>/.test(xml), xml);
      assertEquals(res.headers.get("etag"), null);
      // Which error an unknown version id gives is the versioning tests' business; it must fail.
      const bad = await copy({
        "x-amz-copy-source": `/${SRC}/${encodeURIComponent(srcKey)}?versionId=nope`,
      }, `/${DST}/never-written`);
      assert(bad.status === 400 || bad.status === 404, String(bad.status));
      await bad.body?.cancel();
      assertEquals(
        (await signedFetch(srv, { method: "HEAD", path: `/${DST}/never-written` })).status,
        404,
      );
    });

    await t.step("REPLACE directives take metadata and tags from the request", async () => {
      await s3.send(
        new CopyObjectCommand({
          Bucket: DST,
          Key: "replaced",
          CopySource: `${SRC}/${encodeURIComponent(srcKey)}`,
          MetadataDirective: "REPLACE",
          ContentType: "text/x-new",
          Metadata: { fresh: "1" },
          TaggingDirective: "REPLACE",
          Tagging: "c=3",
        }),
      );
      const h = await s3.send(new HeadObjectCommand({ Bucket: DST, Key: "replaced" }));
      assertEquals(h.ContentType, "text/x-new");
      assertEquals(h.CacheControl, undefined);
      assertEquals(h.Metadata, { fresh: "1" });
      assertEquals(h.ContentLength, data.length);
      const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: DST, Key: "replaced" }))
        .catch(() => null);
      // Tag reads belong to the tagging family; check them only when it is available.
      if (tags) assertEquals(tags.TagSet, [{ Key: "c", Value: "3" }]);
    });

    await t.step("invalid directives are InvalidArgument", async () => {
      for (const name of ["x-amz-metadata-directive", "x-amz-tagging-directive"]) {
        const res = await copy({
          "x-amz-copy-source": `${SRC}/${encodeURIComponent(srcKey)}`,
          [name]: "MERGE",
        });
        assertEquals(res.status, 400, name);
        assertEquals(await errorCode(res), "InvalidArgument");
      }
    });

    await t.step("copy onto itself needs a change; with REPLACE it works", async () => {
      await s3.send(new PutObjectCommand({ Bucket: SRC, Key: "self", Body: "self data" }));
      await assertS3Error(
        () =>
          s3.send(new CopyObjectCommand({ Bucket: SRC, Key: "self", CopySource: `${SRC}/self` })),
        "InvalidRequest",
        400,
      );
      await s3.send(
        new CopyObjectCommand({
          Bucket: SRC,
          Key: "self",
          CopySource: `${SRC}/self`,
          MetadataDirective: "REPLACE",
          ContentType: "text/plain",
          Metadata: { rev: "2" },
        }),
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: SRC, Key: "self" }));
      assertEquals(new TextDecoder().decode(await bodyBytes(got.Body)), "self data");
      assertEquals(got.Metadata, { rev: "2" });
      assertEquals(got.ContentType, "text/plain");
      // A different storage class is also a change.
      await s3.send(
        new CopyObjectCommand({
          Bucket: SRC,
          Key: "self",
          CopySource: `${SRC}/self`,
          StorageClass: "STANDARD_IA",
        }),
      );
      const h = await s3.send(new HeadObjectCommand({ Bucket: SRC, Key: "self" }));
      assertEquals(h.StorageClass, "STANDARD_IA");
      assertEquals(h.Metadata, { rev: "2" });
    });

    await t.step("a named older version copied onto its own key restores it", async () => {
      const B = "copy-restore";
      await s3.send(new CreateBucketCommand({ Bucket: B }));
      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: B,
          VersioningConfiguration: { Status: "Enabled" },
        }),
      );
      const v1 = await s3.send(new PutObjectCommand({ Bucket: B, Key: "k", Body: "one" }));
      await s3.send(new PutObjectCommand({ Bucket: B, Key: "k", Body: "two" }));
      const r = await s3.send(
        new CopyObjectCommand({
          Bucket: B,
          Key: "k",
          CopySource: `${B}/k?versionId=${v1.VersionId}`,
        }),
      );
      assertEquals(r.CopySourceVersionId, v1.VersionId);
      const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: "k" }));
      assertEquals(new TextDecoder().decode(await bodyBytes(got.Body)), "one");
      assertEquals(got.VersionId, r.VersionId);
      // Without a version id it is still a copy of the current object onto itself.
      await assertS3Error(
        () => s3.send(new CopyObjectCommand({ Bucket: B, Key: "k", CopySource: `${B}/k` })),
        "InvalidRequest",
        400,
      );
    });

    await t.step("x-amz-copy-source-if-* with AWS precedence (412 on failure)", async () => {
      const etag = src.ETag!;
      const past = new Date(Date.now() - 86400_000).toUTCString();
      const future = new Date(Date.now() + 86400_000).toUTCString();
      const p = "x-amz-copy-source-";
      const cases: [Record<string, string>, number][] = [
        [{ [`${p}if-match`]: etag }, 200],
        [{ [`${p}if-match`]: '"0000"' }, 412],
        [{ [`${p}if-none-match`]: etag }, 412],
        [{ [`${p}if-none-match`]: '"0000"' }, 200],
        [{ [`${p}if-modified-since`]: past }, 200],
        [{ [`${p}if-modified-since`]: future }, 412],
        [{ [`${p}if-unmodified-since`]: future }, 200],
        [{ [`${p}if-unmodified-since`]: past }, 412],
        // If-Match true and If-Unmodified-Since false: the copy happens.
        [{ [`${p}if-match`]: etag, [`${p}if-unmodified-since`]: past }, 200],
        // If-None-Match false and If-Modified-Since true: 412.
        [{ [`${p}if-none-match`]: etag, [`${p}if-modified-since`]: past }, 412],
      ];
      for (const [headers, status] of cases) {
        const res = await copy({
          "x-amz-copy-source": `${SRC}/${encodeURIComponent(srcKey)}`,
          ...headers,
        }, `/${DST}/conditional`);
        assertEquals(res.status, status, JSON.stringify(headers));
        const text = await res.text();
        if (status === 412) assert(text.includes("<Code>PreconditionFailed</Code>"), text);
      }
    });

    await t.step("If-None-Match: * guards the destination of a copy", async () => {
      const source = `${SRC}/${encodeURIComponent(srcKey)}`;
      const first = await copy(
        { "x-amz-copy-source": source, "if-none-match": "*" },
        `/${DST}/once`,
      );
      assertEquals(first.status, 200);
      await first.body?.cancel();
      const second = await copy(
        { "x-amz-copy-source": source, "if-none-match": "*" },
        `/${DST}/once`,
      );
      assertEquals(second.status, 412);
      assertEquals(await errorCode(second), "PreconditionFailed");
    });

    await t.step("missing source, missing bucket and malformed copy source", async () => {
      const noKey = await copy({ "x-amz-copy-source": `${SRC}/missing` });
      assertEquals(noKey.status, 404);
      assertEquals(await errorCode(noKey), "NoSuchKey");
      const noBucket = await copy({ "x-amz-copy-source": `no-such-bucket/x` });
      assertEquals(noBucket.status, 404);
      assertEquals(await errorCode(noBucket), "NoSuchBucket");
      for (const bad of [SRC, `/${SRC}/`, "/", "%zz/x"]) {
        const res = await copy({ "x-amz-copy-source": bad });
        assertEquals(res.status, 400, bad);
        assertEquals(await errorCode(res), "InvalidArgument");
      }
      await assertS3Error(
        () =>
          s3.send(
            new CopyObjectCommand({ Bucket: DST, Key: "x", CopySource: `${SRC}/missing` }),
          ),
        "NoSuchKey",
        404,
      );
    });

    await t.step("checksums are carried over and reported in CopyObjectResult", async () => {
      const body = new TextEncoder().encode("123456789");
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: SRC,
          Key: "ck",
          Body: body,
          ChecksumAlgorithm: ChecksumAlgorithm.CRC32C,
        }),
      );
      const res = await s3.send(
        new CopyObjectCommand({ Bucket: DST, Key: "ck", CopySource: `${SRC}/ck` }),
      );
      assertEquals(res.CopyObjectResult?.ChecksumCRC32C, put.ChecksumCRC32C);
      const sha = await s3.send(
        new CopyObjectCommand({
          Bucket: DST,
          Key: "ck-sha",
          CopySource: `${SRC}/ck`,
          ChecksumAlgorithm: ChecksumAlgorithm.SHA256,
        }),
      );
      assertEquals(
        sha.CopyObjectResult?.ChecksumSHA256,
        createHash("sha256").update(body).digest("base64"),
      );
      const h = await s3.send(
        new HeadObjectCommand({ Bucket: DST, Key: "ck-sha", ChecksumMode: "ENABLED" }),
      );
      assertEquals(h.ChecksumSHA256, sha.CopyObjectResult?.ChecksumSHA256);
    });

    await t.step("a multipart source becomes a single-part copy with an MD5 ETag", async () => {
      const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: SRC, Key: "mp" }));
      const chunks = [randomBytes(5 * 1024 * 1024, 21), randomBytes(1234, 22)];
      const parts = [];
      for (const [i, body] of chunks.entries()) {
        const p = await s3.send(
          new UploadPartCommand({
            Bucket: SRC,
            Key: "mp",
            UploadId: up.UploadId,
            PartNumber: i + 1,
            Body: body,
          }),
        );
        parts.push({ PartNumber: i + 1, ETag: p.ETag });
      }
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: SRC,
          Key: "mp",
          UploadId: up.UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      assert(done.ETag?.endsWith('-2"'), done.ETag);
      // The part count is only reported for ?partNumber= reads, as AWS does.
      const plainHead = await s3.send(new HeadObjectCommand({ Bucket: SRC, Key: "mp" }));
      assertEquals(plainHead.PartsCount, undefined);
      const partHead = await s3.send(
        new HeadObjectCommand({ Bucket: SRC, Key: "mp", PartNumber: 1 }),
      );
      assertEquals(partHead.PartsCount, 2);
      const whole = new Uint8Array(chunks[0].length + chunks[1].length);
      whole.set(chunks[0]);
      whole.set(chunks[1], chunks[0].length);
      const res = await s3.send(
        new CopyObjectCommand({ Bucket: DST, Key: "mp-copy", CopySource: `${SRC}/mp` }),
      );
      assertEquals(res.CopyObjectResult?.ETag, `"${md5hex(whole)}"`);
      const got = await s3.send(new GetObjectCommand({ Bucket: DST, Key: "mp-copy" }));
      assertEquals(await bodyBytes(got.Body), whole);
      assertEquals(got.PartsCount, undefined);
    });

    await t.step("copying an empty object and a destination key that is too long", async () => {
      await s3.send(new PutObjectCommand({ Bucket: SRC, Key: "empty", Body: new Uint8Array() }));
      await s3.send(
        new CopyObjectCommand({ Bucket: DST, Key: "empty", CopySource: `${SRC}/empty` }),
      );
      const h = await s3.send(new HeadObjectCommand({ Bucket: DST, Key: "empty" }));
      assertEquals(h.ContentLength, 0);
      assertEquals(h.ETag, `"${md5hex("")}"`);
      await assertS3Error(
        () =>
          s3.send(
            new CopyObjectCommand({
              Bucket: DST,
              Key: "k".repeat(1025),
              CopySource: `${SRC}/empty`,
            }),
          ),
        "KeyTooLongError",
        400,
      );
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
