/**
 * Review findings on request edges, end to end: each step is a case that once answered wrongly.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";
import { rawSignedRequest } from "./_helpers/raw_http.ts";

const B = "review-edges";

Deno.test("S3 request edges (review)", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));

    await t.step(
      "a Content-Length over 5 GiB is EntityTooLarge before the body is read",
      async () => {
        const res = await rawSignedRequest(srv, {
          method: "PUT",
          path: `/${B}/huge`,
          headers: { "content-length": String(5 * 1024 ** 3 + 1) },
          waitMs: 5000,
        });
        assert(res !== null, "no answer while the body was still expected");
        assert(res.startsWith("HTTP/1.1 400"), res.split("\r\n")[0]);
        assert(res.includes("<Code>EntityTooLarge</Code>"), res);
        await assertS3Error(
          () => s3.send(new HeadObjectCommand({ Bucket: B, Key: "huge" })),
          "NotFound",
          404,
        );
      },
    );

    await t.step("XML character references to non-characters are MalformedXML", async () => {
      await s3.send(new PutObjectCommand({ Bucket: B, Key: "tagged", Body: "x" }));
      for (const ref of ["&#0;", "&#x1;", "&#xD800;", "&#xFFFF;", "&#x110000;"]) {
        const body =
          `<Tagging><TagSet><Tag><Key>k</Key><Value>a${ref}b</Value></Tag></TagSet></Tagging>`;
        const res = await signedFetch(srv, {
          method: "PUT",
          path: `/${B}/tagged`,
          query: { tagging: "" },
          body,
          headers: { "content-md5": createHash("md5").update(body).digest("base64") },
        });
        assertEquals([res.status, await errorCode(res)], [400, "MalformedXML"], ref);
      }
      const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "tagged" }));
      assertEquals(tags.TagSet, []);
      // Tab, line feed and astral characters are XML characters.
      const ok =
        "<Tagging><TagSet><Tag><Key>k</Key><Value>a&#9;&#x1F600;</Value></Tag></TagSet></Tagging>";
      const res = await signedFetch(srv, {
        method: "PUT",
        path: `/${B}/tagged`,
        query: { tagging: "" },
        body: ok,
        headers: { "content-md5": createHash("md5").update(ok).digest("base64") },
      });
      assertEquals(res.status, 200, await res.text());
    });

    await t.step("bucket configuration changes show at once on object requests", async () => {
      const rules = (id: string) =>
        s3.send(
          new PutBucketLifecycleConfigurationCommand({
            Bucket: B,
            LifecycleConfiguration: {
              Rules: [{
                ID: id,
                Status: "Enabled",
                Filter: { Prefix: "" },
                Expiration: { Days: 3 },
              }],
            },
          }),
        );
      const expiration = async () =>
        (await s3.send(new HeadObjectCommand({ Bucket: B, Key: "tagged" }))).Expiration;
      assertEquals(await expiration(), undefined);
      await rules("first");
      assert((await expiration())?.includes('rule-id="first"'));
      await rules("second");
      assert((await expiration())?.includes('rule-id="second"'));
      await s3.send(new DeleteBucketLifecycleCommand({ Bucket: B }));
      assertEquals(await expiration(), undefined);
      // A bucket created again under the same name starts without the old configuration.
      await rules("third");
      for (const Key of ["tagged", "huge"]) {
        await s3.send(new DeleteObjectCommand({ Bucket: B, Key }));
      }
      await s3.send(new DeleteBucketCommand({ Bucket: B }));
      await s3.send(new CreateBucketCommand({ Bucket: B }));
      await s3.send(new PutObjectCommand({ Bucket: B, Key: "tagged", Body: "x" }));
      assertEquals(await expiration(), undefined);
    });

    await t.step("ListObjectVersions reads max-keys like ListObjects", async () => {
      const big = await signedFetch(srv, {
        method: "GET",
        path: `/${B}`,
        query: { versions: "", "max-keys": "5000", "encoding-type": "url", prefix: "a b" },
      });
      const xml = await big.text();
      assertEquals(big.status, 200, xml);
      assert(xml.includes("<MaxKeys>5000</MaxKeys>"), xml);
      assert(xml.includes("<Prefix>a%20b</Prefix>"), xml);
      for (const bad of ["-1", "abc", "2147483648"]) {
        const res = await signedFetch(srv, {
          method: "GET",
          path: `/${B}`,
          query: { versions: "", "max-keys": bad },
        });
        assertEquals([res.status, await errorCode(res)], [400, "InvalidArgument"], bad);
      }
    });

    await t.step("listing a prefix: markers before, inside and past its range", async () => {
      for (const Key of ["p/1", "p/2", "p/3/x", "q/1", "r"]) {
        await s3.send(new PutObjectCommand({ Bucket: B, Key, Body: "x" }));
      }
      const list = async (query: Record<string, string>) => {
        const res = await signedFetch(srv, { method: "GET", path: `/${B}`, query });
        const xml = await res.text();
        assertEquals(res.status, 200, xml);
        return {
          keys: [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]),
          prefixes: [...xml.matchAll(/<Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g)].map((m) =>
            m[1]
          ),
          truncated: xml.includes("<IsTruncated>true</IsTruncated>"),
        };
      };
      assertEquals(await list({ prefix: "p/" }), {
        keys: ["p/1", "p/2", "p/3/x"],
        prefixes: [],
        truncated: false,
      });
      assertEquals(await list({ prefix: "p/", marker: "a" }), {
        keys: ["p/1", "p/2", "p/3/x"],
        prefixes: [],
        truncated: false,
      });
      assertEquals(await list({ prefix: "p/", marker: "p/1", delimiter: "/" }), {
        keys: ["p/2"],
        prefixes: ["p/3/"],
        truncated: false,
      });
      for (const marker of ["p/3/x", "p0", "q", "zzz"]) {
        assertEquals(await list({ prefix: "p/", marker }), {
          keys: [],
          prefixes: [],
          truncated: false,
        }, marker);
        assertEquals(
          await list({ "list-type": "2", prefix: "p/", "start-after": marker }),
          { keys: [], prefixes: [], truncated: false },
          marker,
        );
      }
      assertEquals(await list({ "list-type": "2", prefix: "p/", "max-keys": "2" }), {
        keys: ["p/1", "p/2"],
        prefixes: [],
        truncated: true,
      });
      // ListObjectVersions walks the same ranges.
      assertEquals(await list({ versions: "", prefix: "p/" }), {
        keys: ["p/1", "p/2", "p/3/x"],
        prefixes: [],
        truncated: false,
      });
      assertEquals(
        await list({ versions: "", prefix: "p/", "key-marker": "p/1", delimiter: "/" }),
        {
          keys: ["p/2"],
          prefixes: ["p/3/"],
          truncated: false,
        },
      );
      for (const marker of ["p/3/x", "p0", "zzz"]) {
        assertEquals(await list({ versions: "", prefix: "p/", "key-marker": marker }), {
          keys: [],
          prefixes: [],
          truncated: false,
        }, marker);
      }
    });

    await t.step("reserved bucket name prefixes and suffixes are InvalidBucketName", async () => {
      for (
        const Bucket of ["amzn-s3-demo-bucket", "sthree-configurator-x", "xn--abc", "abc--ol-s3"]
      ) {
        await assertS3Error(
          () => s3.send(new CreateBucketCommand({ Bucket })),
          "InvalidBucketName",
          400,
        );
      }
      await s3.send(new CreateBucketCommand({ Bucket: "amzn-s3-demo" }));
      await s3.send(new DeleteBucketCommand({ Bucket: "amzn-s3-demo" }));
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
