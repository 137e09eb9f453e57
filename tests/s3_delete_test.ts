/** DeleteObjects end to end: results, quiet mode, integrity headers, malformed requests. */
import { createHash } from "node:crypto";
import { assert, assertEquals } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";

const B = "multi-delete";
const md5b64 = (d: string) => createHash("md5").update(d).digest("base64");
const sha256b64 = (d: string) => createHash("sha256").update(d).digest("base64");
const escape = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

function deleteXml(keys: string[], quiet = false): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${
    quiet ? "<Quiet>true</Quiet>" : ""
  }${keys.map((k) => `<Object><Key>${escape(k)}</Key></Object>`).join("")}</Delete>`;
}

Deno.test("S3 DeleteObjects", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  const post = (body: string, headers: Record<string, string>) =>
    signedFetch(srv, { method: "POST", path: `/${B}`, query: { delete: "" }, body, headers });
  const keysLeft = async () =>
    (await s3.send(new ListObjectsV2Command({ Bucket: B }))).Contents?.map((c) => c.Key) ?? [];
  const putAll = async (keys: string[]) => {
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: k }));
  };
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));

    await t.step("the SDK deletes several keys, missing ones included", async () => {
      await putAll(["a", "b/c", "d & <e>", "ü ö"]);
      const res = await s3.send(
        new DeleteObjectsCommand({
          Bucket: B,
          Delete: {
            Objects: [{ Key: "a" }, { Key: "b/c" }, { Key: "d & <e>" }, { Key: "never" }],
          },
        }),
      );
      assertEquals(res.Deleted?.map((d) => d.Key).sort(), ["a", "b/c", "d & <e>", "never"]);
      assertEquals(res.Errors, undefined);
      assertEquals(await keysLeft(), ["ü ö"]);
    });

    await t.step("quiet mode returns only errors", async () => {
      await putAll(["q1", "q2"]);
      const res = await s3.send(
        new DeleteObjectsCommand({
          Bucket: B,
          Delete: { Objects: [{ Key: "q1" }, { Key: "q2" }], Quiet: true },
        }),
      );
      assertEquals(res.Deleted, undefined);
      assertEquals(res.Errors, undefined);
      assertEquals(await keysLeft(), ["ü ö"]);
    });

    await t.step("Content-MD5 or an x-amz-checksum-* header is required and checked", async () => {
      await putAll(["m"]);
      const body = deleteXml(["m"]);
      const none = await post(body, {});
      assertEquals(none.status, 400);
      assertEquals(await errorCode(none), "InvalidRequest");
      const wrong = await post(body, { "content-md5": md5b64("other") });
      assertEquals(wrong.status, 400);
      assertEquals(await errorCode(wrong), "BadDigest");
      const malformed = await post(body, { "content-md5": "%%%" });
      assertEquals(malformed.status, 400);
      assertEquals(await errorCode(malformed), "InvalidDigest");
      const wrongSha = await post(body, { "x-amz-checksum-sha256": sha256b64("other") });
      assertEquals(wrongSha.status, 400);
      assertEquals(await errorCode(wrongSha), "BadDigest");
      assert((await keysLeft()).includes("m"), "nothing deleted by rejected requests");
      const ok = await post(body, { "x-amz-checksum-sha256": sha256b64(body) });
      assertEquals(ok.status, 200);
      const xml = await ok.text();
      assert(xml.includes("<DeleteResult"), xml);
      assert(xml.includes("<Deleted><Key>m</Key></Deleted>"), xml);
      assert(!(await keysLeft()).includes("m"));
      const okMd5 = await post(body, { "content-md5": md5b64(body) });
      assertEquals(okMd5.status, 200);
      await okMd5.body?.cancel();
    });

    await t.step("malformed XML, no keys and more than 1000 keys are MalformedXML", async () => {
      await putAll(["keep"]);
      const bodies = [
        "<Delete><Object><Key>keep</Key></Object>",
        "not xml at all",
        "<Delete></Delete>",
        "<Delete><Object><VersionId>x</VersionId></Object></Delete>",
        "<Remove><Object><Key>keep</Key></Object></Remove>",
        '<!DOCTYPE x [<!ENTITY e "keep">]><Delete><Object><Key>&e;</Key></Object></Delete>',
        "<Delete><Quiet>maybe</Quiet><Object><Key>keep</Key></Object></Delete>",
        deleteXml(Array.from({ length: 1001 }, (_, i) => `k${i}`)),
      ];
      for (const body of bodies) {
        const res = await post(body, { "content-md5": md5b64(body) });
        assertEquals(res.status, 400, body.slice(0, 60));
        assertEquals(await errorCode(res), "MalformedXML", body.slice(0, 60));
      }
      assert((await keysLeft()).includes("keep"));
    });

    await t.step("exactly 1000 keys in one request", async () => {
      const keys = Array.from({ length: 1000 }, (_, i) => `many/${String(i).padStart(4, "0")}`);
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = w; i < 120; i += 8) {
            await s3.send(new PutObjectCommand({ Bucket: B, Key: keys[i], Body: "x" }));
          }
        }),
      );
      const body = deleteXml(keys);
      const res = await post(body, { "content-md5": md5b64(body) });
      assertEquals(res.status, 200);
      const xml = await res.text();
      assertEquals(xml.match(/<Deleted>/g)?.length, 1000);
      const left = await keysLeft();
      assert(!left.some((k) => k!.startsWith("many/")), "all deleted");
    });

    await t.step("DeleteObjects on a missing bucket is NoSuchBucket", async () => {
      const body = deleteXml(["x"]);
      const res = await signedFetch(srv, {
        method: "POST",
        path: "/no-such-bucket-here",
        query: { delete: "" },
        body,
        headers: { "content-md5": md5b64(body) },
      });
      assertEquals(res.status, 404);
      assertEquals(await errorCode(res), "NoSuchBucket");
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
