/**
 * Reads through the in-memory caches (small objects' bytes, latest records) always see the
 * newest committed state: right after an overwrite, a delete, a new version, and under many
 * concurrent reads of one cached object (which share one buffer). Small objects are stored in
 * KV (inline), larger ones in files: both read back the same after a restart.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { bodyBytes, randomBytes, startServer } from "./_helpers/server.ts";
import { createHash } from "node:crypto";

const md5 = (b: Uint8Array) => `"${createHash("md5").update(b).digest("hex")}"`;

Deno.test("cached small objects: reads after writes and under concurrency", async (t) => {
  let srv = await startServer();
  let s3 = srv.client();
  let versions: { ids: string[]; bodies: Uint8Array[] } = { ids: [], bodies: [] };
  const get = async (Bucket: string, Key: string, extra: Record<string, string> = {}) => {
    const r = await s3.send(new GetObjectCommand({ Bucket, Key, ...extra }));
    return { bytes: await bodyBytes(r.Body), etag: r.ETag, versionId: r.VersionId };
  };
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "hot" }));

    await t.step("overwrite, then read at once, many times in parallel", async () => {
      for (let round = 0; round < 5; round++) {
        const body = randomBytes(4096 + round * 1000, round + 1);
        await s3.send(new PutObjectCommand({ Bucket: "hot", Key: "k", Body: body }));
        const reads = await Promise.all(Array.from({ length: 24 }, () => get("hot", "k")));
        for (const r of reads) {
          assertEquals(r.bytes, body);
          assertEquals(r.etag, md5(body));
        }
        const range = await get("hot", "k", { Range: "bytes=100-1099" });
        assertEquals(range.bytes, body.subarray(100, 1100));
      }
    });

    await t.step("empty and 64 KiB objects, and one just past the cached size", async () => {
      for (const n of [0, 64 * 1024, 64 * 1024 + 1]) {
        const body = randomBytes(n, n + 7);
        await s3.send(new PutObjectCommand({ Bucket: "hot", Key: `n${n}`, Body: body }));
        assertEquals((await get("hot", `n${n}`)).bytes, body);
      }
    });

    await t.step("a delete is seen at once", async () => {
      await s3.send(new DeleteObjectCommand({ Bucket: "hot", Key: "k" }));
      await assertS3Error(() => get("hot", "k"), "NoSuchKey");
    });

    await t.step("versions: the latest, then each version by id", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "hot-v" }));
      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: "hot-v",
          VersioningConfiguration: { Status: "Enabled" },
        }),
      );
      const bodies = [randomBytes(3000, 41), randomBytes(3000, 42)];
      const ids: string[] = [];
      for (const Body of bodies) {
        const r = await s3.send(new PutObjectCommand({ Bucket: "hot-v", Key: "v", Body }));
        ids.push(r.VersionId!);
        const latest = await get("hot-v", "v");
        assertEquals([latest.bytes, latest.versionId], [Body, r.VersionId]);
      }
      for (let i = 0; i < 2; i++) {
        assertEquals((await get("hot-v", "v", { VersionId: ids[i] })).bytes, bodies[i]);
      }
      await s3.send(new DeleteObjectCommand({ Bucket: "hot-v", Key: "v" }));
      await assertS3Error(() => get("hot-v", "v"), "NoSuchKey");
      assertEquals((await get("hot-v", "v", { VersionId: ids[1] })).bytes, bodies[1]);
      versions = { ids, bodies };
    });

    await t.step("after a restart (nothing cached) the same bytes come back", async () => {
      s3.destroy();
      await srv.stop({ keepData: true });
      srv = await startServer({ dataDir: srv.dataDir });
      s3 = srv.client();
      for (const n of [0, 64 * 1024, 64 * 1024 + 1]) {
        assertEquals((await get("hot", `n${n}`)).bytes, randomBytes(n, n + 7));
      }
      for (let i = 0; i < 2; i++) {
        const r = await get("hot-v", "v", { VersionId: versions.ids[i] });
        assertEquals([r.bytes, r.etag], [versions.bodies[i], md5(versions.bodies[i])]);
      }
      const r = await get("hot-v", "v", { VersionId: versions.ids[0], Range: "bytes=10-19" });
      assertEquals(r.bytes, versions.bodies[0].subarray(10, 20));
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
