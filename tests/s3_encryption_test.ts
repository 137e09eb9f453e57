/**
 * Server-side encryption through the S3 API with the AWS SDK against the real server: every
 * mode (plain, SSE-S3, SSE-KMS, SSE-C) round trips with ranges across segment boundaries,
 * partNumber reads and multipart uploads (lib-storage), the headers each answer echoes, sizes in
 * listings and GetObjectAttributes, missing and wrong customer keys, bad input that stores
 * nothing, and bucket default encryption. The copy matrix is in s3_encryption_copy_test.ts.
 */
import { createHash } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { bodyBytes, randomBytes, startServer, type TestServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";
import { postObject } from "./_helpers/post_form.ts";
import {
  echoed,
  expectedEcho,
  KEY_A,
  KEY_B,
  MODES,
  rawCustomerHeaders,
  readParams,
  writeParams,
} from "./_helpers/sse.ts";

const MiB = 1024 * 1024;
/** Plaintext bytes per sealed segment (decision 0012): ranges are chosen around its edges. */
const SEG = 64 * 1024;
const BUCKET = "enc";

async function getBytes(s3: S3Client, Key: string, extra: Record<string, unknown> = {}) {
  const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ...extra }));
  return { bytes: await bodyBytes(r.Body), r };
}

/** The status and error code of a raw signed request. */
async function rawStatus(
  srv: TestServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Uint8Array,
): Promise<[number, string | null]> {
  const res = await signedFetch(srv, { method, path, headers, body });
  return [res.status, method === "HEAD" ? null : await errorCode(res)];
}

Deno.test("server-side encryption through the S3 API", async (t) => {
  const srv = await startServer({ args: ["--sse-c-over-http"] });
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const data = randomBytes(3 * SEG + 1000, 7);

    for (const mode of MODES) {
      await t.step(`${mode}: PUT, GET, ranges, HEAD, listing and attributes`, async () => {
        const Key = `single/${mode}`;
        const put = await s3.send(
          new PutObjectCommand({ Bucket: BUCKET, Key, Body: data, ...writeParams(mode) }),
        );
        assertEquals(echoed(put), expectedEcho(mode));
        if (mode === "SSE-KMS") assert(put.SSEKMSKeyId, "PUT echoes the KMS key's ARN");

        const whole = await getBytes(s3, Key, readParams(mode));
        assertEquals(whole.bytes, data);
        assertEquals(echoed(whole.r), expectedEcho(mode));
        assertEquals(whole.r.ETag, put.ETag);
        const ranges: [number, number][] = [
          [0, 0],
          [SEG - 1, SEG],
          [SEG, 2 * SEG - 1],
          [2 * SEG - 10, 3 * SEG + 10],
          [data.length - 5, data.length - 1],
        ];
        for (const [a, b] of ranges) {
          const part = await getBytes(s3, Key, { ...readParams(mode), Range: `bytes=${a}-${b}` });
          assertEquals(part.bytes, data.subarray(a, b + 1), `bytes=${a}-${b}`);
          assertEquals(part.r.ContentRange, `bytes ${a}-${b}/${data.length}`);
        }
        const suffix = await getBytes(s3, Key, { ...readParams(mode), Range: "bytes=-100" });
        assertEquals(suffix.bytes, data.subarray(data.length - 100));

        const head = await s3.send(
          new HeadObjectCommand({ Bucket: BUCKET, Key, ...readParams(mode) }),
        );
        assertEquals(head.ContentLength, data.length);
        assertEquals(echoed(head), expectedEcho(mode));

        const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: Key }));
        assertEquals(listed.Contents?.map((o) => o.Size), [data.length], "plaintext size");
        const attrs = await s3.send(
          new GetObjectAttributesCommand({
            Bucket: BUCKET,
            Key,
            ObjectAttributes: ["ObjectSize", "ETag"],
            ...readParams(mode),
          }),
        );
        assertEquals(attrs.ObjectSize, data.length);
        assertEquals(`"${attrs.ETag}"`, put.ETag);
      });
    }

    await t.step("empty objects in every mode", async () => {
      for (const mode of MODES) {
        const Key = `empty/${mode}`;
        await s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key,
            Body: new Uint8Array(0),
            ...writeParams(mode),
          }),
        );
        const got = await getBytes(s3, Key, readParams(mode));
        assertEquals(got.bytes.length, 0, mode);
        assertEquals(echoed(got.r), expectedEcho(mode));
      }
    });

    const big = randomBytes(11 * MiB + 12345, 11);
    for (const mode of MODES) {
      await t.step(
        `${mode}: multipart (lib-storage), partNumber reads, ranges across parts`,
        async () => {
          const Key = `multi/${mode}`;
          const up = new Upload({
            client: s3,
            params: { Bucket: BUCKET, Key, Body: big, ...writeParams(mode) },
            partSize: 5 * MiB,
            queueSize: 2,
          });
          const done = await up.done();
          assert(done.ETag?.endsWith('-3"'), `multipart ETag: ${done.ETag}`);
          if (mode !== "SSE-C") assertEquals(echoed(done), expectedEcho(mode), "Complete echoes");

          const whole = await getBytes(s3, Key, readParams(mode));
          assertEquals(whole.bytes.length, big.length);
          assert(whole.bytes.every((b, i) => b === big[i]), "whole multipart object");
          assertEquals(echoed(whole.r), expectedEcho(mode));

          const p2 = await getBytes(s3, Key, { ...readParams(mode), PartNumber: 2 });
          assertEquals(p2.bytes, big.subarray(5 * MiB, 10 * MiB));
          assertEquals(p2.r.PartsCount, 3);
          const p3 = await getBytes(s3, Key, { ...readParams(mode), PartNumber: 3 });
          assertEquals(p3.bytes, big.subarray(10 * MiB));
          const [a, b] = [5 * MiB - 7, 10 * MiB + 7];
          const across = await getBytes(s3, Key, { ...readParams(mode), Range: `bytes=${a}-${b}` });
          assertEquals(across.bytes, big.subarray(a, b + 1));

          const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: Key }));
          assertEquals(listed.Contents?.map((o) => o.Size), [big.length]);
        },
      );
    }

    await t.step("SSE-C: GET and HEAD without the key or with another one", async () => {
      const Key = "single/SSE-C";
      await assertS3Error(
        () => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key })),
        "InvalidRequest",
        400,
      );
      await assertS3Error(
        () => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, ...readParams("SSE-C", KEY_B) })),
        "AccessDenied",
        403,
      );
      assertEquals((await rawStatus(srv, "HEAD", `/${BUCKET}/${Key}`, {}))[0], 400);
      assertEquals(
        (await rawStatus(srv, "HEAD", `/${BUCKET}/${Key}`, rawCustomerHeaders(KEY_B)))[0],
        403,
      );
      // A range or a part of it needs the key as well.
      await assertS3Error(
        () => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key, Range: "bytes=0-0" })),
        "InvalidRequest",
        400,
      );
      await assertS3Error(
        () =>
          s3.send(
            new GetObjectAttributesCommand({ Bucket: BUCKET, Key, ObjectAttributes: ["ETag"] }),
          ),
        "InvalidRequest",
        400,
      );
      // Without its MD5 a read's key is still accepted (AWS answers 200).
      const noMd5 = rawCustomerHeaders(KEY_A);
      delete noMd5["x-amz-server-side-encryption-customer-key-md5"];
      const res = await signedFetch(srv, {
        method: "GET",
        path: `/${BUCKET}/${Key}`,
        headers: noMd5,
      });
      assertEquals(res.status, 200);
      assertEquals(new Uint8Array(await res.arrayBuffer()), data);
    });

    await t.step("a key sent for an object that has none, and SSE headers on a read", async () => {
      assertEquals(
        await rawStatus(srv, "GET", `/${BUCKET}/single/plain`, rawCustomerHeaders()),
        [400, "InvalidRequest"],
      );
      assertEquals(
        await rawStatus(srv, "GET", `/${BUCKET}/single/SSE-S3`, rawCustomerHeaders()),
        [400, "InvalidRequest"],
      );
      assertEquals(
        await rawStatus(srv, "GET", `/${BUCKET}/single/SSE-S3`, {
          "x-amz-server-side-encryption": "AES256",
        }),
        [400, "InvalidArgument"],
      );
    });

    await t.step("bad encryption input gets S3's error and stores nothing", async () => {
      const body = new TextEncoder().encode("never stored");
      const cases: [string, Record<string, string>, number, string][] = [
        ["unknown algorithm", { "x-amz-server-side-encryption": "AES512" }, 400, "InvalidArgument"],
        [
          "KMS key id without aws:kms",
          {
            "x-amz-server-side-encryption": "AES256",
            "x-amz-server-side-encryption-aws-kms-key-id": "testkey-1",
          },
          400,
          "InvalidArgument",
        ],
        [
          "context that is not base64 JSON",
          {
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-context": "bm90IGpzb24=",
          },
          400,
          "InvalidArgument",
        ],
        [
          "SSE-C with another method",
          { ...rawCustomerHeaders(), "x-amz-server-side-encryption": "AES256" },
          400,
          "InvalidArgument",
        ],
        ["wrong key MD5", rawCustomerHeaders(KEY_A, { md5: KEY_B.md5 }), 400, "InvalidArgument"],
        [
          "short key",
          rawCustomerHeaders(KEY_A, {
            b64: btoa("0123456789abcdef"),
            md5: "7hUEDm8Dqs7eI5dP+OfLIQ==",
          }),
          400,
          "InvalidArgument",
        ],
        [
          "malformed key",
          rawCustomerHeaders(KEY_A, { b64: "not base64!" }),
          400,
          "InvalidArgument",
        ],
        [
          "customer algorithm other than AES256",
          rawCustomerHeaders(KEY_A, { algorithm: "AES128" }),
          400,
          "InvalidEncryptionAlgorithmError",
        ],
        [
          "key without its MD5",
          {
            "x-amz-server-side-encryption-customer-algorithm": "AES256",
            "x-amz-server-side-encryption-customer-key": KEY_A.b64,
          },
          400,
          "InvalidArgument",
        ],
        [
          "key without the algorithm",
          {
            "x-amz-server-side-encryption-customer-key": KEY_A.b64,
            "x-amz-server-side-encryption-customer-key-md5": KEY_A.md5,
          },
          400,
          "InvalidArgument",
        ],
      ];
      for (const [i, [what, headers, status, code]] of cases.entries()) {
        const path = `/${BUCKET}/bad/${i}`;
        assertEquals(await rawStatus(srv, "PUT", path, headers, body), [status, code], what);
        assertEquals((await rawStatus(srv, "HEAD", path, {}))[0], 404, `${what}: nothing stored`);
      }
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "bad/" }));
      assertEquals(listed.KeyCount, 0);
    });

    await t.step(
      "multipart: bad input creates no upload; parts need the upload's key",
      async () => {
        const bad = await signedFetch(srv, {
          method: "POST",
          path: `/${BUCKET}/mp-bad`,
          query: { uploads: "" },
          headers: { "x-amz-server-side-encryption": "AES512" },
        });
        assertEquals([bad.status, await errorCode(bad)], [400, "InvalidArgument"]);
        const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
        assertEquals(uploads.Uploads ?? [], []);

        const up = await s3.send(
          new CreateMultipartUploadCommand({
            Bucket: BUCKET,
            Key: "mp-c",
            ...writeParams("SSE-C"),
          }),
        );
        assertEquals(echoed(up), expectedEcho("SSE-C"));
        const part = (extra: Record<string, string>) =>
          s3.send(
            new UploadPartCommand({
              Bucket: BUCKET,
              Key: "mp-c",
              UploadId: up.UploadId,
              PartNumber: 1,
              Body: data,
              ...extra,
            }),
          );
        await assertS3Error(() => part({}), "InvalidRequest", 400);
        await assertS3Error(() => part(readParams("SSE-C", KEY_B)), "InvalidArgument", 400);
        const parts = await s3.send(
          new ListPartsCommand({ Bucket: BUCKET, Key: "mp-c", UploadId: up.UploadId }),
        );
        assertEquals(parts.Parts ?? [], [], "no part was stored");
        const ok = await part(readParams("SSE-C"));
        assertEquals(echoed(ok), expectedEcho("SSE-C"), "UploadPart echoes the key's MD5");
        await s3.send(
          new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: "mp-c", UploadId: up.UploadId }),
        );
        // A part of a plain upload with a customer key is refused too.
        const plain = await s3.send(
          new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "mp-p" }),
        );
        await assertS3Error(
          () =>
            s3.send(
              new UploadPartCommand({
                Bucket: BUCKET,
                Key: "mp-p",
                UploadId: plain.UploadId,
                PartNumber: 1,
                Body: data,
                ...readParams("SSE-C"),
              }),
            ),
          "InvalidRequest",
          400,
        );
        await s3.send(
          new AbortMultipartUploadCommand({
            Bucket: BUCKET,
            Key: "mp-p",
            UploadId: plain.UploadId,
          }),
        );
      },
    );

    await t.step(
      "POST uploads: the encryption form fields, echoed; a bad one stores nothing",
      async () => {
        const post = (key: string, fields: Record<string, string>) =>
          postObject({
            endpoint: srv.endpoint,
            bucket: BUCKET,
            key,
            cred: { key: srv.accessKey, secret: srv.secretKey },
            fields,
            file: data,
          });
        const s3Post = await post("post/sse-s3", { "x-amz-server-side-encryption": "AES256" });
        assertEquals(s3Post.status, 204);
        assertEquals(s3Post.headers.get("x-amz-server-side-encryption"), "AES256");
        const cPost = await post("post/sse-c", rawCustomerHeaders());
        assertEquals(cPost.status, 204);
        assertEquals(cPost.headers.get("x-amz-server-side-encryption-customer-key-md5"), KEY_A.md5);
        assertEquals((await getBytes(s3, "post/sse-c", readParams("SSE-C"))).bytes, data);
        const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "post/sse-s3" }));
        assertEquals(echoed(head), "SSE-S3");
        const bad = await post("post/bad", rawCustomerHeaders(KEY_A, { md5: KEY_B.md5 }));
        assertEquals([bad.status, await errorCode(bad)], [400, "InvalidArgument"]);
        assertEquals((await rawStatus(srv, "HEAD", `/${BUCKET}/post/bad`, {}))[0], 404);
      },
    );

    await t.step("bucket default encryption: put, get, applied, overridden, deleted", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "enc-default" }));
      await assertS3Error(
        () => s3.send(new GetBucketEncryptionCommand({ Bucket: "enc-default" })),
        "ServerSideEncryptionConfigurationNotFoundError",
        404,
      );
      const before = await s3.send(
        new PutObjectCommand({ Bucket: "enc-default", Key: "before", Body: data }),
      );
      assertEquals(echoed(before), "plain");

      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: "enc-default",
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
          },
        }),
      );
      const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: "enc-default" }));
      assertEquals(
        got.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
          ?.SSEAlgorithm,
        "AES256",
      );
      const after = await s3.send(
        new PutObjectCommand({ Bucket: "enc-default", Key: "after", Body: data }),
      );
      assertEquals(echoed(after), "SSE-S3", "the default applies to a write without headers");
      const chosen = await s3.send(
        new PutObjectCommand({
          Bucket: "enc-default",
          Key: "chosen",
          Body: data,
          ...writeParams("SSE-C"),
        }),
      );
      assertEquals(echoed(chosen), expectedEcho("SSE-C"), "the request's own choice wins");
      const head = await s3.send(new HeadObjectCommand({ Bucket: "enc-default", Key: "before" }));
      assertEquals(echoed(head), "plain", "objects written before keep their encryption");

      // A bad document is refused and leaves the configuration in place.
      const bad = `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>` +
        `<SSEAlgorithm>AES512</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>` +
        `</ServerSideEncryptionConfiguration>`;
      const res = await signedFetch(srv, {
        method: "PUT",
        path: "/enc-default",
        query: { encryption: "" },
        headers: { "content-md5": createHash("md5").update(bad).digest("base64") },
        body: bad,
      });
      assertEquals([res.status, await errorCode(res)], [400, "MalformedXML"]);
      const still = await s3.send(new GetBucketEncryptionCommand({ Bucket: "enc-default" }));
      assertEquals(
        still.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
          ?.SSEAlgorithm,
        "AES256",
      );

      await s3.send(new DeleteBucketEncryptionCommand({ Bucket: "enc-default" }));
      await assertS3Error(
        () => s3.send(new GetBucketEncryptionCommand({ Bucket: "enc-default" })),
        "ServerSideEncryptionConfigurationNotFoundError",
        404,
      );
      const plainAgain = await s3.send(
        new PutObjectCommand({ Bucket: "enc-default", Key: "plain-again", Body: data }),
      );
      assertEquals(echoed(plainAgain), "plain");
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});

Deno.test("SSE-C over plain HTTP is refused unless the operator allows it; --encrypt-new-objects", async (t) => {
  const srv = await startServer({ args: ["--encrypt-new-objects"] });
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await t.step("SSE-C over http: InvalidRequest, nothing stored", async () => {
      await assertS3Error(
        () =>
          s3.send(
            new PutObjectCommand({ Bucket: BUCKET, Key: "c", Body: "x", ...writeParams("SSE-C") }),
          ),
        "InvalidRequest",
        400,
      );
      assertEquals((await rawStatus(srv, "HEAD", `/${BUCKET}/c`, {}))[0], 404);
    });
    await t.step("every new object that asks for nothing is SSE-S3", async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "p", Body: "x" }));
      assertEquals(echoed(put), "SSE-S3");
      const got = await getBytes(s3, "p");
      assertEquals(new TextDecoder().decode(got.bytes), "x");
      assertEquals(echoed(got.r), "SSE-S3");
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
