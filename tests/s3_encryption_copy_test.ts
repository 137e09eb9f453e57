/**
 * Copies between every two ways of storing an object (plain, SSE-S3, SSE-KMS, SSE-C) with
 * CopyObject and UploadPartCopy, source and destination customer keys given independently; a
 * copy onto itself that changes the encryption; missing and wrong copy-source keys; and
 * versioning and Object Lock over encrypted objects.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { bodyBytes, randomBytes, startServer } from "./_helpers/server.ts";
import { setVersioning } from "./_helpers/objects.ts";
import {
  copySourceParams,
  echoed,
  expectedEcho,
  KEY_A,
  KEY_B,
  MODES,
  readParams,
  writeParams,
} from "./_helpers/sse.ts";

const BUCKET = "enc-copy";

async function read(s3: S3Client, Key: string, extra: Record<string, unknown> = {}) {
  const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ...extra }));
  return { bytes: await bodyBytes(r.Body), r };
}

Deno.test("encrypted copies: the CopyObject and UploadPartCopy matrix", async (t) => {
  const srv = await startServer({ args: ["--sse-c-over-http"] });
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const data = randomBytes(150_000, 3);
    for (const mode of MODES) {
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: `src/${mode}`,
          Body: data,
          ...writeParams(mode, KEY_A),
        }),
      );
    }

    for (const from of MODES) {
      for (const to of MODES) {
        await t.step(`CopyObject ${from} -> ${to}`, async () => {
          const Key = `copy/${from}-${to}`;
          const out = await s3.send(
            new CopyObjectCommand({
              Bucket: BUCKET,
              Key,
              CopySource: `${BUCKET}/src/${from}`,
              ...copySourceParams(from, KEY_A),
              ...writeParams(to, KEY_B),
            }),
          );
          assertEquals(echoed(out), expectedEcho(to, KEY_B));
          const got = await read(s3, Key, readParams(to, KEY_B));
          assertEquals(got.bytes, data);
          assertEquals(echoed(got.r), expectedEcho(to, KEY_B));
        });

        await t.step(`UploadPartCopy ${from} -> ${to}`, async () => {
          const Key = `part-copy/${from}-${to}`;
          const up = await s3.send(
            new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, ...writeParams(to, KEY_B) }),
          );
          assertEquals(echoed(up), expectedEcho(to, KEY_B), "CreateMultipartUpload echoes");
          const part = await s3.send(
            new UploadPartCopyCommand({
              Bucket: BUCKET,
              Key,
              UploadId: up.UploadId,
              PartNumber: 1,
              CopySource: `${BUCKET}/src/${from}`,
              CopySourceRange: "bytes=1000-99999",
              ...copySourceParams(from, KEY_A),
              ...readParams(to, KEY_B),
            }),
          );
          assertEquals(echoed(part), expectedEcho(to, KEY_B), "UploadPartCopy echoes");
          await s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: BUCKET,
              Key,
              UploadId: up.UploadId,
              MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult?.ETag }] },
            }),
          );
          const got = await read(s3, Key, readParams(to, KEY_B));
          assertEquals(got.bytes, data.subarray(1000, 100_000));
        });
      }
    }

    await t.step(
      "copy source keys: missing, wrong, or sent for a source that has none",
      async () => {
        const copy = (extra: Record<string, string>, from = "SSE-C") =>
          s3.send(
            new CopyObjectCommand({
              Bucket: BUCKET,
              Key: "copy/refused",
              CopySource: `${BUCKET}/src/${from}`,
              ...extra,
            }),
          );
        await assertS3Error(() => copy({}), "InvalidRequest", 400);
        await assertS3Error(() => copy(copySourceParams("SSE-C", KEY_B)), "AccessDenied", 403);
        await assertS3Error(
          () => copy(copySourceParams("SSE-C", KEY_A), "SSE-S3"),
          "InvalidRequest",
          400,
        );
        await assertS3Error(
          () => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "copy/refused" })),
          "NotFound",
          404,
        );
      },
    );

    await t.step("a copy onto itself may change the encryption", async () => {
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: "self",
          Body: data,
          ...writeParams("SSE-C", KEY_A),
        }),
      );
      // SSE-C with key A -> SSE-C with key B (a key rotation) -> SSE-S3 -> SSE-KMS.
      await s3.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: "self",
          CopySource: `${BUCKET}/self`,
          ...copySourceParams("SSE-C", KEY_A),
          ...writeParams("SSE-C", KEY_B),
        }),
      );
      assertEquals((await read(s3, "self", readParams("SSE-C", KEY_B))).bytes, data);
      await assertS3Error(
        () => read(s3, "self", readParams("SSE-C", KEY_A)),
        "AccessDenied",
        403,
      );
      for (const to of ["SSE-S3", "SSE-KMS"] as const) {
        const from = to === "SSE-S3" ? copySourceParams("SSE-C", KEY_B) : {};
        await s3.send(
          new CopyObjectCommand({
            Bucket: BUCKET,
            Key: "self",
            CopySource: `${BUCKET}/self`,
            ...from,
            ...writeParams(to),
          }),
        );
        const got = await read(s3, "self");
        assertEquals(got.bytes, data);
        assertEquals(echoed(got.r), to);
      }
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});

Deno.test("encrypted objects under versioning and Object Lock", async (t) => {
  const srv = await startServer({ args: ["--sse-c-over-http"] });
  const s3 = srv.client();
  try {
    await t.step("each version keeps its own encryption and key", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "enc-ver" }));
      await setVersioning(s3, "enc-ver", "Enabled");
      const v = [randomBytes(70_000, 1), randomBytes(80_000, 2), randomBytes(90_000, 3)];
      const ids: string[] = [];
      const modes = ["SSE-C", "SSE-S3", "plain"] as const;
      for (const [i, mode] of modes.entries()) {
        const put = await s3.send(
          new PutObjectCommand({ Bucket: "enc-ver", Key: "k", Body: v[i], ...writeParams(mode) }),
        );
        ids.push(put.VersionId!);
      }
      for (const [i, mode] of modes.entries()) {
        const r = await s3.send(
          new GetObjectCommand({
            Bucket: "enc-ver",
            Key: "k",
            VersionId: ids[i],
            ...readParams(mode),
          }),
        );
        assertEquals(await bodyBytes(r.Body), v[i], mode);
        assertEquals(echoed(r), expectedEcho(mode));
      }
      await assertS3Error(
        () => s3.send(new GetObjectCommand({ Bucket: "enc-ver", Key: "k", VersionId: ids[0] })),
        "InvalidRequest",
        400,
      );
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: "enc-ver" }));
      assertEquals(
        versions.Versions?.map((x) => x.Size).sort(),
        v.map((b) => b.length).sort(),
        "plaintext sizes",
      );
      // A delete marker over an encrypted object, then the object again by version.
      await s3.send(new DeleteObjectCommand({ Bucket: "enc-ver", Key: "k" }));
      const again = await s3.send(
        new GetObjectCommand({ Bucket: "enc-ver", Key: "k", VersionId: ids[1] }),
      );
      assertEquals(await bodyBytes(again.Body), v[1]);
    });

    await t.step("Object Lock retention over an encrypted object", async () => {
      await s3.send(
        new CreateBucketCommand({ Bucket: "enc-lock", ObjectLockEnabledForBucket: true }),
      );
      const body = randomBytes(100_000, 9);
      const until = new Date(Date.now() + 3600_000);
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: "enc-lock",
          Key: "locked",
          Body: body,
          ObjectLockMode: "GOVERNANCE",
          ObjectLockRetainUntilDate: until,
          ChecksumAlgorithm: "CRC32",
          ...writeParams("SSE-KMS"),
        }),
      );
      const head = await s3.send(new HeadObjectCommand({ Bucket: "enc-lock", Key: "locked" }));
      assertEquals(head.ObjectLockMode, "GOVERNANCE");
      assertEquals(echoed(head), "SSE-KMS");
      await assertS3Error(
        () =>
          s3.send(
            new DeleteObjectCommand({
              Bucket: "enc-lock",
              Key: "locked",
              VersionId: put.VersionId,
            }),
          ),
        "AccessDenied",
        403,
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: "enc-lock", Key: "locked" }));
      assertEquals(await bodyBytes(got.Body), body);
      assert(put.VersionId, "a locked bucket versions its objects");
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
