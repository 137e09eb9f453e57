/**
 * Error documents and bucket-level operations end to end: the error XML shape, HEAD errors
 * without a body, bucket naming and location rules, OPTIONS, NotImplemented subresources, and
 * virtual-host style addressing under `--domain`.
 */
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { bodyBytes, REGION, startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";

const locationXml = (lc: string) =>
  `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${lc}</LocationConstraint></CreateBucketConfiguration>`;

Deno.test("S3 errors and bucket operations", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  const raw = (method: string, path: string, init: Record<string, unknown> = {}) =>
    signedFetch(srv, { method, path, ...init });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "errs" }));

    await t.step("error documents carry Code, Message, Resource and RequestId", async () => {
      const res = await raw("GET", "/errs/missing%20key");
      assertEquals(res.status, 404);
      assertEquals(res.headers.get("content-type"), "application/xml");
      const requestId = res.headers.get("x-amz-request-id");
      assert(requestId);
      const xml = await res.text();
      assert(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>'), xml);
      assert(xml.includes("<Error><Code>NoSuchKey</Code><Message>"), xml);
      assert(xml.includes("<Resource>/errs/missing key</Resource>"), xml);
      assert(xml.includes(`<RequestId>${requestId}</RequestId>`), xml);
      const noBucket = await raw("GET", "/no-such-bucket/key");
      assertEquals(noBucket.status, 404);
      assertEquals(await errorCode(noBucket), "NoSuchBucket");
    });

    await t.step("HEAD errors have a status and request id but no body", async () => {
      for (const path of ["/errs/missing", "/no-such-bucket", "/no-such-bucket/key"]) {
        const res = await raw("HEAD", path);
        assertEquals(res.status, 404, path);
        assert(res.headers.get("x-amz-request-id"));
        assertEquals(await res.text(), "");
      }
      await assertS3Error(
        () => s3.send(new HeadBucketCommand({ Bucket: "no-such-bucket" })),
        "NotFound",
        404,
      );
      const ok = await raw("HEAD", "/errs");
      assertEquals(ok.status, 200);
      assertEquals(ok.headers.get("x-amz-bucket-region"), REGION);
    });

    await t.step("anonymous requests are AccessDenied", async () => {
      const res = await fetch(`${srv.endpoint}/errs/x`);
      assertEquals(res.status, 403);
      assertEquals(await errorCode(res), "AccessDenied");
    });

    await t.step("CreateBucket: naming rules are InvalidBucketName", async () => {
      const bad = [
        "ab",
        "a".repeat(64),
        "UpperCase",
        "under_score",
        "a..b",
        "a.-b",
        "-abc",
        "abc-",
        ".abc",
        "192.168.5.4",
        "xn--abc",
        "sthree-abc",
        "abc-s3alias",
        "abc--ol-s3",
      ];
      for (const name of bad) {
        const res = await raw("PUT", `/${name}`);
        assertEquals(res.status, 400, name);
        assertEquals(await errorCode(res), "InvalidBucketName", name);
      }
      for (const name of ["abc", "a".repeat(63), "a-b.c-d", "1bucket2"]) {
        const res = await raw("PUT", `/${name}`);
        assertEquals(res.status, 200, name);
        assertEquals(res.headers.get("location"), `/${name}`);
        await res.body?.cancel();
      }
    });

    await t.step("CreateBucket: an owned bucket again, and LocationConstraint", async () => {
      // us-east-1 answers 200 (AWS's legacy behaviour); other regions BucketAlreadyOwnedByYou
      // (tests/s3_corrections_test.ts).
      await s3.send(new CreateBucketCommand({ Bucket: "errs" }));
      const same = await raw("PUT", "/loc-same", { body: locationXml(REGION) });
      assertEquals(same.status, 200);
      await same.body?.cancel();
      const other = await raw("PUT", "/loc-other", { body: locationXml("eu-west-1") });
      assertEquals(other.status, 400);
      assertEquals(await errorCode(other), "IllegalLocationConstraintException");
      const bogus = await raw("PUT", "/loc-bogus", { body: locationXml("moon-base") });
      assertEquals(bogus.status, 400);
      assertEquals(await errorCode(bogus), "InvalidLocationConstraint");
      const malformed = await raw("PUT", "/loc-bad", { body: "<CreateBucketConfiguration>" });
      assertEquals(malformed.status, 400);
      assertEquals(await errorCode(malformed), "MalformedXML");
      for (const name of ["loc-other", "loc-bogus", "loc-bad"]) {
        assertEquals((await raw("HEAD", `/${name}`)).status, 404, `${name} not created`);
      }
      const loc = await s3.send(new GetBucketLocationCommand({ Bucket: "loc-same" }));
      // us-east-1 is reported as an empty LocationConstraint.
      assertEquals(loc.LocationConstraint ?? "", REGION === "us-east-1" ? "" : REGION);
      const list = await s3.send(new ListBucketsCommand({}));
      const names = list.Buckets?.map((b) => b.Name) ?? [];
      assert(names.includes("loc-same") && names.includes("errs"));
      assertEquals([...names].sort(), names, "ListBuckets is sorted by name");
    });

    await t.step("ListBuckets pages with max-buckets and continuation tokens", async () => {
      const all = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name) ?? [];
      assert(all.length >= 5);
      const seen: string[] = [];
      let token: string | undefined;
      for (let i = 0; i < 20; i++) {
        const page = await s3.send(
          new ListBucketsCommand({ MaxBuckets: 2, ContinuationToken: token }),
        );
        assert((page.Buckets?.length ?? 0) <= 2);
        seen.push(...(page.Buckets?.map((b) => b.Name!) ?? []));
        token = page.ContinuationToken;
        if (!token) break;
      }
      assertEquals(seen, all);
      const prefixed = await s3.send(new ListBucketsCommand({ Prefix: "loc-" }));
      assertEquals(prefixed.Buckets?.map((b) => b.Name), ["loc-same"]);
      assertEquals(prefixed.Prefix, "loc-");
      const bad = await raw("GET", "/", { query: { "max-buckets": "0" } });
      assertEquals(bad.status, 400);
      assertEquals(await errorCode(bad), "InvalidArgument");
    });

    await t.step("DeleteBucket: BucketNotEmpty, then 204, then NoSuchBucket", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "to-delete" }));
      await s3.send(new PutObjectCommand({ Bucket: "to-delete", Key: "k", Body: "x" }));
      await assertS3Error(
        () => s3.send(new DeleteBucketCommand({ Bucket: "to-delete" })),
        "BucketNotEmpty",
        409,
      );
      await s3.send(new DeleteObjectCommand({ Bucket: "to-delete", Key: "k" }));
      const res = await raw("DELETE", "/to-delete");
      assertEquals(res.status, 204);
      await assertS3Error(
        () => s3.send(new DeleteBucketCommand({ Bucket: "to-delete" })),
        "NoSuchBucket",
        404,
      );
    });

    await t.step(
      "OPTIONS is answered without credentials, by the bucket's CORS rules",
      async () => {
        const res = await fetch(`${srv.endpoint}/errs/some/key`, {
          method: "OPTIONS",
          headers: {
            origin: "https://example.test",
            "access-control-request-method": "PUT",
            "access-control-request-headers": "content-type,x-amz-date",
          },
        });
        // No CORS configuration: refused, and no Origin is reflected (tests/s3_cors_test.ts).
        assertEquals(res.status, 403);
        assertEquals(res.headers.get("access-control-allow-origin"), null);
        assertEquals(await errorCode(res), "AccessForbidden");
      },
    );

    await t.step("unknown subresources answer NotImplemented (501), never 500", async () => {
      const cases: [string, string, Record<string, string>][] = [
        ["GET", "/errs", { analytics: "" }],
        ["GET", "/errs", { analytics: "", id: "x" }],
        ["GET", "/errs/key", { inventory: "", id: "x" }],
        ["GET", "/errs", { metrics: "" }],
        ["GET", "/errs", { "intelligent-tiering": "" }],
        ["GET", "/errs/key", { torrent: "" }],
        ["POST", "/errs/key", { restore: "" }],
        ["POST", "/errs/key", { select: "", "select-type": "2" }],
      ];
      for (const [method, path, query] of cases) {
        const res = await raw(method, path, { query });
        assertEquals(res.status, 501, `${method} ${path} ${JSON.stringify(query)}`);
        assertEquals(await errorCode(res), "NotImplemented");
      }
      // A subresource with the wrong method must not fall through to DeleteObject/DeleteBucket.
      await s3.send(new PutObjectCommand({ Bucket: "errs", Key: "kept", Body: "x" }));
      for (
        const [path, query] of [["/errs/kept", { acl: "" }], ["/errs", { logging: "" }]] as const
      ) {
        const del = await raw("DELETE", path, { query });
        assertEquals(del.status, 501, `DELETE ${path}`);
        await del.body?.cancel();
      }
      assertEquals((await raw("HEAD", "/errs/kept")).status, 200);
      assertEquals((await raw("HEAD", "/errs")).status, 200);
      // Ordinary unknown query parameters are ignored, as S3 does.
      const res = await raw("GET", "/errs", { query: { "x-id": "ListObjects", foo: "bar" } });
      assertEquals(res.status, 200);
      await res.body?.cancel();
    });

    await t.step("wrong methods are MethodNotAllowed", async () => {
      const res = await raw("POST", "/errs/key");
      assertEquals(res.status, 405);
      assertEquals(await errorCode(res), "MethodNotAllowed");
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});

Deno.test("S3 virtual-host style addressing under --domain (server region eu-west-1)", async (t) => {
  const region = "eu-west-1";
  const srv = await startServer({ args: ["--domain", "s3.test", "--region", region] });
  // `bucket.s3.test` cannot be resolved here: send every request to the server as a proxy,
  // so the Host header (and the signature over it) stays the virtual-host name.
  const proxy = Deno.createHttpClient({ proxy: { url: srv.endpoint } });
  const vhost = new S3Client({
    endpoint: `http://s3.test:${srv.port}`,
    region,
    forcePathStyle: false,
    credentials: { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
    maxAttempts: 1,
    requestHandler: new FetchHttpHandler({
      requestInit: () => ({ client: proxy }) as RequestInit,
    }),
  });
  const pathStyle = new S3Client({
    endpoint: srv.endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
    maxAttempts: 1,
  });
  try {
    await t.step("bucket and object operations through bucket.s3.test", async () => {
      await vhost.send(new CreateBucketCommand({ Bucket: "vhost-bucket" }));
      await vhost.send(new HeadBucketCommand({ Bucket: "vhost-bucket" }));
      const key = "dir/a key+plus%.txt";
      await vhost.send(new PutObjectCommand({ Bucket: "vhost-bucket", Key: key, Body: "hello" }));
      const got = await vhost.send(new GetObjectCommand({ Bucket: "vhost-bucket", Key: key }));
      assertEquals(new TextDecoder().decode(await bodyBytes(got.Body)), "hello");
      const list = await vhost.send(
        new ListObjectsV2Command({ Bucket: "vhost-bucket", Delimiter: "/" }),
      );
      assertEquals(list.CommonPrefixes?.map((p) => p.Prefix), ["dir/"]);
      await vhost.send(
        new CopyObjectCommand({
          Bucket: "vhost-bucket",
          Key: "copy",
          CopySource: `vhost-bucket/${encodeURIComponent(key)}`,
        }),
      );
      const head = await vhost.send(new HeadObjectCommand({ Bucket: "vhost-bucket", Key: "copy" }));
      assertEquals(head.ContentLength, 5);
      await assertS3Error(
        () => vhost.send(new GetObjectCommand({ Bucket: "vhost-bucket", Key: "missing" })),
        "NoSuchKey",
        404,
      );
      const del = await vhost.send(
        new DeleteObjectsCommand({
          Bucket: "vhost-bucket",
          Delete: { Objects: [{ Key: key }, { Key: "copy" }] },
        }),
      );
      assertEquals(del.Deleted?.length, 2);
    });

    await t.step("buckets live in the server's region", async () => {
      const loc = await vhost.send(new GetBucketLocationCommand({ Bucket: "vhost-bucket" }));
      assertEquals(loc.LocationConstraint, region);
      const head = await vhost.send(new HeadBucketCommand({ Bucket: "vhost-bucket" }));
      assertEquals(head.BucketRegion, region);
      await vhost.send(
        new CreateBucketCommand({
          Bucket: "vhost-located",
          CreateBucketConfiguration: { LocationConstraint: region },
        }),
      );
      await assertS3Error(
        () =>
          vhost.send(
            new CreateBucketCommand({
              Bucket: "vhost-elsewhere",
              CreateBucketConfiguration: { LocationConstraint: "us-west-2" },
            }),
          ),
        "IllegalLocationConstraintException",
        400,
      );
    });

    await t.step("path style keeps working on the same server", async () => {
      await pathStyle.send(new PutObjectCommand({ Bucket: "vhost-bucket", Key: "p", Body: "x" }));
      const list = await vhost.send(new ListObjectsV2Command({ Bucket: "vhost-bucket" }));
      assertEquals(list.Contents?.map((c) => c.Key), ["p"]);
      const buckets = await vhost.send(new ListBucketsCommand({}));
      assertEquals(buckets.Buckets?.map((b) => b.Name), ["vhost-bucket", "vhost-located"]);
      assertEquals(buckets.Buckets?.map((b) => b.BucketRegion), [region, region]);
    });
  } finally {
    vhost.destroy();
    pathStyle.destroy();
    proxy.close();
    await srv.stop();
  }
});
