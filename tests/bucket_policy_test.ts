import { assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  PutBucketPolicyCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";

const md5 = (s: string) => createHash("md5").update(s).digest("base64");

Deno.test("bucket policy operations through the AWS SDK", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  const B = "polb";
  const read = (Principal: unknown, extra: Record<string, unknown> = {}) => ({
    Effect: "Allow",
    Principal,
    Action: "s3:GetObject",
    Resource: `arn:aws:s3:::${B}/*`,
    ...extra,
  });
  const doc = (statements: unknown[]) =>
    JSON.stringify({ Version: "2012-10-17", Statement: statements }, null, 1);
  const getText = async () => (await s3.send(new GetBucketPolicyCommand({ Bucket: B }))).Policy;
  const isPublic = async () =>
    (await s3.send(new GetBucketPolicyStatusCommand({ Bucket: B }))).PolicyStatus?.IsPublic;
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));

    await t.step(
      "no policy: Get and GetPolicyStatus are NoSuchBucketPolicy, Delete is 204",
      async () => {
        await assertS3Error(() => getText(), "NoSuchBucketPolicy", 404);
        await assertS3Error(() => isPublic(), "NoSuchBucketPolicy", 404);
        const del = await s3.send(new DeleteBucketPolicyCommand({ Bucket: B }));
        assertEquals(del.$metadata.httpStatusCode, 204);
      },
    );

    const publicText = doc([read("*", { Sid: "public" })]);
    await t.step("a policy round-trips byte for byte and reports public", async () => {
      const put = await s3.send(new PutBucketPolicyCommand({ Bucket: B, Policy: publicText }));
      assertEquals(put.$metadata.httpStatusCode, 204);
      assertEquals(await getText(), publicText);
      assertEquals(await isPublic(), true);
      const raw = await signedFetch(srv, { method: "GET", path: `/${B}`, query: { policy: "" } });
      assertEquals(raw.headers.get("content-type"), "application/json");
      assertEquals(await raw.text(), publicText);
    });

    const privateText = doc([
      read({ AWS: "arn:aws:iam:::root" }),
      read("*", { Condition: { IpAddress: { "aws:SourceIp": "192.0.2.0/24" } } }),
    ]);
    await t.step("a policy limited to an account and a CIDR is not public", async () => {
      await s3.send(new PutBucketPolicyCommand({ Bucket: B, Policy: privateText }));
      assertEquals(await isPublic(), false);
      const raw = await signedFetch(srv, {
        method: "GET",
        path: `/${B}`,
        query: { policyStatus: "" },
      });
      assertEquals(raw.status, 200);
      const xml = await raw.text();
      assertEquals(xml.includes("<PolicyStatus"), true, xml);
      assertEquals(xml.includes("<IsPublic>false</IsPublic>"), true, xml);
    });

    await t.step(
      "malformed documents are MalformedPolicy and keep the previous policy",
      async () => {
        const bad = [
          "not json",
          "{not json",
          JSON.stringify({ Version: "2012-10-17" }),
          JSON.stringify({ Statement: [] }),
          doc([read("*", { Resource: "arn:aws:s3:::someone-else/*" })]),
          doc([read("*", { Action: "s3:GetObjekt" })]),
          doc([read({ AWS: "not-an-arn!" })]),
          doc([read(undefined)]),
          doc([read("*", { Sid: "x" }), read("*", { Sid: "x" })]),
          doc([read("*", { Resource: `arn:aws:s3:::${B}` })]),
          doc([read("*", { Condition: { IpAddress: { "aws:SourceIp": "300.0.0.0/8" } } })]),
        ];
        for (const Policy of bad) {
          await assertS3Error(
            () => s3.send(new PutBucketPolicyCommand({ Bucket: B, Policy })),
            "MalformedPolicy",
            400,
          );
        }
        assertEquals(await getText(), privateText);
      },
    );

    await t.step("a document over 20480 bytes is refused; one just under is stored", async () => {
      const padded = (size: number) => {
        const base = doc([read("*", { Sid: "" })]);
        return doc([read("*", { Sid: "s".repeat(size - base.length) })]);
      };
      const over = padded(20481);
      assertEquals(new TextEncoder().encode(over).length, 20481);
      await assertS3Error(
        () => s3.send(new PutBucketPolicyCommand({ Bucket: B, Policy: over })),
        "MalformedPolicy",
        400,
      );
      assertEquals(await getText(), privateText);
      const limit = padded(20480);
      await s3.send(new PutBucketPolicyCommand({ Bucket: B, Policy: limit }));
      assertEquals(await getText(), limit);
      // Many short conditions: the parsed form is far larger than the text; still accepted.
      const keys: Record<string, string> = {};
      for (let i = 0; i < 1300; i++) keys[`aws:k${i}`] = "1";
      const dense = JSON.stringify({
        Version: "2012-10-17",
        Statement: [read("*", { Condition: { StringEquals: keys } })],
      });
      assertEquals(dense.length < 20480, true);
      await s3.send(new PutBucketPolicyCommand({ Bucket: B, Policy: dense }));
      assertEquals(await getText(), dense);
      assertEquals(await isPublic(), true);
    });

    await t.step(
      "raw requests: Content-MD5 is checked, the confirm header is accepted",
      async () => {
        const wrongMd5 = await signedFetch(srv, {
          method: "PUT",
          path: `/${B}`,
          query: { policy: "" },
          headers: { "content-md5": md5("something else") },
          body: publicText,
        });
        assertEquals([wrongMd5.status, await errorCode(wrongMd5)], [400, "BadDigest"]);
        const ok = await signedFetch(srv, {
          method: "PUT",
          path: `/${B}`,
          query: { policy: "" },
          headers: {
            "content-md5": md5(publicText),
            "x-amz-confirm-remove-self-bucket-access": "true",
          },
          body: publicText,
        });
        assertEquals(ok.status, 204);
        await ok.body?.cancel();
        assertEquals(await getText(), publicText);
        const empty = await signedFetch(srv, {
          method: "PUT",
          path: `/${B}`,
          query: { policy: "" },
        });
        assertEquals([empty.status, await errorCode(empty)], [400, "MalformedPolicy"]);
      },
    );

    await t.step("DeleteBucketPolicy removes it", async () => {
      const del = await s3.send(new DeleteBucketPolicyCommand({ Bucket: B }));
      assertEquals(del.$metadata.httpStatusCode, 204);
      await assertS3Error(() => getText(), "NoSuchBucketPolicy", 404);
    });

    await t.step("a missing bucket is NoSuchBucket", async () => {
      await assertS3Error(
        () => s3.send(new GetBucketPolicyCommand({ Bucket: "no-such-bucket" })),
        "NoSuchBucket",
        404,
      );
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
