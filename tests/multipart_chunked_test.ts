/**
 * Multipart objects with more than 200 parts (part list in chunk entries, not inline) through
 * the real server: GetObjectAttributes pages their parts, and deleting one frees its part files
 * at once. The object is built at the storage level first (parts of a few bytes: the 5 MiB
 * minimum would make 250 parts 1.25 GB), then the server is started on that data dir.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { bodyBytes, startServer } from "./_helpers/server.ts";
import { quiet } from "./_helpers/storage.ts";
import { openStorage } from "../server/storage/backend.ts";
import { INLINE_PARTS } from "../server/storage/multipart/multipart_complete.ts";
import type { BucketRecord } from "../server/storage/types.ts";

const BUCKET = "mp-chunked";
const PARTS = INLINE_PARTS + 50;

const one = (b: Uint8Array) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(b);
      c.close();
    },
  });

/** Part files of one upload on disk. */
async function partFiles(dataDir: string, uploadId: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const f of Deno.readDir(`${dataDir}/objects/${uploadId.slice(0, 2)}`)) {
      if (f.name.startsWith(`${uploadId}.`)) out.push(f.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

/** Builds a CRC32 multipart object of PARTS one-byte parts under `key`; returns its bytes. */
async function buildChunkedObject(dataDir: string, key: string) {
  const st = await openStorage({ dataDir, log: quiet });
  try {
    let bucket: BucketRecord | null = null;
    for await (const e of st.core.meta.list<BucketRecord>({ prefix: ["bucket"] })) {
      if (e.value.name === BUCKET) bucket = e.value;
    }
    assert(bucket, "bucket created through the server");
    const up = await st.backend.createMultipartUpload(bucket, {
      key,
      content: {},
      meta: {},
      ownerId: bucket.ownerId,
      checksum: { algorithm: "CRC32", type: "COMPOSITE" },
    });
    const bytes = new Uint8Array(PARTS);
    const parts = [];
    for (let i = 1; i <= PARTS; i++) {
      bytes[i - 1] = (i * 31) & 0xff;
      const p = await st.backend.uploadPart(bucket, {
        key,
        uploadId: up.uploadId,
        partNumber: i,
        body: one(bytes.subarray(i - 1, i)),
        contentLength: 1,
      });
      parts.push({ n: i, etag: p.etag, checksums: {} });
    }
    const rec = await st.backend.completeMultipartUpload(bucket, {
      key,
      uploadId: up.uploadId,
      parts,
      minPartSize: 0,
    });
    assertEquals(rec.parts, undefined, "the part list is chunked");
    return { uploadId: up.uploadId, bytes };
  } finally {
    await st.close();
  }
}

Deno.test("multipart objects beyond 200 parts through the server", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-mp-chunked-" });
  try {
    const first = await startServer({ dataDir });
    const s3a = first.client();
    await s3a.send(new CreateBucketCommand({ Bucket: BUCKET }));
    s3a.destroy();
    await first.stop();
    const big = await buildChunkedObject(dataDir, "big");
    const over = await buildChunkedObject(dataDir, "over");

    const srv = await startServer({ dataDir });
    const s3 = srv.client();
    try {
      await t.step("GetObjectAttributes pages the parts of a chunked part list", async () => {
        const a = await s3.send(
          new GetObjectAttributesCommand({
            Bucket: BUCKET,
            Key: "big",
            ObjectAttributes: ["ObjectParts", "Checksum"],
            MaxParts: 50,
            PartNumberMarker: "150",
          }),
        );
        const op = a.ObjectParts!;
        assertEquals(op.TotalPartsCount, PARTS);
        assertEquals(op.IsTruncated, true);
        assertEquals(op.NextPartNumberMarker, "200");
        assertEquals(op.Parts?.length, 50);
        assertEquals(op.Parts![0].PartNumber, 151);
        assertEquals(op.Parts![0].Size, 1);
        assert(op.Parts![0].ChecksumCRC32, "parts carry their CRC32");
        assertEquals(op.Parts![49].PartNumber, 200);
        const last = await s3.send(
          new GetObjectAttributesCommand({
            Bucket: BUCKET,
            Key: "big",
            ObjectAttributes: ["ObjectParts"],
            PartNumberMarker: "240",
          }),
        );
        assertEquals(last.ObjectParts?.IsTruncated, false);
        assertEquals(last.ObjectParts?.Parts?.map((p) => p.PartNumber), [
          241,
          242,
          243,
          244,
          245,
          246,
          247,
          248,
          249,
          250,
        ]);
        const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "big" }));
        assertEquals(await bodyBytes(got.Body), big.bytes);
      });

      await t.step("deleting or overwriting a chunked object frees its parts at once", async () => {
        assertEquals((await partFiles(dataDir, big.uploadId)).length, PARTS);
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "big" }));
        assertEquals(await partFiles(dataDir, big.uploadId), []);
        assertEquals((await partFiles(dataDir, over.uploadId)).length, PARTS);
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "over", Body: "small" }));
        assertEquals(await partFiles(dataDir, over.uploadId), []);
      });
    } finally {
      s3.destroy();
      await srv.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
