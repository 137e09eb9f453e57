/**
 * Incomplete uploads older than `--multipart-max-age` are aborted by the multipart maintenance
 * and their part blobs freed; younger ones stay. The app runs in-process on an injected clock
 * and the test calls the maintenance itself (and awaits it) instead of waiting for the timer.
 */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { assertEquals } from "./_helpers/assert.ts";
import { randomBytes } from "./_helpers/server.ts";
import { startApp } from "./_helpers/app.ts";

const B = "mp-expiry";
const MINUTE = 60_000;
/** --multipart-max-age of the first app. Every clock step stays under SigV4's 15-minute skew. */
const MAX_AGE_S = 600;

type App = Awaited<ReturnType<typeof startApp>>;

/** Part blobs of `uploadId` on disk (a part of 100 KB is never stored inline). */
async function partBlobs(a: App, uploadId: string): Promise<number> {
  return (await a.app.storage.core.blobs.listPrefix(`${uploadId}.`)).length;
}

async function openUpload(s3: S3Client, key: string, seed: number): Promise<string> {
  const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key }));
  await s3.send(
    new UploadPartCommand({
      Bucket: B,
      Key: key,
      UploadId: c.UploadId,
      PartNumber: 1,
      Body: randomBytes(100_000, seed),
    }),
  );
  return c.UploadId!;
}

async function openKeys(s3: S3Client): Promise<string[]> {
  const list = await s3.send(new ListMultipartUploadsCommand({ Bucket: B }));
  return (list.Uploads ?? []).map((u) => u.Key!).sort();
}

Deno.test("incomplete uploads expire after --multipart-max-age", async (t) => {
  // The app's clock runs `skew` ahead of the real one; the test moves it.
  let skew = 0;
  const clock = { now: () => Date.now() + skew };
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-mp-expiry-" });
  let a = await startApp({ dataDir, clock, args: ["--multipart-max-age", String(MAX_AGE_S)] });
  try {
    await a.s3.send(new CreateBucketCommand({ Bucket: B }));
    const stale = await openUpload(a.s3, "stale", 1);
    skew = 6 * MINUTE;
    const young = await openUpload(a.s3, "young", 2);
    assertEquals([await partBlobs(a, stale), await partBlobs(a, young)], [1, 1]);

    await t.step("a pass before the age is reached aborts nothing", async () => {
      const r = await a.app.storage.backend.multipartMaintenance({
        maxAgeMs: MAX_AGE_S * 1000,
        startup: false,
      });
      assertEquals(r.aborted, 0);
      assertEquals(await openKeys(a.s3), ["stale", "young"]);
    });

    await t.step("a pass past the age aborts the old upload and frees its parts", async () => {
      skew = 11 * MINUTE; // stale is 11 minutes old, young 5
      const r = await a.app.storage.backend.multipartMaintenance({
        maxAgeMs: MAX_AGE_S * 1000,
        startup: false,
      });
      // The pass returns after the abort's cleanup: the blobs are gone when it resolves.
      assertEquals(r.aborted, 1);
      assertEquals(await openKeys(a.s3), ["young"]);
      assertEquals([await partBlobs(a, stale), await partBlobs(a, young)], [0, 1]);
    });

    await t.step("the start-up pass applies the configured --multipart-max-age", async () => {
      await a.stop();
      // Young is 5 minutes old: a 4-minute limit expires it when the app opens.
      a = await startApp({ dataDir, clock, args: ["--multipart-max-age", "240"] });
      assertEquals(await openKeys(a.s3), []);
      assertEquals(await partBlobs(a, young), 0);
    });
  } finally {
    await a.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
