/**
 * Multipart uploads end to end with the AWS SDK's low-level calls: every rule of the issue
 * (ordering, unknown parts, small parts, ETags, checksums, listings, copy, abort, replace).
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { bodyBytes, randomBytes, startServer, type TestServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";
import { digestOf, newChecksumHasher, toBase64 } from "../server/storage/objects/hashing.ts";

const MiB = 1024 * 1024;
const BUCKET = "mp-sdk";

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest();
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};
const expectedEtag = (parts: Uint8Array[]) =>
  `"${createHash("md5").update(concat(parts.map(md5))).digest("hex")}-${parts.length}"`;

/** Blob files of the server (what is on disk), optionally only those of one upload. */
async function blobFiles(srv: TestServer, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const d of Deno.readDir(`${srv.dataDir}/objects`)) {
    if (!d.isDirectory) continue;
    for await (const f of Deno.readDir(`${srv.dataDir}/objects/${d.name}`)) {
      if (f.name.startsWith(prefix)) out.push(f.name);
    }
  }
  return out.sort();
}

async function upload(
  s3: S3Client,
  key: string,
  parts: Uint8Array[],
  extra: { uploadId?: string; checksum?: "CRC64NVME" } = {},
): Promise<{ uploadId: string; etags: string[] }> {
  const uploadId = extra.uploadId ??
    (await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))).UploadId!;
  const etags: string[] = [];
  for (const [i, body] of parts.entries()) {
    const r = await s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        PartNumber: i + 1,
        Body: body,
        ChecksumAlgorithm: extra.checksum,
      }),
    );
    etags.push(r.ETag!);
  }
  return { uploadId, etags };
}

const completeParts = (etags: string[]) => etags.map((ETag, i) => ({ PartNumber: i + 1, ETag }));

Deno.test("multipart uploads through the AWS SDK", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const p1 = randomBytes(5 * MiB, 11);
    const p2 = randomBytes(5 * MiB, 12);
    const p3 = randomBytes(123_457, 13);

    await t.step("create, upload, complete: S3 ETag, metadata, tags, byte-exact GET", async () => {
      const c = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "big/one",
          ContentType: "application/x-test",
          Metadata: { color: "green" },
          Tagging: "a=1&b=2",
        }),
      );
      const { etags } = await upload(s3, "big/one", [p1, p2, p3], { uploadId: c.UploadId });
      assertEquals(etags[0], `"${md5(p1).toString("hex")}"`);
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "big/one",
          UploadId: c.UploadId,
          MultipartUpload: { Parts: completeParts(etags) },
        }),
      );
      assertEquals(done.ETag, expectedEtag([p1, p2, p3]));
      assertEquals(done.Key, "big/one");
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "big/one" }));
      assertEquals(got.ETag, done.ETag);
      assertEquals(got.ContentType, "application/x-test");
      assertEquals(got.Metadata, { color: "green" });
      assertEquals(got.TagCount, 2);
      assertEquals(got.ContentLength, p1.length + p2.length + p3.length);
      assertEquals(md5(await bodyBytes(got.Body)), md5(concat([p1, p2, p3])));
      // A retried Complete (client timeout after success) gets the same answer.
      const again = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "big/one",
          UploadId: c.UploadId,
          MultipartUpload: { Parts: completeParts(etags) },
        }),
      );
      assertEquals(again.ETag, done.ETag);
      // The upload is gone once completed.
      await assertS3Error(
        () =>
          s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: "big/one", UploadId: c.UploadId })),
        "NoSuchUpload",
        404,
      );
      // Exactly the three part blobs stay on disk: completing copied nothing.
      assertEquals((await blobFiles(srv, c.UploadId!)).length, 3);
    });

    await t.step("ranges spanning parts, partNumber reads and x-amz-mp-parts-count", async () => {
      const all = concat([p1, p2, p3]);
      const start = 5 * MiB - 10, end = 10 * MiB + 9; // across all three parts
      const r = await s3.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: "big/one", Range: `bytes=${start}-${end}` }),
      );
      assertEquals(r.ContentRange, `bytes ${start}-${end}/${all.length}`);
      assertEquals(md5(await bodyBytes(r.Body)), md5(all.subarray(start, end + 1)));
      const tail = await s3.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: "big/one", Range: "bytes=-100" }),
      );
      assertEquals(await bodyBytes(tail.Body), all.subarray(all.length - 100));
      const part2 = await s3.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: "big/one", PartNumber: 2 }),
      );
      assertEquals(part2.PartsCount, 3);
      assertEquals(part2.ContentLength, p2.length);
      assertEquals(part2.$metadata.httpStatusCode, 206);
      assertEquals(md5(await bodyBytes(part2.Body)), md5(p2));
      const head3 = await s3.send(
        new HeadObjectCommand({ Bucket: BUCKET, Key: "big/one", PartNumber: 3 }),
      );
      assertEquals(head3.ContentLength, p3.length);
      assertEquals(head3.PartsCount, 3);
      assertEquals(head3.ContentRange, `bytes ${10 * MiB}-${all.length - 1}/${all.length}`);
      await assertS3Error(
        () => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "big/one", PartNumber: 4 })),
        "InvalidPartNumber",
        416,
      );
    });

    await t.step("Complete rules: order, unknown part, wrong ETag, small parts", async () => {
      const small = randomBytes(1000, 3);
      const { uploadId, etags } = await upload(s3, "rules", [p1, small, p3]);
      const complete = (Parts: { PartNumber: number; ETag: string }[]) =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key: "rules",
            UploadId: uploadId,
            MultipartUpload: { Parts },
          }),
        );
      await assertS3Error(
        () => complete([{ PartNumber: 2, ETag: etags[1] }, { PartNumber: 1, ETag: etags[0] }]),
        "InvalidPartOrder",
        400,
      );
      await assertS3Error(
        () => complete([{ PartNumber: 1, ETag: etags[0] }, { PartNumber: 1, ETag: etags[0] }]),
        "InvalidPartOrder",
        400,
      );
      await assertS3Error(
        () => complete([{ PartNumber: 1, ETag: etags[0] }, { PartNumber: 7, ETag: etags[1] }]),
        "InvalidPart",
        400,
      );
      await assertS3Error(
        () => complete([{ PartNumber: 1, ETag: etags[1] }]),
        "InvalidPart",
        400,
      );
      // Part 2 is 1000 bytes and not last.
      await assertS3Error(() => complete(completeParts(etags)), "EntityTooSmall", 400);
      // Failed Completes leave the upload intact: a valid subset (small part last) completes.
      const done = await complete([
        { PartNumber: 1, ETag: etags[0] },
        { PartNumber: 2, ETag: etags[1] },
      ]);
      assertEquals(done.ETag, expectedEtag([p1, small]));
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "rules" }));
      assertEquals(md5(await bodyBytes(got.Body)), md5(concat([p1, small])));
      // The unlisted part 3 was deleted after the commit.
      assertEquals((await blobFiles(srv, uploadId)).length, 2);
    });

    await t.step("MalformedXML, empty part list, bad partNumber and missing upload", async () => {
      const { uploadId } = await upload(s3, "malformed", [p3]);
      const post = (body: string) =>
        signedFetch(srv, {
          method: "POST",
          path: `/${BUCKET}/malformed`,
          query: { uploadId },
          body,
        });
      let res = await post("<CompleteMultipartUpload><Part><PartNumber>1</Part>");
      assertEquals([res.status, await errorCode(res)], [400, "MalformedXML"]);
      res = await post("<CompleteMultipartUpload></CompleteMultipartUpload>");
      assertEquals([res.status, await errorCode(res)], [400, "MalformedXML"]);
      res = await post(
        "<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>",
      );
      assertEquals([res.status, await errorCode(res)], [400, "MalformedXML"]);
      await assertS3Error(
        () =>
          s3.send(
            new UploadPartCommand({
              Bucket: BUCKET,
              Key: "malformed",
              UploadId: uploadId,
              PartNumber: 10001,
              Body: "x",
            }),
          ),
        "InvalidArgument",
        400,
      );
      await assertS3Error(
        () =>
          s3.send(
            new UploadPartCommand({
              Bucket: BUCKET,
              Key: "malformed",
              UploadId: "0123456789abcdef0123456789abcdef",
              PartNumber: 1,
              Body: "x",
            }),
          ),
        "NoSuchUpload",
        404,
      );
      // An upload id is bound to its key.
      await assertS3Error(
        () => s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: "other", UploadId: uploadId })),
        "NoSuchUpload",
        404,
      );
      await s3.send(
        new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: "malformed", UploadId: uploadId }),
      );
    });

    await t.step("Content-MD5 and checksum mismatches on UploadPart are BadDigest", async () => {
      const { uploadId } = await upload(s3, "digest", []);
      const body = randomBytes(2000, 5);
      let res = await signedFetch(srv, {
        method: "PUT",
        path: `/${BUCKET}/digest`,
        query: { uploadId, partNumber: "1" },
        headers: { "content-md5": toBase64(md5(randomBytes(10, 1))) },
        body,
      });
      assertEquals([res.status, await errorCode(res)], [400, "BadDigest"]);
      res = await signedFetch(srv, {
        method: "PUT",
        path: `/${BUCKET}/digest`,
        query: { uploadId, partNumber: "1" },
        headers: { "x-amz-checksum-sha256": toBase64(new Uint8Array(32)) },
        body,
      });
      assertEquals([res.status, await errorCode(res)], [400, "BadDigest"]);
      const parts = await s3.send(
        new ListPartsCommand({ Bucket: BUCKET, Key: "digest", UploadId: uploadId }),
      );
      assertEquals(parts.Parts ?? [], []);
      assertEquals(await blobFiles(srv, uploadId), []);
      await s3.send(
        new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: "digest", UploadId: uploadId }),
      );
    });

    await t.step(
      "UploadPart with an aws-chunked streaming body and trailing checksum",
      async () => {
        const c = await s3.send(
          new CreateMultipartUploadCommand({
            Bucket: BUCKET,
            Key: "chunked",
            ChecksumAlgorithm: "CRC32",
          }),
        );
        const data = randomBytes(3 * MiB + 5, 31);
        // A stream body of known length makes the SDK send aws-chunked with a CRC32 trailer.
        const stream = Readable.from((function* () {
          for (let o = 0; o < data.length; o += 65536) yield data.subarray(o, o + 65536);
        })());
        const r = await s3.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: "chunked",
            UploadId: c.UploadId,
            PartNumber: 1,
            Body: stream,
            ContentLength: data.length,
            ChecksumAlgorithm: "CRC32",
          }),
        );
        const crc = toBase64(digestOf(newChecksumHasher("CRC32"), data));
        assertEquals(r.ChecksumCRC32, crc);
        assertEquals(r.ETag, `"${md5(data).toString("hex")}"`);
        const parts = await s3.send(
          new ListPartsCommand({ Bucket: BUCKET, Key: "chunked", UploadId: c.UploadId }),
        );
        assertEquals(parts.Parts?.map((p) => [p.Size, p.ChecksumCRC32]), [[data.length, crc]]);
        await s3.send(
          new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: "chunked", UploadId: c.UploadId }),
        );
      },
    );

    await t.step("re-uploading a part replaces it, also concurrently", async () => {
      const { uploadId, etags } = await upload(s3, "replace", [p1, p3]);
      const v2 = randomBytes(5 * MiB, 99);
      const r = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: "replace",
          UploadId: uploadId,
          PartNumber: 1,
          Body: v2,
        }),
      );
      // Four clients race on part 2 with different bytes.
      const racers = [1, 2, 3, 4].map((s) => randomBytes(300_000 + s, 200 + s));
      const results = await Promise.all(racers.map((Body) =>
        s3.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: "replace",
            UploadId: uploadId,
            PartNumber: 2,
            Body,
          }),
        )
      ));
      const listed = await s3.send(
        new ListPartsCommand({ Bucket: BUCKET, Key: "replace", UploadId: uploadId }),
      );
      assertEquals(listed.Parts?.map((p) => p.PartNumber), [1, 2]);
      assertEquals(listed.Parts?.[0].ETag, r.ETag);
      const winner = results.findIndex((x) => x.ETag === listed.Parts?.[1].ETag);
      assert(winner >= 0, "the listed part 2 is one of the racers");
      assertEquals(listed.Parts?.[1].Size, racers[winner].length);
      // Only the current blob of each part is kept.
      assertEquals((await blobFiles(srv, uploadId)).length, 2);
      await assertS3Error(
        () =>
          s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: BUCKET,
              Key: "replace",
              UploadId: uploadId,
              MultipartUpload: { Parts: completeParts(etags) },
            }),
          ),
        "InvalidPart",
        400,
      );
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "replace",
          UploadId: uploadId,
          MultipartUpload: { Parts: completeParts([r.ETag!, listed.Parts![1].ETag!]) },
        }),
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "replace" }));
      assertEquals(md5(await bodyBytes(got.Body)), md5(concat([v2, racers[winner]])));
    });

    await t.step("a part upload racing Complete never corrupts the object", async () => {
      const other = randomBytes(200_000, 77);
      for (let round = 0; round < 4; round++) {
        const key = `race-${round}`;
        const { uploadId, etags } = await upload(s3, key, [p1, p3]);
        const [complete, part] = await Promise.allSettled([
          s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: BUCKET,
              Key: key,
              UploadId: uploadId,
              MultipartUpload: { Parts: completeParts(etags) },
            }),
          ),
          s3.send(
            new UploadPartCommand({
              Bucket: BUCKET,
              Key: key,
              UploadId: uploadId,
              PartNumber: 2,
              Body: other,
            }),
          ),
        ]);
        if (complete.status === "fulfilled") {
          // The object is exactly the listed parts; the late part upload found no upload.
          const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
          assertEquals(md5(await bodyBytes(got.Body)), md5(concat([p1, p3])));
          if (part.status === "rejected") {
            assertEquals((part.reason as { name: string }).name, "NoSuchUpload");
          }
          assertEquals((await blobFiles(srv, uploadId)).length, 2);
        } else {
          // The part replaced #2 first: Complete's ETag no longer matches, the upload stays.
          assertEquals((complete.reason as { name: string }).name, "InvalidPart");
          assertEquals(part.status, "fulfilled");
          await s3.send(
            new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }),
          );
        }
      }
    });

    await t.step("conditional Complete: a failed If-None-Match keeps the upload", async () => {
      const { uploadId, etags } = await upload(s3, "big/one", [p3]);
      const complete = (IfNoneMatch?: string) =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key: "big/one",
            UploadId: uploadId,
            IfNoneMatch,
            MultipartUpload: { Parts: completeParts(etags) },
          }),
        );
      await assertS3Error(() => complete("*"), "PreconditionFailed", 412);
      const parts = await s3.send(
        new ListPartsCommand({ Bucket: BUCKET, Key: "big/one", UploadId: uploadId }),
      );
      assertEquals(parts.Parts?.length, 1);
      const done = await complete();
      assertEquals(done.ETag, expectedEtag([p3]));
    });

    await t.step("ListParts: part-number-marker, max-parts and truncation", async () => {
      const bodies = [1, 2, 3, 4, 5].map((i) => randomBytes(100 + i, i));
      const { uploadId } = await upload(s3, "listparts", bodies);
      const page1 = await s3.send(
        new ListPartsCommand({ Bucket: BUCKET, Key: "listparts", UploadId: uploadId, MaxParts: 2 }),
      );
      assertEquals(page1.Parts?.map((p) => [p.PartNumber, p.Size]), [[1, 101], [2, 102]]);
      assertEquals(page1.IsTruncated, true);
      assertEquals(page1.NextPartNumberMarker, "2");
      assertEquals(page1.MaxParts, 2);
      const page2 = await s3.send(
        new ListPartsCommand({
          Bucket: BUCKET,
          Key: "listparts",
          UploadId: uploadId,
          MaxParts: 2,
          PartNumberMarker: page1.NextPartNumberMarker,
        }),
      );
      assertEquals(page2.Parts?.map((p) => p.PartNumber), [3, 4]);
      const page3 = await s3.send(
        new ListPartsCommand({
          Bucket: BUCKET,
          Key: "listparts",
          UploadId: uploadId,
          PartNumberMarker: "4",
        }),
      );
      assertEquals(page3.Parts?.map((p) => p.PartNumber), [5]);
      assertEquals(page3.IsTruncated, false);
      assertEquals(page3.Parts?.[0].ETag, `"${md5(bodies[4]).toString("hex")}"`);
      await s3.send(
        new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: "listparts", UploadId: uploadId }),
      );
    });

    await t.step("ListMultipartUploads: prefix, delimiter, markers, max-uploads", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "mp-list" }));
      const ids: Record<string, string[]> = {};
      for (const key of ["a/1", "a/2", "b", "b", "c/x/y", "d"]) {
        const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: "mp-list", Key: key }));
        (ids[key] ??= []).push(c.UploadId!);
      }
      const all = await s3.send(new ListMultipartUploadsCommand({ Bucket: "mp-list" }));
      assertEquals(all.Uploads?.map((u) => u.Key), ["a/1", "a/2", "b", "b", "c/x/y", "d"]);
      assertEquals(all.Uploads?.slice(2, 4).map((u) => u.UploadId), ids["b"]);
      assertEquals(all.IsTruncated, false);
      const folded = await s3.send(
        new ListMultipartUploadsCommand({ Bucket: "mp-list", Delimiter: "/" }),
      );
      assertEquals(folded.CommonPrefixes?.map((p) => p.Prefix), ["a/", "c/"]);
      assertEquals(folded.Uploads?.map((u) => u.Key), ["b", "b", "d"]);
      const pre = await s3.send(
        new ListMultipartUploadsCommand({ Bucket: "mp-list", Prefix: "a/" }),
      );
      assertEquals(pre.Uploads?.map((u) => u.Key), ["a/1", "a/2"]);
      // Page through one upload at a time with key and upload-id markers.
      const seen: string[] = [];
      let keyMarker: string | undefined, idMarker: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await s3.send(
          new ListMultipartUploadsCommand({
            Bucket: "mp-list",
            MaxUploads: 1,
            KeyMarker: keyMarker,
            UploadIdMarker: idMarker,
          }),
        );
        seen.push(...(page.Uploads ?? []).map((u) => `${u.Key}:${u.UploadId}`));
        if (!page.IsTruncated) break;
        keyMarker = page.NextKeyMarker;
        idMarker = page.NextUploadIdMarker;
      }
      assertEquals(seen, all.Uploads?.map((u) => `${u.Key}:${u.UploadId}`));
      const after = await s3.send(
        new ListMultipartUploadsCommand({ Bucket: "mp-list", KeyMarker: "b" }),
      );
      assertEquals(after.Uploads?.map((u) => u.Key), ["c/x/y", "d"]);
      // S3 deletes a general purpose bucket that only holds open uploads.
      await s3.send(new DeleteBucketCommand({ Bucket: "mp-list" }));
      await s3.send(new CreateBucketCommand({ Bucket: "mp-list" }));
      const fresh = await s3.send(new ListMultipartUploadsCommand({ Bucket: "mp-list" }));
      assertEquals(fresh.Uploads ?? [], []);
    });

    await t.step("UploadPartCopy: ranges, other buckets, source conditionals", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "mp-src" }));
      const src = randomBytes(6 * MiB, 42);
      const put = await s3.send(new PutObjectCommand({ Bucket: "mp-src", Key: "s", Body: src }));
      const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "copied" }));
      const copy = (PartNumber: number, range?: string, ifMatch?: string) =>
        s3.send(
          new UploadPartCopyCommand({
            Bucket: BUCKET,
            Key: "copied",
            UploadId: c.UploadId,
            PartNumber,
            CopySource: "mp-src/s",
            CopySourceRange: range,
            CopySourceIfMatch: ifMatch,
          }),
        );
      const whole = await copy(1);
      assertEquals(whole.CopyPartResult?.ETag, `"${md5(src).toString("hex")}"`);
      const r = await copy(2, "bytes=100-1099", put.ETag);
      assertEquals(r.CopyPartResult?.ETag, `"${md5(src.subarray(100, 1100)).toString("hex")}"`);
      await assertS3Error(() => copy(3, undefined, '"nope"'), "PreconditionFailed", 412);
      await assertS3Error(() => copy(3, `bytes=0-${src.length}`), "InvalidArgument", 400);
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "copied",
          UploadId: c.UploadId,
          MultipartUpload: {
            Parts: completeParts([whole.CopyPartResult!.ETag!, r.CopyPartResult!.ETag!]),
          },
        }),
      );
      assertEquals(done.ETag, expectedEtag([src, src.subarray(100, 1100)]));
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "copied" }));
      assertEquals(md5(await bodyBytes(got.Body)), md5(concat([src, src.subarray(100, 1100)])));
    });

    await t.step("composite CRC32 and SHA256 checksums, GetObjectAttributes parts", async () => {
      for (const alg of ["CRC32", "SHA256"] as const) {
        const key = `ck-${alg}`;
        const c = await s3.send(
          new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: alg }),
        );
        assertEquals(c.ChecksumAlgorithm, alg);
        const bodies = [p1, p3];
        const rs = [];
        for (const [i, Body] of bodies.entries()) {
          rs.push(
            await s3.send(
              new UploadPartCommand({
                Bucket: BUCKET,
                Key: key,
                UploadId: c.UploadId,
                PartNumber: i + 1,
                Body,
                ChecksumAlgorithm: alg,
              }),
            ),
          );
        }
        const digests = bodies.map((b) => digestOf(newChecksumHasher(alg), b));
        const field = `Checksum${alg}` as "ChecksumCRC32" | "ChecksumSHA256";
        assertEquals(rs.map((r) => r[field]), digests.map(toBase64));
        const expected = `${toBase64(digestOf(newChecksumHasher(alg), concat(digests)))}-2`;
        const done = await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId: c.UploadId,
            MultipartUpload: {
              Parts: rs.map((r, i) => ({ PartNumber: i + 1, ETag: r.ETag, [field]: r[field] })),
            },
          }),
        );
        assertEquals(done[field], expected);
        assertEquals(done.ChecksumType, "COMPOSITE");
        const head = await s3.send(
          new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }),
        );
        assertEquals(head[field], expected);
        const attrs = await s3.send(
          new GetObjectAttributesCommand({
            Bucket: BUCKET,
            Key: key,
            ObjectAttributes: ["ObjectParts", "Checksum", "ETag"],
          }),
        );
        assertEquals(attrs.ObjectParts?.TotalPartsCount, 2);
        assertEquals(attrs.ObjectParts?.Parts?.map((p) => p[field]), digests.map(toBase64));
      }
    });

    await t.step("full-object CRC64NVME computed by the server", async () => {
      const c = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "crc64",
          ChecksumAlgorithm: "CRC64NVME",
          ChecksumType: "FULL_OBJECT",
        }),
      );
      assertEquals(c.ChecksumType, "FULL_OBJECT");
      const { etags } = await upload(s3, "crc64", [p1, p3], {
        uploadId: c.UploadId,
        checksum: "CRC64NVME",
      });
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: "crc64",
          UploadId: c.UploadId,
          MultipartUpload: { Parts: completeParts(etags) },
        }),
      );
      const whole = toBase64(digestOf(newChecksumHasher("CRC64NVME"), concat([p1, p3])));
      assertEquals(done.ChecksumCRC64NVME, whole);
      assertEquals(done.ChecksumType, "FULL_OBJECT");
      await assertS3Error(
        () =>
          s3.send(
            new CreateMultipartUploadCommand({
              Bucket: BUCKET,
              Key: "bad",
              ChecksumAlgorithm: "SHA256",
              ChecksumType: "FULL_OBJECT",
            }),
          ),
        "InvalidRequest",
        400,
      );
    });

    await t.step("abort frees blobs; NoSuchUpload afterwards; overwrite frees parts", async () => {
      const { uploadId } = await upload(s3, "aborted", [p3, p3]);
      assertEquals((await blobFiles(srv, uploadId)).length, 2);
      await s3.send(
        new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: "aborted", UploadId: uploadId }),
      );
      assertEquals(await blobFiles(srv, uploadId), []);
      await assertS3Error(
        () =>
          s3.send(
            new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: "aborted", UploadId: uploadId }),
          ),
        "NoSuchUpload",
        404,
      );
      await assertS3Error(
        () =>
          s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: BUCKET,
              Key: "aborted",
              UploadId: uploadId,
              MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] },
            }),
          ),
        "NoSuchUpload",
        404,
      );
      const list = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "aborted" }));
      assertEquals(list.KeyCount, 0);
      // Deleting a multipart object removes its part blobs.
      const first = (await s3.send(
        new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: "big/one" }),
      )).Uploads;
      assertEquals(first ?? [], []);
      const before = await blobFiles(srv);
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "rules" }));
      assertEquals((await blobFiles(srv)).length, before.length - 2);
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
