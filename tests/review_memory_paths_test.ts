/**
 * Adversarial review of the in-memory read paths (hot blob cache, cached latest records, the
 * in-memory listing copy) and of inline small objects (bytes in KV as ["blobd", id]):
 * - inline bodies through every deletion path, then the stopped server's KV must hold exactly
 *   one ["blobd", id] per inline version record and none without one;
 * - ranges, partNumber, conditional GETs, CopyObject / UploadPartCopy from inline sources;
 * - many concurrent writers, deleters and listers on one bucket: every acknowledged write is
 *   read back at once, and every LIST page (v1/v2, delimiter, max-keys paging, start-after,
 *   encoding-type) matches the state tracked by the test;
 * - a server without the object cache behaves the same.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  PutObjectTaggingCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { bodyBytes, randomBytes, startServer, type TestServer } from "./_helpers/server.ts";
import { checkInlineOwnership } from "./_helpers/inline.ts";
import { INLINE_MAX } from "../server/storage/objects.ts";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";

const md5 = (b: Uint8Array) => `"${createHash("md5").update(b).digest("hex")}"`;

async function get(s3: S3Client, Bucket: string, Key: string, extra: Record<string, unknown> = {}) {
  const r = await s3.send(new GetObjectCommand({ Bucket, Key, ...extra }));
  return { bytes: await bodyBytes(r.Body), etag: r.ETag, r };
}

async function put(s3: S3Client, Bucket: string, Key: string, Body: Uint8Array) {
  return await s3.send(new PutObjectCommand({ Bucket, Key, Body }));
}

async function setVersioning(s3: S3Client, Bucket: string, Status: "Enabled" | "Suspended") {
  await s3.send(
    new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status } }),
  );
}

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

// ---- concurrency: writers, deleters and listers on one bucket ----

interface Known {
  etag: string;
  size: number;
}

/** Keys with names that exercise delimiters, URL encoding and UTF-8 order. */
function keyName(w: number, j: number): string {
  const dirs = ["a/", "a/b/", "b c/", "\u{E000}/", "\u{1F600}/", ""];
  return `${dirs[(w + j) % dirs.length]}k${w}-${j}${j % 3 === 0 ? "+%" : ""}`;
}

const SIZES = [0, 1, 100, INLINE_MAX, INLINE_MAX + 1, 30_000];

interface Page {
  Contents?: { Key?: string; ETag?: string; Size?: number }[];
  CommonPrefixes?: { Prefix?: string }[];
  IsTruncated?: boolean;
}

/** Every entry of a paged listing; `next` fetches the page after `cursor` and names the next cursor. */
async function collectPages(
  next: (cursor: string | undefined) => Promise<{ page: Page; cursor?: string }>,
) {
  const out: [string, string, number][] = [];
  const prefixes: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 500; pages++) {
    const r = await next(cursor);
    for (const o of r.page.Contents ?? []) out.push([o.Key!, o.ETag!, o.Size!]);
    for (const p of r.page.CommonPrefixes ?? []) prefixes.push(p.Prefix!);
    if (!r.page.IsTruncated) return { out, prefixes };
    cursor = r.cursor;
  }
  throw new Error("listing did not end");
}

/** Everything ListObjectsV2 returns, paged with `MaxKeys` and continuation tokens. */
function listAllV2(
  s3: S3Client,
  Bucket: string,
  MaxKeys: number,
  extra: Record<string, unknown> = {},
) {
  return collectPages(async (ContinuationToken) => {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket, MaxKeys, ContinuationToken, ...extra }),
    );
    return { page, cursor: page.NextContinuationToken };
  });
}

/** The same through ListObjects v1 with markers (NextMarker, else the last entry). */
function listAllV1(
  s3: S3Client,
  Bucket: string,
  MaxKeys: number,
  extra: Record<string, unknown> = {},
) {
  return collectPages(async (Marker) => {
    const page = await s3.send(new ListObjectsCommand({ Bucket, MaxKeys, Marker, ...extra }));
    const lastKey = page.Contents?.at(-1)?.Key;
    const lastPrefix = page.CommonPrefixes?.at(-1)?.Prefix;
    const cursor = page.NextMarker ??
      [lastKey, lastPrefix].filter((x) => x).sort(cmpUtf8).at(-1);
    return { page, cursor };
  });
}

const enc = new TextEncoder();
function cmpUtf8(a: string | undefined, b: string | undefined): number {
  const x = enc.encode(a ?? "");
  const y = enc.encode(b ?? "");
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** The expected listing of `truth`, with `prefix` and `delimiter` folding. */
function expected(truth: Map<string, Known>, prefix = "", delimiter = "") {
  const out: [string, string, number][] = [];
  const prefixes = new Set<string>();
  for (const k of [...truth.keys()].sort(cmpUtf8)) {
    if (!k.startsWith(prefix)) continue;
    const i = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
    if (i >= 0) prefixes.add(k.slice(0, i + delimiter.length));
    else out.push([k, truth.get(k)!.etag, truth.get(k)!.size]);
  }
  return { out, prefixes: [...prefixes].sort(cmpUtf8) };
}

async function compareListings(s3: S3Client, Bucket: string, truth: Map<string, Known>) {
  const all = expected(truth);
  assertEquals(await listAllV2(s3, Bucket, 1000), all, "v2 one page");
  assertEquals(await listAllV2(s3, Bucket, 7), all, "v2 max-keys 7");
  assertEquals(await listAllV1(s3, Bucket, 5), all, "v1 max-keys 5");
  const folded = expected(truth, "", "/");
  const d2 = await listAllV2(s3, Bucket, 3, { Delimiter: "/" });
  assertEquals({ out: d2.out, prefixes: d2.prefixes }, folded, "v2 delimiter");
  const d1 = await listAllV1(s3, Bucket, 2, { Delimiter: "/" });
  assertEquals(d1, folded, "v1 delimiter");
  assertEquals(
    await listAllV2(s3, Bucket, 4, { Prefix: "a/", Delimiter: "/" }),
    expected(truth, "a/", "/"),
  );
  assertEquals(await listAllV2(s3, Bucket, 1000, { Prefix: "a/" }), expected(truth, "a/"));
  // start-after in the middle of the keys.
  const keys = all.out.map((o) => o[0]);
  if (keys.length > 2) {
    const mid = keys[Math.floor(keys.length / 2)];
    const r = await listAllV2(s3, Bucket, 6, { StartAfter: mid });
    assertEquals(r.out, all.out.filter((o) => cmpUtf8(o[0], mid) > 0), "start-after");
  }
  // encoding-type=url: the SDK decodes the names back.
  const u = await listAllV2(s3, Bucket, 9, { EncodingType: "url" });
  assertEquals(
    u.out.map((o) => decodeURIComponent(o[0].replaceAll("+", " "))),
    keys,
    "encoding-type url",
  );
}

/**
 * Workers own disjoint keys (so the test knows each key's state) but share one bucket; listers
 * run throughout. Every acknowledged write or delete must be visible to the writer's next read,
 * and to the LIST that follows it.
 */
async function churn(
  s3: S3Client,
  Bucket: string,
  versioned: boolean,
  workers: number,
  rounds: number,
) {
  const truth = new Map<string, Known>();
  let stop = false;
  const listers = Array.from({ length: 2 }, async (_, n) => {
    let lists = 0;
    while (!stop) {
      await s3.send(
        new ListObjectsV2Command({ Bucket, MaxKeys: 5 + n, Delimiter: n ? "/" : undefined }),
      );
      lists++;
    }
    return lists;
  });
  const worker = async (w: number) => {
    let seed = w * 7919 + 1;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < rounds; i++) {
      const key = keyName(w, rnd(6));
      const op = rnd(10);
      if (op < 5) {
        const body = randomBytes(SIZES[rnd(SIZES.length)], w * 1000 + i + 1);
        const r = await put(s3, Bucket, key, body);
        assertEquals(r.ETag, md5(body));
        truth.set(key, { etag: md5(body), size: body.length });
        const g = await get(s3, Bucket, key);
        assertEquals([g.bytes.length, g.etag], [body.length, md5(body)], `read after write ${key}`);
        assertEquals(g.bytes, body);
      } else if (op < 7) {
        await s3.send(new DeleteObjectCommand({ Bucket, Key: key }));
        truth.delete(key);
        await assertS3Error(() => get(s3, Bucket, key), "NoSuchKey", 404);
      } else if (op < 8) {
        const src = keyName(w, rnd(6));
        const known = truth.get(src);
        if (!known) continue;
        await s3.send(
          new CopyObjectCommand({
            Bucket,
            Key: key,
            CopySource: `${Bucket}/${encodeURIComponent(src)}`,
            MetadataDirective: "REPLACE",
          }),
        );
        truth.set(key, { ...known });
        assertEquals((await s3.send(new HeadObjectCommand({ Bucket, Key: key }))).ETag, known.etag);
      } else if (op < 9 && rnd(2)) {
        // A one-part multipart upload completed onto the key.
        const body = randomBytes(rnd(3) * 9000 + 1, w * 1000 + i + 500);
        const up = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: key }));
        const part = await s3.send(
          new UploadPartCommand({
            Bucket,
            Key: key,
            UploadId: up.UploadId,
            PartNumber: 1,
            Body: body,
          }),
        );
        const done = await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key: key,
            UploadId: up.UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          }),
        );
        truth.set(key, { etag: done.ETag!, size: body.length });
        const g = await get(s3, Bucket, key);
        assertEquals([g.bytes, g.etag], [body, done.ETag], `read after Complete ${key}`);
      } else if (op < 9) {
        if (!truth.has(key)) continue;
        await s3.send(
          new PutObjectTaggingCommand({
            Bucket,
            Key: key,
            Tagging: { TagSet: [{ Key: "r", Value: String(i) }] },
          }),
        );
      } else {
        // The writer's own keys as a LIST sees them right after its writes.
        const prefix = key.slice(0, key.lastIndexOf("/") + 1);
        const l = await listAllV2(s3, Bucket, 1000, { Prefix: prefix, Delimiter: "/" });
        const mine = l.out.filter((o) => o[0].includes(`k${w}-`));
        const want = expected(truth, prefix, "/").out.filter((o) => o[0].includes(`k${w}-`));
        assertEquals(mine, want, `list after writes by worker ${w}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  } finally {
    stop = true;
  }
  const lists = await Promise.all(listers);
  assert(lists.every((n) => n > 0));
  await compareListings(s3, Bucket, truth);
  if (versioned) {
    // Each latest must be readable and match its listing entry.
    for (const [k, v] of truth) {
      assertEquals((await s3.send(new HeadObjectCommand({ Bucket, Key: k }))).ETag, v.etag, k);
    }
  }
  return truth;
}

/** Many writers of the same key at once: afterwards LIST, HEAD and GET agree. */
async function sameKeyRace(s3: S3Client, Bucket: string) {
  for (let round = 0; round < 8; round++) {
    const key = `race/${round}`;
    const bodies = Array.from(
      { length: 8 },
      (_, i) => randomBytes(SIZES[i % SIZES.length] || 3, round * 100 + i + 1),
    );
    await Promise.all([
      ...bodies.map((b) => put(s3, Bucket, key, b)),
      ...(round % 2 ? [s3.send(new DeleteObjectCommand({ Bucket, Key: key }))] : []),
      s3.send(new ListObjectsV2Command({ Bucket, Prefix: "race/" })),
    ]);
    const l = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: key }));
    const listed = (l.Contents ?? []).map((o) => o.ETag);
    let head: string | undefined;
    try {
      head = (await s3.send(new HeadObjectCommand({ Bucket, Key: key }))).ETag;
    } catch {
      head = undefined;
    }
    assertEquals(listed, head === undefined ? [] : [head], `LIST and HEAD agree on ${key}`);
    if (head !== undefined) {
      const g = await get(s3, Bucket, key);
      assertEquals(g.etag, head);
      assertEquals(md5(g.bytes), head);
    }
  }
}

async function runChurn(srv: TestServer, t: Deno.TestContext, label: string) {
  const s3 = srv.client();
  try {
    await t.step(`${label}: unversioned bucket`, async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "rv-cu" }));
      // Listed before any write: the copy loads while the writers run.
      await s3.send(new ListObjectsV2Command({ Bucket: "rv-cu" }));
      const truth = await churn(s3, "rv-cu", false, 8, 80);
      await sameKeyRace(s3, "rv-cu");
      assert(truth.size > 0);
    });
    await t.step(`${label}: versioned bucket`, async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "rv-cv" }));
      await setVersioning(s3, "rv-cv", "Enabled");
      await churn(s3, "rv-cv", true, 8, 60);
      await sameKeyRace(s3, "rv-cv");
    });
  } finally {
    s3.destroy();
  }
}

Deno.test("memory paths under concurrency: reads and every LIST page match acknowledged writes", async (t) => {
  const srv = await startServer();
  let stopped = false;
  try {
    await runChurn(srv, t, "default caches");
    await t.step("after restart (listing from KV first, nothing cached)", async () => {
      // The truth is what the live server listed; a fresh process must list the same.
      const s3 = srv.client();
      const before = await listAllV2(s3, "rv-cu", 1000);
      const beforeV = await listAllV2(s3, "rv-cv", 1000);
      s3.destroy();
      await srv.stop({ keepData: true });
      stopped = true;
      await checkInlineOwnership(srv.dataDir);
      const again = await startServer({
        dataDir: srv.dataDir,
        args: ["--object-cache", "0", "--list-cache", "0"],
      });
      const s3b = again.client();
      try {
        assertEquals(await listAllV2(s3b, "rv-cu", 1000), before);
        assertEquals(await listAllV2(s3b, "rv-cv", 1000), beforeV);
        for (const [k, etag] of before.out.map((o) => [o[0], o[1]])) {
          const g = await get(s3b, "rv-cu", k);
          assertEquals(md5(g.bytes), etag, k);
        }
      } finally {
        s3b.destroy();
        await again.stop({ keepData: true });
      }
    });
  } finally {
    if (!stopped) await srv.stop({ keepData: true });
    await Deno.remove(srv.dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("memory paths without the object cache and the listing copy behave the same", async (t) => {
  const srv = await startServer({ args: ["--object-cache", "0", "--list-cache", "0"] });
  try {
    await runChurn(srv, t, "object cache and listing copy off");
  } finally {
    await srv.stop();
  }
});
