/**
 * The in-memory read paths (hot blob cache, cached latest records, the in-memory listing copy)
 * under load: many concurrent writers, deleters and listers on one bucket; every acknowledged
 * write is read back at once, and every LIST page (v1/v2, delimiter, max-keys paging,
 * start-after, encoding-type) matches the state tracked by the test, also after a restart; a
 * server without the object cache and the listing copy behaves the same.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectTaggingCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { randomBytes, startServer, type TestServer } from "./_helpers/server.ts";
import { get, md5, put, setVersioning } from "./_helpers/objects.ts";
import { checkInlineOwnership } from "./_helpers/inline.ts";
import { INLINE_MAX } from "../server/storage/objects/objects.ts";

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
