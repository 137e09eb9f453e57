/**
 * kill -9 during CompleteMultipartUpload, then restart on the same data dir: every time the
 * result is either the intact upload (which then completes) or the published object, never a
 * mix, and no blob file is left that nothing references.
 */
import { createHash } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { bodyBytes, randomBytes, startServer, type TestServer } from "./_helpers/server.ts";
import { signedFetch } from "./_helpers/signed_fetch.ts";

const MiB = 1024 * 1024;
const BUCKET = "mp-crash";

async function blobFiles(dataDir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const d of Deno.readDir(`${dataDir}/objects`)) {
    if (!d.isDirectory) continue;
    for await (const f of Deno.readDir(`${dataDir}/objects/${d.name}`)) out.push(f.name);
  }
  return out.sort();
}

const md5hex = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

Deno.test("kill -9 during CompleteMultipartUpload leaves the upload or the object", async () => {
  let srv: TestServer = await startServer();
  const dataDir = srv.dataDir;
  const parts = [randomBytes(5 * MiB, 1), randomBytes(5 * MiB, 2), randomBytes(777_777, 3)];
  const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    whole.set(p, off);
    off += p.length;
  }
  const outcomes: string[] = [];
  const uploadIds: string[] = [];
  try {
    let s3 = srv.client();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const delays = [0, 1, 2, 4, 7, 12, 25];
    for (const [i, delay] of delays.entries()) {
      const key = `crash-${i}`;
      const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
      const uploadId = c.UploadId!;
      uploadIds.push(uploadId);
      const etags: string[] = [];
      for (const [n, Body] of parts.entries()) {
        const r = await s3.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId: uploadId,
            PartNumber: n + 1,
            Body,
          }),
        );
        etags.push(r.ETag!);
      }
      const xml = `<CompleteMultipartUpload>${
        etags.map((e, n) => `<Part><PartNumber>${n + 1}</PartNumber><ETag>${e}</ETag></Part>`)
          .join("")
      }</CompleteMultipartUpload>`;
      // Fire Complete and kill the server a few milliseconds into it.
      const pending = signedFetch(srv, {
        method: "POST",
        path: `/${BUCKET}/${key}`,
        query: { uploadId },
        body: xml,
      }).then((r) => r.body?.cancel()).catch(() => {});
      await new Promise((r) => setTimeout(r, delay));
      s3.destroy();
      await srv.kill9();
      await pending;

      srv = await startServer({ dataDir });
      s3 = srv.client();
      const hasObject = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))
        .then(() => true, () => false);
      const hasUpload = await s3.send(
        new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }),
      ).then((r) => {
        assertEquals(r.Parts?.map((p) => p.ETag), etags, "an intact upload keeps every part");
        return true;
      }, () => false);
      assert(hasObject !== hasUpload, `upload ${i}: exactly one of object and upload exists`);
      outcomes.push(hasObject ? "object" : "upload");
      if (hasUpload) {
        // The surviving upload is usable: completing it now publishes the object.
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: etags.map((ETag, n) => ({ PartNumber: n + 1, ETag })) },
          }),
        );
      }
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      assertEquals(md5hex(await bodyBytes(got.Body)), md5hex(whole));
    }
    const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assertEquals(open.Uploads ?? [], []);
    s3.destroy();
    // No orphans: exactly the three part blobs of each completed object are on disk.
    const files = await blobFiles(dataDir);
    assertEquals(files.length, 3 * delays.length, `blob files: ${files.join(", ")}`);
    for (const id of uploadIds) {
      assertEquals(files.filter((f) => f.startsWith(`${id}.`)).length, 3);
    }
    console.log(`outcomes after kill -9: ${outcomes.join(", ")}`);
  } finally {
    await srv.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
