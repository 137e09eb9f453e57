/**
 * Bucket CORS end to end: the configuration through the SDK (bad documents leave the previous
 * one), preflights answered before authentication (also for presigned URLs and `tenant:bucket`
 * names), and the headers of actual requests, errors included, with raw fetch.
 */
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { makeTenant, startIamServer } from "./iam_fixture.ts";
import { errorCode, presignUrl, signedFetch } from "./_helpers/signed_fetch.ts";

const VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";
const SITE = "https://app.example.test";
const md5 = (s: string) => createHash("md5").update(s).digest("base64");

const RULES = [
  {
    ID: "site",
    AllowedOrigins: [SITE, "https://*.site.test"],
    AllowedMethods: ["GET", "PUT"],
    AllowedHeaders: ["Content-Type", "x-amz-*"],
    ExposeHeaders: ["ETag", "x-amz-request-id"],
    MaxAgeSeconds: 600,
  },
  { AllowedOrigins: ["*"], AllowedMethods: ["GET", "HEAD"] },
];

function preflight(
  url: string,
  headers: Record<string, string>,
): Promise<Response> {
  return fetch(url, { method: "OPTIONS", headers });
}

function corsHeaders(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k.startsWith("access-control-") || k === "vary") out[k] = v;
  });
  return out;
}

Deno.test("bucket CORS: configuration, preflights and actual requests", async (t) => {
  const s = await startIamServer();
  const srv = s.srv;
  const s3 = srv.client();
  const B = "web";
  const url = (path: string) => `${srv.endpoint}${path}`;
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "page.html", Body: "<p>hi</p>" }));

    /** No configuration: GetBucketCors is NoSuchCORSConfiguration, a preflight is refused. */
    const assertNoConfiguration = async () => {
      await assertS3Error(
        () => s3.send(new GetBucketCorsCommand({ Bucket: B })),
        "NoSuchCORSConfiguration",
        404,
      );
      const res = await preflight(url(`/${B}/page.html`), {
        origin: SITE,
        "access-control-request-method": "GET",
      });
      assertEquals(res.status, 403);
      assertEquals(corsHeaders(res), {});
      return await res.text();
    };

    await t.step("no configuration: NoSuchCORSConfiguration, preflight refused", async () => {
      const body = await assertNoConfiguration();
      assert(body.includes("<Code>AccessForbidden</Code>"), body);
      assert(body.includes("CORSResponse: CORS is not enabled for this bucket."), body);
      assert(body.includes("<ResourceType>OBJECT</ResourceType>"), body);
      // An actual request from an origin gets no CORS headers, and no reflected Origin.
      const get = await signedFetch(srv, {
        method: "GET",
        path: `/${B}/page.html`,
        headers: { origin: SITE },
      });
      assertEquals(get.status, 200);
      assertEquals(corsHeaders(get), {});
      await get.body?.cancel();
    });

    await t.step("a preflight without Origin or a valid method is BadRequest", async () => {
      const noOrigin = await preflight(url(`/${B}/page.html`), {
        "access-control-request-method": "GET",
      });
      assertEquals(noOrigin.status, 400);
      const text = await noOrigin.text();
      assert(text.includes("<Code>BadRequest</Code>"), text);
      assert(text.includes("Insufficient information. Origin request header needed."), text);
      const badMethod = await preflight(url(`/${B}/page.html`), {
        origin: SITE,
        "access-control-request-method": "PATCH",
      });
      assertEquals(badMethod.status, 400);
      assert((await badMethod.text()).includes("Invalid Access-Control-Request-Method: PATCH"));
    });

    await t.step("PutBucketCors round-trips through GetBucketCors", async () => {
      await s3.send(
        new PutBucketCorsCommand({ Bucket: B, CORSConfiguration: { CORSRules: RULES } }),
      );
      const got = await s3.send(new GetBucketCorsCommand({ Bucket: B }));
      assertEquals(got.CORSRules, [
        { ...RULES[0] },
        { AllowedOrigins: ["*"], AllowedMethods: ["GET", "HEAD"] },
      ]);
    });

    await t.step("a matching preflight gets the rule's headers, unauthenticated", async () => {
      const res = await preflight(url(`/${B}/upload.bin`), {
        origin: SITE,
        "access-control-request-method": "PUT",
        "access-control-request-headers": "Content-Type, X-Amz-Date",
      });
      assertEquals(res.status, 200);
      await res.body?.cancel();
      assertEquals(corsHeaders(res), {
        "access-control-allow-origin": SITE,
        "access-control-allow-methods": "GET, PUT",
        "access-control-allow-headers": "content-type, x-amz-date",
        "access-control-expose-headers": "ETag, x-amz-request-id",
        "access-control-max-age": "600",
        "access-control-allow-credentials": "true",
        "vary": VARY,
      });
      const wildcard = await preflight(url(`/${B}`), {
        origin: "https://a.site.test",
        "access-control-request-method": "GET",
      });
      assertEquals(wildcard.status, 200);
      assertEquals(wildcard.headers.get("access-control-allow-origin"), "https://a.site.test");
      await wildcard.body?.cancel();
      const any = await preflight(url(`/${B}/page.html`), {
        origin: "https://elsewhere.test",
        "access-control-request-method": "HEAD",
      });
      assertEquals(any.status, 200);
      assertEquals(corsHeaders(any), {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET, HEAD",
        "vary": VARY,
      });
      await any.body?.cancel();
    });

    await t.step("a preflight no rule allows is AccessForbidden", async () => {
      const cases: Record<string, string>[] = [
        { origin: "https://elsewhere.test", "access-control-request-method": "PUT" },
        { origin: SITE, "access-control-request-method": "DELETE" },
        {
          origin: SITE,
          "access-control-request-method": "PUT",
          "access-control-request-headers": "content-type, authorization",
        },
        { origin: "https://APP.example.test", "access-control-request-method": "PUT" },
      ];
      for (const headers of cases) {
        const res = await preflight(url(`/${B}/k`), headers);
        assertEquals(res.status, 403, JSON.stringify(headers));
        assertEquals(corsHeaders(res), {});
        const text = await res.text();
        assert(text.includes("This CORS request is not allowed."), text);
      }
    });

    await t.step("a preflight of a missing bucket is NoSuchBucket", async () => {
      const res = await preflight(url("/no-such-bucket/k"), {
        origin: SITE,
        "access-control-request-method": "GET",
      });
      assertEquals(res.status, 404);
      assertEquals(await errorCode(res), "NoSuchBucket");
    });

    await t.step("bad documents get AWS's error and leave the previous rules", async () => {
      const bad = (cors: string) => ({
        method: "PUT",
        path: `/${B}`,
        query: { cors: "" },
        headers: { "content-md5": md5(cors), "content-type": "application/xml" },
        body: cors,
      });
      const rule = (inner: string) =>
        `<CORSConfiguration><CORSRule>${inner}</CORSRule></CORSConfiguration>`;
      const cases: [string, string, number][] = [
        ["<CORSConfiguration><CORSRule>", "MalformedXML", 400],
        [rule("<AllowedMethod>GET</AllowedMethod>"), "MalformedXML", 400],
        [
          `<CORSConfiguration>${
            "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
              .repeat(101)
          }</CORSConfiguration>`,
          "MalformedXML",
          400,
        ],
        [
          rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"),
          "InvalidRequest",
          400,
        ],
        [
          rule("<AllowedOrigin>https://*.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"),
          "InvalidRequest",
          400,
        ],
      ];
      for (const [doc, code, status] of cases) {
        const res = await signedFetch(srv, bad(doc));
        assertEquals(res.status, status, doc.slice(0, 80));
        assertEquals(await errorCode(res), code, doc.slice(0, 80));
      }
      await assertS3Error(
        () =>
          s3.send(
            new PutBucketCorsCommand({
              Bucket: B,
              CORSConfiguration: {
                CORSRules: [{ AllowedOrigins: ["*"], AllowedMethods: ["OPTIONS"] }],
              },
            }),
          ),
        "InvalidRequest",
        400,
      );
      const got = await s3.send(new GetBucketCorsCommand({ Bucket: B }));
      assertEquals(got.CORSRules?.length, 2);
      assertEquals(got.CORSRules?.[0].ID, "site");
    });

    await t.step("actual requests from an allowed origin get the headers, errors too", async () => {
      const get = await signedFetch(srv, {
        method: "GET",
        path: `/${B}/page.html`,
        headers: { origin: SITE },
      });
      assertEquals(get.status, 200);
      assertEquals(await get.text(), "<p>hi</p>");
      assertEquals(corsHeaders(get), {
        "access-control-allow-origin": SITE,
        "access-control-allow-methods": "GET, PUT",
        "access-control-expose-headers": "ETag, x-amz-request-id",
        "access-control-max-age": "600",
        "access-control-allow-credentials": "true",
        "vary": VARY,
      });
      const missing = await signedFetch(srv, {
        method: "GET",
        path: `/${B}/missing`,
        headers: { origin: SITE },
      });
      assertEquals(missing.status, 404);
      assertEquals(missing.headers.get("access-control-allow-origin"), SITE);
      await missing.body?.cancel();
      // Unsigned (denied) from any origin: the * rule for GET answers.
      const anonymous = await fetch(url(`/${B}/page.html`), {
        headers: { origin: "https://x.test" },
      });
      assertEquals(anonymous.status, 403);
      assertEquals(anonymous.headers.get("access-control-allow-origin"), "*");
      assertEquals(anonymous.headers.get("access-control-allow-credentials"), null);
      await anonymous.body?.cancel();
      // A method no rule allows for the origin: no headers.
      const del = await signedFetch(srv, {
        method: "DELETE",
        path: `/${B}/nothing`,
        headers: { origin: SITE },
      });
      assertEquals(del.status, 204);
      assertEquals(corsHeaders(del), {});
      await del.body?.cancel();
    });

    await t.step("a tenant's bucket: by presigned URL and by tenant:bucket name", async () => {
      const acme = await makeTenant(s, "acme");
      const tenantS3 = s.s3(acme.user.key, acme.user.secret);
      try {
        await tenantS3.send(new CreateBucketCommand({ Bucket: "assets" }));
        await tenantS3.send(
          new PutBucketCorsCommand({
            Bucket: "assets",
            CORSConfiguration: {
              CORSRules: [{
                AllowedOrigins: [SITE],
                AllowedMethods: ["PUT"],
                AllowedHeaders: ["*"],
              }],
            },
          }),
        );
      } finally {
        tenantS3.destroy();
      }
      const ask = { origin: SITE, "access-control-request-method": "PUT" };
      // Unqualified and without a key: the global namespace, which has no such bucket.
      const global = await preflight(url("/assets/f.bin"), ask);
      assertEquals(global.status, 404);
      await global.body?.cancel();
      const qualified = await preflight(url("/acme:assets/f.bin"), ask);
      assertEquals(qualified.status, 200);
      assertEquals(qualified.headers.get("access-control-allow-origin"), SITE);
      await qualified.body?.cancel();
      const presigned = await presignUrl(srv, {
        method: "PUT",
        path: "/assets/f.bin",
        expiresIn: 300,
        payloadHash: "UNSIGNED-PAYLOAD",
        accessKey: acme.user.key,
        secretKey: acme.user.secret,
      });
      const viaUrl = await preflight(presigned, {
        ...ask,
        "access-control-request-headers": "content-type",
      });
      assertEquals(viaUrl.status, 200);
      assertEquals(viaUrl.headers.get("access-control-allow-headers"), "content-type");
      await viaUrl.body?.cancel();
      // The presigned PUT itself then carries the headers.
      const put = await fetch(presigned, { method: "PUT", headers: { origin: SITE }, body: "x" });
      assertEquals(put.status, 200);
      assertEquals(put.headers.get("access-control-allow-origin"), SITE);
      await put.body?.cancel();
      const unknownTenant = await preflight(url("/nobody:assets/f.bin"), ask);
      assertEquals(unknownTenant.status, 404);
      await unknownTenant.body?.cancel();
    });

    await t.step("DeleteBucketCors removes the rules", async () => {
      await s3.send(new DeleteBucketCorsCommand({ Bucket: B }));
      await assertNoConfiguration();
    });
  } finally {
    s3.destroy();
    await s.stop();
  }
});
