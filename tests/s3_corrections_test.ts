/**
 * The smaller S3 corrections a conformance suite found (issue 15, item 9), each against what AWS
 * answers: re-creating an owned bucket, non-ASCII user metadata under SigV4, an unsigned PUT with
 * `Expect: 100-continue`, malformed vs. mismatched checksums (headers and POST form fields),
 * object lock default retention bounds, an empty continuation token, URL-encoded listing fields,
 * chunked PUT bodies without Content-Length, duplicate Complete parts, UploadPartCopy ranges,
 * multi-value Content-Encoding, sorted tag sets, and delete-marker headers on 404/405.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";
import { rawSignedRequest } from "./_helpers/raw_http.ts";
import { run } from "./_helpers/cli.ts";
import { crc32Base64 } from "./_helpers/objects.ts";
import { postObject } from "./_helpers/post_form.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const B = "corrections";
const enc = new TextEncoder();

/** A string whose UTF-16 units are the UTF-8 bytes of `s`: how fetch puts raw bytes on the wire. */
const utf8Wire = (s: string) => String.fromCharCode(...enc.encode(s));
Deno.test("S3 corrections found by the conformance suite", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));

    await t.step(
      "(a) re-creating an owned bucket in us-east-1 is 200; an ACL change is BucketAlreadyExists",
      async () => {
        const again = await signedFetch(srv, { method: "PUT", path: `/${B}` });
        assertEquals(again.status, 200);
        await again.body?.cancel();
        const priv = await signedFetch(srv, {
          method: "PUT",
          path: `/${B}`,
          headers: { "x-amz-acl": "private" },
        });
        assertEquals(priv.status, 200);
        await priv.body?.cancel();
        for (
          const h of <Record<string, string>[]> [
            { "x-amz-acl": "public-read" },
            { "x-amz-grant-read": 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' },
          ]
        ) {
          const res = await signedFetch(srv, { method: "PUT", path: `/${B}`, headers: h });
          assertEquals([res.status, await errorCode(res)], [409, "BucketAlreadyExists"]);
        }
        // The comparison is with the bucket's stored ACL: a public-read bucket re-created with
        // public-read is 200, re-created with no ACL (private) is a change.
        const pub = { "x-amz-acl": "public-read" };
        const made = await signedFetch(srv, { method: "PUT", path: `/${B}-pub`, headers: pub });
        assertEquals(made.status, 200);
        await made.body?.cancel();
        const same = await signedFetch(srv, { method: "PUT", path: `/${B}-pub`, headers: pub });
        assertEquals(same.status, 200);
        await same.body?.cancel();
        const bare = await signedFetch(srv, { method: "PUT", path: `/${B}-pub` });
        assertEquals([bare.status, await errorCode(bare)], [409, "BucketAlreadyExists"]);
      },
    );

    await t.step(
      "(b) non-ASCII user metadata verifies under SigV4 and comes back as S3 returns it",
      async () => {
        // Signed as UTF-8 text; sent as UTF-8 bytes (the SDKs, botocore, Go, curl) or as Latin-1
        // bytes (fetch for a string within U+00FF). S3 returns text within Latin-1 one byte per
        // character, and RFC 2047-encodes text beyond it.
        const cases = [
          {
            key: "meta-utf8",
            signed: "Hello Wörld 日本",
            sent: utf8Wire("Hello Wörld 日本"),
            back: `=?UTF-8?B?${btoa(utf8Wire("Hello Wörld 日本"))}?=`,
          },
          {
            key: "meta-utf8-latin1",
            signed: "Hello World\u00e9",
            sent: utf8Wire("Hello World\u00e9"),
            back: "Hello World\u00e9",
          },
          {
            key: "meta-latin1",
            signed: "Hello World\u00e9",
            sent: "Hello World\u00e9",
            back: "Hello World\u00e9",
          },
        ];
        for (const c of cases) {
          const res = await signedFetch(
            srv,
            {
              method: "PUT",
              path: `/${B}/${c.key}`,
              headers: { "x-amz-meta-m": c.signed },
              body: "x",
            },
            { headers: { "x-amz-meta-m": c.sent } },
          );
          assertEquals(res.status, 200, await res.text());
          const head = await signedFetch(srv, { method: "HEAD", path: `/${B}/${c.key}` });
          assertEquals(head.headers.get("x-amz-meta-m"), c.back, c.key);
        }
        // The SDK signs the text and sends its UTF-8 bytes.
        await s3.send(
          new PutObjectCommand({ Bucket: B, Key: "meta-sdk", Body: "x", Metadata: { m: "café" } }),
        );
        const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "meta-sdk" }));
        assertEquals(h.Metadata?.m, "café");
        // A tampered value still fails.
        const bad = await signedFetch(
          srv,
          { method: "PUT", path: `/${B}/meta-bad`, headers: { "x-amz-meta-m": "café" }, body: "x" },
          { headers: { "x-amz-meta-m": utf8Wire("cafè") } },
        );
        assertEquals([bad.status, await errorCode(bad)], [403, "SignatureDoesNotMatch"]);
      },
    );

    await t.step(
      "(c) an unsigned PUT with Expect: 100-continue is refused without its body",
      async () => {
        // Deno's HTTP server answers "100 Continue" as soon as it has read a request head,
        // before any handler runs, so the 403 cannot come first; it comes without the body
        // being sent, and the connection is closed after it.
        const u = new URL(srv.endpoint);
        const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
        const timer = setTimeout(() => conn.close(), 10_000);
        let answer = "";
        try {
          await conn.write(enc.encode(
            `PUT /${B}/anon HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: 10\r\n` +
              `Expect: 100-continue\r\n\r\n`,
          ));
          const buf = new Uint8Array(16 * 1024);
          for (let n; !answer.includes("HTTP/1.1 403") && (n = await conn.read(buf)) !== null;) {
            answer += new TextDecoder().decode(buf.subarray(0, n));
          }
        } catch {
          /* closed by the timer */
        } finally {
          clearTimeout(timer);
          try {
            conn.close();
          } catch { /* already closed */ }
        }
        assert(answer.includes("HTTP/1.1 403"), answer);
        assert(/connection: close/i.test(answer), answer);
      },
    );

    await t.step("(d) a malformed checksum is InvalidRequest, a mismatch BadDigest", async () => {
      for (const v of ["not base64!", "AAAA", "AAAAAAAA"]) {
        const res = await signedFetch(srv, {
          method: "PUT",
          path: `/${B}/ck`,
          headers: { "x-amz-checksum-crc32": v },
          body: "hello",
        });
        assertEquals([res.status, await errorCode(res)], [400, "InvalidRequest"], v);
      }
      const res = await signedFetch(srv, {
        method: "PUT",
        path: `/${B}/ck`,
        headers: { "x-amz-checksum-crc32": crc32Base64(enc.encode("other")) },
        body: "hello",
      });
      assertEquals([res.status, await errorCode(res)], [400, "BadDigest"]);
      await assertS3Error(
        () => s3.send(new HeadObjectCommand({ Bucket: B, Key: "ck" })),
        "NotFound",
      );
    });

    await t.step("(e) POST uploads take x-amz-checksum-* fields and verify them", async () => {
      const post = (key: string, checksum: string) =>
        postObject({
          endpoint: srv.endpoint,
          bucket: B,
          key,
          cred: { key: srv.accessKey, secret: srv.secretKey },
          fields: { "x-amz-checksum-crc32": checksum },
          file: "posted",
        });
      const good = crc32Base64(enc.encode("posted"));
      const ok = await post("post-ck", good);
      assertEquals(ok.status, 204, await ok.text());
      const h = await s3.send(
        new HeadObjectCommand({ Bucket: B, Key: "post-ck", ChecksumMode: "ENABLED" }),
      );
      assertEquals(h.ChecksumCRC32, good);
      const bad = await post("post-bad", crc32Base64(enc.encode("x")));
      assertEquals([bad.status, await errorCode(bad)], [400, "BadDigest"]);
      const malformed = await post("post-bad", "AAAA");
      assertEquals([malformed.status, await errorCode(malformed)], [400, "InvalidRequest"]);
      await assertS3Error(
        () => s3.send(new HeadObjectCommand({ Bucket: B, Key: "post-bad" })),
        "NotFound",
      );
    });

    await t.step(
      "(f) bad default retention: InvalidArgument, both given: MalformedXML",
      async () => {
        await s3.send(
          new CreateBucketCommand({ Bucket: "locked", ObjectLockEnabledForBucket: true }),
        );
        const put = (r: { Days?: number; Years?: number }) =>
          s3.send(
            new PutObjectLockConfigurationCommand({
              Bucket: "locked",
              ObjectLockConfiguration: {
                ObjectLockEnabled: "Enabled",
                Rule: { DefaultRetention: { Mode: "GOVERNANCE", ...r } },
              },
            }),
          );
        for (
          const r of [{ Days: 0 }, { Days: -1 }, { Years: 0 }, { Years: -1 }, { Days: 36501 }, {
            Years: 101,
          }]
        ) {
          await assertS3Error(() => put(r), "InvalidArgument", 400);
        }
        await assertS3Error(() => put({ Days: 1, Years: 1 }), "MalformedXML", 400);
        await put({ Days: 36500 });
      },
    );

    for (const k of ["bar", "baz", "foo", "quxx", "a b/c", "a b/d"]) {
      await s3.send(new PutObjectCommand({ Bucket: B, Key: `list/${k}`, Body: "x" }));
    }

    await t.step("(g) an empty continuation token lists from the start", async () => {
      const r = await s3.send(
        new ListObjectsV2Command({ Bucket: B, Prefix: "list/", ContinuationToken: "" }),
      );
      assertEquals(r.ContinuationToken, "");
      assertEquals(r.IsTruncated, false);
      assertEquals(r.Contents?.length, 6);
    });

    await t.step(
      "(h) encoding-type=url encodes Prefix, Delimiter, StartAfter, Marker, NextMarker",
      async () => {
        const v2 = await signedFetch(srv, {
          method: "GET",
          path: `/${B}`,
          query: {
            "list-type": "2",
            prefix: "list/a b/",
            delimiter: "é",
            "start-after": "list/a b/",
            "encoding-type": "url",
          },
        });
        const x2 = await v2.text();
        assert(x2.includes("<Prefix>list/a%20b/</Prefix>"), x2);
        assert(x2.includes("<Delimiter>%C3%A9</Delimiter>"), x2);
        assert(x2.includes("<StartAfter>list/a%20b/</StartAfter>"), x2);
        assert(x2.includes("<Key>list/a%20b/c</Key>"), x2);
        const v1 = await signedFetch(srv, {
          method: "GET",
          path: `/${B}`,
          query: {
            prefix: "list/a b/",
            delimiter: "/",
            marker: "list/a b/",
            "max-keys": "1",
            "encoding-type": "url",
          },
        });
        const x1 = await v1.text();
        assert(x1.includes("<Prefix>list/a%20b/</Prefix>"), x1);
        assert(x1.includes("<Marker>list/a%20b/</Marker>"), x1);
        assert(x1.includes("<NextMarker>list/a%20b/c</NextMarker>"), x1);
      },
    );

    await t.step("(i) a chunked PUT without Content-Length is stored", async () => {
      const res = await rawSignedRequest(srv, {
        method: "PUT",
        path: `/${B}/chunked`,
        headers: { "transfer-encoding": "chunked" },
        body: enc.encode("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
        waitMs: 5000,
      });
      assert(res !== null && res.startsWith("HTTP/1.1 200"), res?.split("\r\n")[0]);
      const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: "chunked" }));
      assertEquals(await got.Body!.transformToString(), "hello world");
    });

    await t.step("(j) duplicate part numbers in Complete are InvalidPartOrder", async () => {
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: B, Key: "mp" }),
      );
      const p = await s3.send(
        new UploadPartCommand({ Bucket: B, Key: "mp", UploadId, PartNumber: 1, Body: "part" }),
      );
      await assertS3Error(
        () =>
          s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: B,
              Key: "mp",
              UploadId,
              MultipartUpload: {
                Parts: [{ PartNumber: 1, ETag: p.ETag }, { PartNumber: 1, ETag: p.ETag }],
              },
            }),
          ),
        "InvalidPartOrder",
        400,
      );
    });

    await t.step(
      "(k) UploadPartCopy ranges: malformed and past the source are InvalidArgument",
      async () => {
        await s3.send(new PutObjectCommand({ Bucket: B, Key: "src5", Body: "12345" }));
        const { UploadId } = await s3.send(
          new CreateMultipartUploadCommand({ Bucket: B, Key: "mpc" }),
        );
        const copy = (range: string) =>
          s3.send(
            new UploadPartCopyCommand({
              Bucket: B,
              Key: "mpc",
              UploadId,
              PartNumber: 1,
              CopySource: `${B}/src5`,
              CopySourceRange: range,
            }),
          );
        for (
          const r of [
            "0-2",
            "bytes=0",
            "bytes=hello-world",
            "bytes=0-bar",
            "bytes=0-2,3-5",
            "bytes=2-1",
          ]
        ) {
          await assertS3Error(() => copy(r), "InvalidArgument", 400);
        }
        await assertS3Error(() => copy("bytes=0-21"), "InvalidArgument", 400);
        await copy("bytes=0-4");
      },
    );

    await t.step("(l) multi-value Content-Encoding is kept as sent, less aws-chunked", async () => {
      const cases: [string, string | null][] = [
        ["gzip, br", "gzip, br"],
        ["gzip,br", "gzip,br"],
        ["gzip, aws-chunked", "gzip"],
        ["aws-chunked, gzip", "gzip"],
        ["aws-chunked", null],
      ];
      for (const [sent, stored] of cases) {
        const res = await signedFetch(srv, {
          method: "PUT",
          path: `/${B}/ce`,
          headers: { "content-encoding": sent },
          body: "x",
        });
        assertEquals(res.status, 200);
        await res.body?.cancel();
        const head = await signedFetch(srv, { method: "HEAD", path: `/${B}/ce` });
        assertEquals(head.headers.get("content-encoding"), stored, sent);
      }
    });

    await t.step("(m) tag sets come back sorted by key", async () => {
      const TagSet = [{ Key: "zeta", Value: "1" }, { Key: "Alpha", Value: "2" }, {
        Key: "mid",
        Value: "3",
      }, { Key: "alpha", Value: "4" }];
      const sorted = ["Alpha", "alpha", "mid", "zeta"];
      await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: "src5", Tagging: { TagSet } }));
      const o = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "src5" }));
      assertEquals(o.TagSet?.map((t) => t.Key), sorted);
      await s3.send(
        new PutObjectCommand({
          Bucket: B,
          Key: "tagged",
          Body: "x",
          Tagging: "zeta=1&alpha=2&mid=3",
        }),
      );
      const h = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "tagged" }));
      assertEquals(h.TagSet?.map((t) => t.Key), ["alpha", "mid", "zeta"]);
      await s3.send(new PutBucketTaggingCommand({ Bucket: B, Tagging: { TagSet } }));
      const b = await s3.send(new GetBucketTaggingCommand({ Bucket: B }));
      assertEquals(b.TagSet?.map((t) => t.Key), sorted);
    });

    await t.step(
      "(n) GET/HEAD on a delete marker carry x-amz-delete-marker and the version id",
      async () => {
        await s3.send(new CreateBucketCommand({ Bucket: "versioned" }));
        await s3.send(
          new PutBucketVersioningCommand({
            Bucket: "versioned",
            VersioningConfiguration: { Status: "Enabled" },
          }),
        );
        await s3.send(new PutObjectCommand({ Bucket: "versioned", Key: "k", Body: "x" }));
        const del = await signedFetch(srv, { method: "DELETE", path: "/versioned/k" });
        assertEquals(del.status, 204);
        const marker = del.headers.get("x-amz-version-id");
        assert(marker, "no marker version id");
        for (const method of ["GET", "HEAD"]) {
          const res = await signedFetch(srv, { method, path: "/versioned/k" });
          assertEquals(res.status, 404, method);
          assertEquals(res.headers.get("x-amz-delete-marker"), "true", method);
          assertEquals(res.headers.get("x-amz-version-id"), marker, method);
          if (method === "GET") assertEquals(await errorCode(res), "NoSuchKey");
          else await res.body?.cancel();
          const byId = await signedFetch(srv, {
            method,
            path: "/versioned/k",
            query: { versionId: marker },
          });
          assertEquals(byId.status, 405, method);
          assertEquals(byId.headers.get("x-amz-delete-marker"), "true", method);
          assertEquals(byId.headers.get("x-amz-version-id"), marker, method);
          assert(byId.headers.get("last-modified"), "no Last-Modified on the 405");
          if (method === "GET") assertEquals(await errorCode(byId), "MethodNotAllowed");
          else await byId.body?.cancel();
        }
      },
    );
  } finally {
    s3.destroy();
    await srv.stop();
  }
});

Deno.test("S3 corrections: re-creating an owned bucket outside us-east-1", async () => {
  const srv = await startServer({ args: ["--region", "eu-west-1"] });
  const s3 = new S3Client({
    endpoint: srv.endpoint,
    region: "eu-west-1",
    forcePathStyle: true,
    credentials: { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
    maxAttempts: 1,
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "owned" }));
    await assertS3Error(
      () => s3.send(new CreateBucketCommand({ Bucket: "owned" })),
      "BucketAlreadyOwnedByYou",
      409,
    );
    await assertS3Error(
      () => s3.send(new CreateBucketCommand({ Bucket: "owned", ACL: "public-read" })),
      "BucketAlreadyExists",
      409,
    );
  } finally {
    s3.destroy();
    await srv.stop();
  }
});

const BOTO3_METADATA = `
import json, sys
import boto3
from botocore.config import Config

endpoint, access_key, secret_key = sys.argv[1:4]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id=access_key,
    aws_secret_access_key=secret_key,
    region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
)
s3.create_bucket(Bucket="boto-meta")
# botocore refuses non-ASCII Metadata, so the header goes in as s3-tests sets it.
def set_meta(params, **kwargs):
    params["headers"]["x-amz-meta-m"] = "Hello World\\u00e9"
s3.meta.events.register("before-call.s3.PutObject", set_meta)
s3.put_object(Bucket="boto-meta", Key="k", Body=b"x")
print(json.dumps({"m": s3.head_object(Bucket="boto-meta", Key="k")["Metadata"]["m"]}))
`;

const boto3 = await findProgram("boto3");

Deno.test(needs(boto3, {
  name: "S3 corrections: boto3 signs and reads back non-ASCII metadata",
  fn: async (t) => {
    const srv = await startServer();
    const dir = await Deno.makeTempDir({ prefix: "maxiofs-boto-meta-" });
    try {
      await Deno.writeTextFile(`${dir}/meta.py`, BOTO3_METADATA);
      for (const py of boto3.installed) {
        await t.step(`${py.version} (${py.path})`, async () => {
          const res = await run(py.path, [
            `${dir}/meta.py`,
            srv.endpoint,
            srv.accessKey,
            srv.secretKey,
          ], {
            env: { AWS_CONFIG_FILE: `${dir}/none`, AWS_EC2_METADATA_DISABLED: "true" },
          });
          assertEquals(JSON.parse(res.stdout.trim().split("\n").at(-1)!), {
            m: "Hello World\u00e9",
          });
          await signedFetch(srv, { method: "DELETE", path: "/boto-meta/k" }).then((r) =>
            r.body?.cancel()
          );
          await signedFetch(srv, { method: "DELETE", path: "/boto-meta" }).then((r) =>
            r.body?.cancel()
          );
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await srv.stop();
    }
  },
}));
