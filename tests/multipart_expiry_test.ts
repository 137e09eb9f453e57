/**
 * Uploads older than `--multipart-max-age` are aborted by the server's timer and their part
 * blobs freed; younger ones stay.
 */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { assertEquals } from "./_helpers/assert.ts";
import { randomBytes, startServer } from "./_helpers/server.ts";

async function blobCount(dataDir: string, prefix: string): Promise<number> {
  let n = 0;
  for await (const d of Deno.readDir(`${dataDir}/objects`)) {
    if (!d.isDirectory) continue;
    for await (const f of Deno.readDir(`${dataDir}/objects/${d.name}`)) {
      if (f.name.startsWith(prefix)) n++;
    }
  }
  return n;
}

Deno.test("incomplete uploads expire after --multipart-max-age", async () => {
  const srv = await startServer({ args: ["--multipart-max-age", "2"] });
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "mp-expiry" }));
    const c = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "mp-expiry", Key: "stale" }),
    );
    await s3.send(
      new UploadPartCommand({
        Bucket: "mp-expiry",
        Key: "stale",
        UploadId: c.UploadId,
        PartNumber: 1,
        Body: randomBytes(100_000, 1),
      }),
    );
    assertEquals(await blobCount(srv.dataDir, c.UploadId!), 1);
    let left = 1;
    for (let i = 0; i < 40 && left > 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const list = await s3.send(new ListMultipartUploadsCommand({ Bucket: "mp-expiry" }));
      left = list.Uploads?.length ?? 0;
    }
    assertEquals(left, 0, "the upload was aborted within 10 s");
    assertEquals(await blobCount(srv.dataDir, c.UploadId!), 0);
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
