/**
 * Inline small objects (bytes in KV as ["blobd", id]) end to end:
 * - inline bodies through every deletion path, then the stopped server's KV must hold exactly
 *   one ["blobd", id] per inline version record and none without one;
 * - ranges, partNumber, conditional GETs, CopyObject / UploadPartCopy from inline sources;
 * - failed inline writes leave the stored object alone.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  PutObjectTaggingCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { randomBytes, startServer } from "./_helpers/server.ts";
import { get, md5, put, setVersioning } from "./_helpers/objects.ts";
import { checkInlineOwnership } from "./_helpers/inline.ts";
import { INLINE_MAX } from "../server/storage/objects/objects.ts";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";

Deno.test("inline objects: every deletion path drops their bytes, reads return the right bytes", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  let stopped = false;
  try {
    await t.step(
      "unversioned: overwrites between inline and file sizes, delete, DeleteObjects",
      async () => {
        await s3.send(new CreateBucketCommand({ Bucket: "rv-un" }));
        for (const [i, n] of [100, 200, INLINE_MAX + 1, 10, INLINE_MAX, 0, 30_000, 7].entries()) {
          const body = randomBytes(n, i + 1);
          await put(s3, "rv-un", "k", body);
          const g = await get(s3, "rv-un", "k");
          assertEquals([g.bytes, g.etag], [body, md5(body)]);
        }
        await s3.send(new DeleteObjectCommand({ Bucket: "rv-un", Key: "k" }));
        await assertS3Error(() => get(s3, "rv-un", "k"), "NoSuchKey", 404);
        for (let i = 0; i < 5; i++) await put(s3, "rv-un", `batch/${i}`, randomBytes(50 + i, 9));
        const r = await s3.send(
          new DeleteObjectsCommand({
            Bucket: "rv-un",
            Delete: { Objects: [0, 1, 2, 3, 9].map((i) => ({ Key: `batch/${i}` })) },
          }),
        );
        assertEquals(r.Errors ?? [], []);
        const l = await s3.send(new ListObjectsV2Command({ Bucket: "rv-un" }));
        assertEquals((l.Contents ?? []).map((o) => o.Key), ["batch/4"]);
        await put(s3, "rv-un", "kept", randomBytes(333, 3));
      },
    );

    await t.step("versioned: delete markers, then each version removed by id", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "rv-ver" }));
      await setVersioning(s3, "rv-ver", "Enabled");
      const ids: string[] = [];
      const bodies = [randomBytes(10, 1), randomBytes(INLINE_MAX, 2), randomBytes(20_000, 3)];
      for (const b of bodies) ids.push((await put(s3, "rv-ver", "v", b)).VersionId!);
      const marker = await s3.send(new DeleteObjectCommand({ Bucket: "rv-ver", Key: "v" }));
      assert(marker.DeleteMarker);
      await assertS3Error(() => get(s3, "rv-ver", "v"), "NoSuchKey", 404);
      for (const [i, id] of ids.entries()) {
        assertEquals((await get(s3, "rv-ver", "v", { VersionId: id })).bytes, bodies[i]);
      }
      // Remove the marker: the newest version is the latest again.
      await s3.send(
        new DeleteObjectCommand({ Bucket: "rv-ver", Key: "v", VersionId: marker.VersionId }),
      );
      assertEquals((await get(s3, "rv-ver", "v")).bytes, bodies[2]);
      // Remove versions newest first: the previous one becomes the latest each time.
      for (let i = 2; i >= 0; i--) {
        await s3.send(new DeleteObjectCommand({ Bucket: "rv-ver", Key: "v", VersionId: ids[i] }));
        await assertS3Error(() => get(s3, "rv-ver", "v", { VersionId: ids[i] }), "NoSuchVersion");
        if (i > 0) assertEquals((await get(s3, "rv-ver", "v")).bytes, bodies[i - 1]);
        else await assertS3Error(() => get(s3, "rv-ver", "v"), "NoSuchKey", 404);
        const l = await s3.send(new ListObjectsV2Command({ Bucket: "rv-ver" }));
        assertEquals(
          (l.Contents ?? []).map((o) => [o.Key, o.ETag]),
          i > 0 ? [["v", md5(bodies[i - 1])]] : [],
        );
      }
      // A noncurrent inline version removed while a newer one stays.
      const a = await put(s3, "rv-ver", "w", randomBytes(40, 4));
      await put(s3, "rv-ver", "w", randomBytes(41, 5));
      await s3.send(
        new DeleteObjectCommand({ Bucket: "rv-ver", Key: "w", VersionId: a.VersionId }),
      );
      assertEquals((await get(s3, "rv-ver", "w")).bytes, randomBytes(41, 5));
      // DeleteObjects with version ids.
      const x1 = await put(s3, "rv-ver", "x", randomBytes(60, 6));
      const x2 = await put(s3, "rv-ver", "x", randomBytes(61, 7));
      const r = await s3.send(
        new DeleteObjectsCommand({
          Bucket: "rv-ver",
          Delete: {
            Objects: [{ Key: "x", VersionId: x1.VersionId }, { Key: "x", VersionId: x2.VersionId }],
          },
        }),
      );
      assertEquals(r.Errors ?? [], []);
      await assertS3Error(() => get(s3, "rv-ver", "x"), "NoSuchKey", 404);
    });

    await t.step(
      "suspended: the null version replaced by a PUT and by a null delete marker",
      async () => {
        await s3.send(new CreateBucketCommand({ Bucket: "rv-sus" }));
        await put(s3, "rv-sus", "n", randomBytes(70, 1)); // null version, while Unversioned
        await setVersioning(s3, "rv-sus", "Enabled");
        const v1 = await put(s3, "rv-sus", "n", randomBytes(71, 2));
        await setVersioning(s3, "rv-sus", "Suspended");
        await put(s3, "rv-sus", "n", randomBytes(72, 3)); // replaces the first null version
        assertEquals(
          (await get(s3, "rv-sus", "n", { VersionId: "null" })).bytes,
          randomBytes(72, 3),
        );
        await put(s3, "rv-sus", "n", randomBytes(73, 4)); // replaces it again
        assertEquals((await get(s3, "rv-sus", "n")).bytes, randomBytes(73, 4));
        await s3.send(new DeleteObjectCommand({ Bucket: "rv-sus", Key: "n" })); // null marker
        await assertS3Error(() => get(s3, "rv-sus", "n"), "NoSuchKey", 404);
        assertEquals(
          (await get(s3, "rv-sus", "n", { VersionId: v1.VersionId })).bytes,
          randomBytes(71, 2),
        );
        await put(s3, "rv-sus", "n", randomBytes(74, 5)); // replaces the null marker
        assertEquals((await get(s3, "rv-sus", "n")).bytes, randomBytes(74, 5));
        // Permanent delete of the null version: the Enabled-era version is the latest again.
        await s3.send(new DeleteObjectCommand({ Bucket: "rv-sus", Key: "n", VersionId: "null" }));
        assertEquals((await get(s3, "rv-sus", "n")).bytes, randomBytes(71, 2));
        const l = await s3.send(new ListObjectsV2Command({ Bucket: "rv-sus" }));
        assertEquals((l.Contents ?? []).map((o) => [o.Key, o.Size]), [["n", 71]]);
      },
    );

    await t.step(
      "object lock (governance): refused without bypass, bytes dropped with it",
      async () => {
        await s3.send(
          new CreateBucketCommand({ Bucket: "rv-lock", ObjectLockEnabledForBucket: true }),
        );
        const until = new Date(Date.now() + 3600_000);
        const r = await s3.send(
          new PutObjectCommand({
            Bucket: "rv-lock",
            Key: "g",
            Body: randomBytes(90, 1),
            ObjectLockMode: "GOVERNANCE",
            ObjectLockRetainUntilDate: until,
          }),
        );
        await assertS3Error(
          () =>
            s3.send(
              new DeleteObjectCommand({ Bucket: "rv-lock", Key: "g", VersionId: r.VersionId }),
            ),
          "AccessDenied",
          403,
        );
        assertEquals(
          (await get(s3, "rv-lock", "g", { VersionId: r.VersionId })).bytes,
          randomBytes(90, 1),
        );
        await s3.send(
          new DeleteObjectCommand({
            Bucket: "rv-lock",
            Key: "g",
            VersionId: r.VersionId,
            BypassGovernanceRetention: true,
          }),
        );
        await assertS3Error(
          () => get(s3, "rv-lock", "g", { VersionId: r.VersionId }),
          "NoSuchVersion",
        );
      },
    );

    await t.step("reads of inline objects: ranges, partNumber, conditionals, tags", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "rv-rd" }));
      const body = randomBytes(INLINE_MAX, 77);
      const p = await put(s3, "rv-rd", "o", body);
      for (
        const [range, from, to] of [["bytes=0-0", 0, 1], ["bytes=100-", 100, INLINE_MAX], [
          "bytes=-10",
          INLINE_MAX - 10,
          INLINE_MAX,
        ], ["bytes=16000-99999", 16000, INLINE_MAX]] as const
      ) {
        const g = await get(s3, "rv-rd", "o", { Range: range });
        assertEquals(g.bytes, body.subarray(from, to), range);
        assertEquals(g.r.ContentRange, `bytes ${from}-${to - 1}/${INLINE_MAX}`);
      }
      await assertS3Error(
        () => get(s3, "rv-rd", "o", { Range: `bytes=${INLINE_MAX}-` }),
        "InvalidRange",
        416,
      );
      const part = await get(s3, "rv-rd", "o", { PartNumber: 1 });
      assertEquals(part.bytes, body);
      await assertS3Error(() => get(s3, "rv-rd", "o", { PartNumber: 2 }), "InvalidPartNumber", 416);
      assertEquals((await get(s3, "rv-rd", "o", { IfMatch: p.ETag })).bytes, body);
      await assertS3Error(
        () => get(s3, "rv-rd", "o", { IfMatch: '"0123"' }),
        "PreconditionFailed",
        412,
      );
      const nm = await assertRejectsStatus(() => get(s3, "rv-rd", "o", { IfNoneMatch: p.ETag }));
      assertEquals(nm, 304);
      // Tagging rewrites the record in place (updateVersion): bytes and listing stay.
      await s3.send(
        new PutObjectTaggingCommand({
          Bucket: "rv-rd",
          Key: "o",
          Tagging: { TagSet: [{ Key: "a", Value: "b" }] },
        }),
      );
      const g = await get(s3, "rv-rd", "o");
      assertEquals([g.bytes, g.r.TagCount], [body, 1]);
      const l = await s3.send(new ListObjectsV2Command({ Bucket: "rv-rd" }));
      assertEquals((l.Contents ?? []).map((o) => [o.Key, o.ETag, o.Size]), [[
        "o",
        p.ETag,
        INLINE_MAX,
      ]]);
      // Many reads of one cached buffer in parallel, ranges among them.
      const reads = await Promise.all(
        Array.from(
          { length: 16 },
          (_, i) => get(s3, "rv-rd", "o", i % 2 ? { Range: `bytes=${i}-${i + 99}` } : {}),
        ),
      );
      reads.forEach((r, i) => assertEquals(r.bytes, i % 2 ? body.subarray(i, i + 100) : body));
    });

    await t.step("CopyObject and UploadPartCopy from inline sources", async () => {
      const small = randomBytes(1000, 5);
      await put(s3, "rv-rd", "src", small);
      const copy = (Key: string, extra: Record<string, unknown> = {}) =>
        s3.send(new CopyObjectCommand({ Bucket: "rv-rd", Key, CopySource: "rv-rd/src", ...extra }));
      await copy("dst");
      assertEquals((await get(s3, "rv-rd", "dst")).bytes, small);
      // Onto itself with REPLACE metadata: same bytes, new metadata, old inline bytes dropped.
      await s3.send(
        new CopyObjectCommand({
          Bucket: "rv-rd",
          Key: "src",
          CopySource: "rv-rd/src",
          MetadataDirective: "REPLACE",
          Metadata: { m: "1" },
        }),
      );
      const self = await get(s3, "rv-rd", "src");
      assertEquals([self.bytes, self.r.Metadata], [small, { m: "1" }]);
      // A copy onto an inline destination from a file source and back.
      const big = randomBytes(INLINE_MAX + 5000, 6);
      await put(s3, "rv-rd", "big", big);
      await s3.send(
        new CopyObjectCommand({ Bucket: "rv-rd", Key: "dst", CopySource: "rv-rd/big" }),
      );
      assertEquals((await get(s3, "rv-rd", "dst")).bytes, big);
      await copy("dst");
      assertEquals((await get(s3, "rv-rd", "dst")).bytes, small);
      // Versioned source: an old inline version by id.
      const v1 = await put(s3, "rv-ver", "cs", randomBytes(500, 1));
      await put(s3, "rv-ver", "cs", randomBytes(501, 2));
      await s3.send(
        new CopyObjectCommand({
          Bucket: "rv-rd",
          Key: "fromv",
          CopySource: `rv-ver/cs?versionId=${v1.VersionId}`,
        }),
      );
      assertEquals((await get(s3, "rv-rd", "fromv")).bytes, randomBytes(500, 1));
      // UploadPartCopy: a range of an inline source as a part, then the whole source.
      const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: "rv-rd", Key: "mp" }));
      const last = await s3.send(
        new UploadPartCopyCommand({
          Bucket: "rv-rd",
          Key: "mp",
          UploadId: up.UploadId,
          PartNumber: 1,
          CopySource: "rv-rd/src",
          CopySourceRange: "bytes=10-509",
        }),
      );
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: "rv-rd",
          Key: "mp",
          UploadId: up.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: last.CopyPartResult!.ETag }] },
        }),
      );
      assertEquals((await get(s3, "rv-rd", "mp")).bytes, small.subarray(10, 510));
      // The multipart object overwritten by an inline PUT and the reverse.
      await put(s3, "rv-rd", "mp", randomBytes(12, 1));
      assertEquals((await get(s3, "rv-rd", "mp")).bytes, randomBytes(12, 1));
    });

    await t.step("failed inline writes leave the stored object and its bytes alone", async () => {
      const body = randomBytes(321, 8);
      const ok = await put(s3, "rv-rd", "f", body);
      const refused: [Partial<PutObjectCommandInput>, string, number][] = [
        [
          {
            Body: randomBytes(321, 9),
            ContentMD5: btoa(String.fromCharCode(...createHash("md5").update(body).digest())),
          },
          "BadDigest",
          400,
        ],
        [{ Body: randomBytes(5, 1), IfNoneMatch: "*" }, "PreconditionFailed", 412],
        [{ Body: randomBytes(5, 1), IfMatch: '"00"' }, "PreconditionFailed", 412],
      ];
      for (const [input, code, status] of refused) {
        await assertS3Error(
          () => s3.send(new PutObjectCommand({ Bucket: "rv-rd", Key: "f", ...input })),
          code,
          status,
        );
      }
      const g = await get(s3, "rv-rd", "f");
      assertEquals([g.bytes, g.etag], [body, ok.ETag]);
      // A conditional overwrite that passes, then the previous bytes are gone for good.
      const next = randomBytes(322, 10);
      await s3.send(
        new PutObjectCommand({ Bucket: "rv-rd", Key: "f", Body: next, IfMatch: ok.ETag }),
      );
      assertEquals((await get(s3, "rv-rd", "f")).bytes, next);
    });

    await t.step(
      "a streamed (aws-chunked) small body is stored inline with the right bytes",
      async () => {
        const body = randomBytes(9000, 12);
        const r = await s3.send(
          new PutObjectCommand({
            Bucket: "rv-rd",
            Key: "streamed",
            // Two pieces: the SDK sends aws-chunked with a trailing checksum.
            Body: Readable.from([body.subarray(0, 5000), body.subarray(5000)]),
            ContentLength: body.length,
            ChecksumAlgorithm: "CRC32",
          }),
        );
        assertEquals(r.ETag, md5(body));
        assertEquals((await get(s3, "rv-rd", "streamed")).bytes, body);
        assertEquals(
          (await get(s3, "rv-rd", "streamed", { Range: "bytes=8990-" })).bytes,
          body.subarray(8990),
        );
      },
    );

    await t.step("KV after stop: inline bytes and inline versions own each other", async () => {
      s3.destroy();
      await srv.stop({ keepData: true });
      stopped = true;
      const n = await checkInlineOwnership(srv.dataDir);
      assert(n >= 8, `expected inline objects to remain, found ${n}`);
    });
  } finally {
    s3.destroy();
    if (!stopped) await srv.stop({ keepData: true });
    await Deno.remove(srv.dataDir, { recursive: true }).catch(() => {});
  }
});

async function assertRejectsStatus(fn: () => Promise<unknown>): Promise<number | undefined> {
  try {
    await fn();
  } catch (e) {
    return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  }
  throw new Error("expected a failure");
}
