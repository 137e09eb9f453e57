/**
 * Static websites end to end: the configuration through the SDK (round trip, AWS's errors, the
 * previous configuration kept), and the website endpoint on the real server (Host
 * `<bucket>.<website domain>`): index and error documents, redirects, routing rules, anonymous
 * access decided by the bucket's policy, `x-amz-website-redirect-location`, a tenant's bucket.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketWebsiteCommand,
  GetBucketWebsiteCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  type S3Client,
  type WebsiteConfiguration,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { websiteRequest } from "./_helpers/website.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";
import { createHash } from "node:crypto";
import { makeTenant, startIamServer } from "./iam_fixture.ts";

const DOMAIN = "web.test";

/** Anyone may read objects (and list, when `list`): what a public website's bucket says. */
function publicPolicy(bucket: string, list: boolean): string {
  const statements = [{
    Effect: "Allow",
    Principal: "*",
    Action: "s3:GetObject",
    Resource: `arn:aws:s3:::${bucket}/*`,
  }];
  if (list) {
    statements.push({
      Effect: "Allow",
      Principal: "*",
      Action: "s3:ListBucket",
      Resource: `arn:aws:s3:::${bucket}`,
    });
  }
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

async function put(s3: S3Client, bucket: string, key: string, body: string, extra = {}) {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: "text/html",
      ...extra,
    }),
  );
}

Deno.test("static websites: configuration and the website endpoint", async (t) => {
  const s = await startIamServer({}, { args: ["--website-domain", DOMAIN] });
  const srv = s.srv;
  const s3 = srv.client();
  const port = new URL(srv.endpoint).port;
  const host = (site: string) => `${site}.${DOMAIN}:${port}`;
  const get = (
    site: string,
    path: string,
    init: { method?: string; headers?: Record<string, string> } = {},
  ) => websiteRequest(srv, host(site), path, init);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "site" }));

    await t.step("configuration: round trip, AWS's errors, the previous one kept", async () => {
      await assertS3Error(
        () => s3.send(new GetBucketWebsiteCommand({ Bucket: "site" })),
        "NoSuchWebsiteConfiguration",
        404,
      );
      const config: WebsiteConfiguration = {
        IndexDocument: { Suffix: "index.html" },
        ErrorDocument: { Key: "error.html" },
        RoutingRules: [
          {
            Condition: { KeyPrefixEquals: "old/" },
            Redirect: { ReplaceKeyPrefixWith: "new/" },
          },
          {
            Condition: { KeyPrefixEquals: "gone/", HttpErrorCodeReturnedEquals: "404" },
            Redirect: {
              HostName: "archive.example",
              Protocol: "https",
              ReplaceKeyWith: "index.html",
              HttpRedirectCode: "302",
            },
          },
        ],
      };
      await s3.send(
        new PutBucketWebsiteCommand({ Bucket: "site", WebsiteConfiguration: config }),
      );
      const got = await s3.send(new GetBucketWebsiteCommand({ Bucket: "site" }));
      assertEquals(
        {
          IndexDocument: got.IndexDocument,
          ErrorDocument: got.ErrorDocument,
          RoutingRules: got.RoutingRules,
        },
        config,
      );
      const refused: [WebsiteConfiguration, string][] = [
        [{}, "InvalidArgument"],
        [{ IndexDocument: { Suffix: "a/index.html" } }, "InvalidArgument"],
        [{
          IndexDocument: { Suffix: "index.html" },
          RedirectAllRequestsTo: { HostName: "example.com" },
        }, "InvalidArgument"],
        [{
          IndexDocument: { Suffix: "index.html" },
          RoutingRules: [{ Redirect: { ReplaceKeyWith: "a", ReplaceKeyPrefixWith: "b/" } }],
        }, "InvalidRequest"],
        [{
          IndexDocument: { Suffix: "index.html" },
          RoutingRules: [{ Redirect: { HttpRedirectCode: "300" } }],
        }, "InvalidRequest"],
        [{
          IndexDocument: { Suffix: "index.html" },
          RoutingRules: [{
            Condition: { HttpErrorCodeReturnedEquals: "200" },
            Redirect: { HostName: "x" },
          }],
        }, "InvalidRequest"],
      ];
      for (const [bad, code] of refused) {
        await assertS3Error(
          () => s3.send(new PutBucketWebsiteCommand({ Bucket: "site", WebsiteConfiguration: bad })),
          code,
          400,
        );
      }
      const malformed = "<WebsiteConfiguration><IndexDocument><Suffix>x</Suffix>";
      const raw = await signedFetch(srv, {
        method: "PUT",
        path: "/site",
        query: { website: "" },
        headers: { "content-md5": createHash("md5").update(malformed).digest("base64") },
        body: malformed,
      });
      assertEquals([raw.status, await errorCode(raw)], [400, "MalformedXML"]);
      const kept = await s3.send(new GetBucketWebsiteCommand({ Bucket: "site" }));
      assertEquals(kept.RoutingRules, config.RoutingRules);
      await s3.send(new DeleteBucketWebsiteCommand({ Bucket: "site" }));
      await assertS3Error(
        () => s3.send(new GetBucketWebsiteCommand({ Bucket: "site" })),
        "NoSuchWebsiteConfiguration",
        404,
      );
      await s3.send(
        new PutBucketWebsiteCommand({ Bucket: "site", WebsiteConfiguration: config }),
      );
    });

    await t.step("x-amz-website-redirect-location is stored, checked and answered", async () => {
      await put(s3, "site", "moved.html", "old page", {
        WebsiteRedirectLocation: "/new/page.html",
      });
      const head = await s3.send(new HeadObjectCommand({ Bucket: "site", Key: "moved.html" }));
      assertEquals(head.WebsiteRedirectLocation, "/new/page.html");
      // A copy keeps the content headers but not the redirect location (AWS), unless it says one.
      await s3.send(
        new CopyObjectCommand({ Bucket: "site", Key: "copy.html", CopySource: "site/moved.html" }),
      );
      const copy = await s3.send(new HeadObjectCommand({ Bucket: "site", Key: "copy.html" }));
      assertEquals([copy.ContentType, copy.WebsiteRedirectLocation], ["text/html", undefined]);
      await assertS3Error(
        () =>
          s3.send(
            new PutObjectCommand({
              Bucket: "site",
              Key: "bad.html",
              Body: "x",
              WebsiteRedirectLocation: "ftp://elsewhere",
            }),
          ),
        "InvalidRedirectLocation",
        400,
      );
    });

    await s3.send(
      new PutBucketPolicyCommand({ Bucket: "site", Policy: publicPolicy("site", true) }),
    );
    await put(s3, "site", "index.html", "<h1>home</h1>");
    await put(s3, "site", "docs/index.html", "<h1>docs</h1>");
    await put(s3, "site", "docs/a b.html", "<h1>a b</h1>");
    await put(s3, "site", "error.html", "<h1>custom error</h1>");

    await t.step(
      "index documents for / and dir/, a directory without slash redirected",
      async () => {
        const home = await get("site", "/");
        assertEquals([home.status, home.body, home.headers["content-type"]], [
          200,
          "<h1>home</h1>",
          "text/html",
        ]);
        assertEquals((await get("site", "/docs/")).body, "<h1>docs</h1>");
        assertEquals((await get("site", "/docs/a%20b.html")).body, "<h1>a b</h1>");
        const dir = await get("site", "/docs");
        assertEquals([dir.status, dir.headers.location, dir.body], [302, "/docs/", ""]);
        const head = await get("site", "/", { method: "HEAD" });
        assertEquals([head.status, head.headers["content-length"], head.body], [200, "13", ""]);
        // A range is served as GetObject serves it.
        const part = await get("site", "/", { headers: { range: "bytes=4-7" } });
        assertEquals([part.status, part.body, part.headers["content-range"]], [
          206,
          "home",
          "bytes 4-7/13",
        ]);
      },
    );

    await t.step("errors: the error document with the error's status, HTML otherwise", async () => {
      const missing = await get("site", "/nothing.html");
      assertEquals(
        [missing.status, missing.body, missing.headers["x-amz-error-code"]],
        [404, "<h1>custom error</h1>", "NoSuchKey"],
      );
      const post = await get("site", "/", { method: "POST" });
      assertEquals([post.status, post.headers["content-type"]], [405, "text/html; charset=utf-8"]);
      assert(post.body.includes("<li>Code: MethodNotAllowed</li>"), post.body);
      const noBucket = await get("nobucket", "/");
      assertEquals(noBucket.status, 404);
      assert(noBucket.body.includes("<li>Code: NoSuchBucket</li>"), noBucket.body);
      assert(!noBucket.body.includes("<Error>"), "an HTML page, not the XML error document");
      await s3.send(new CreateBucketCommand({ Bucket: "plain" }));
      const notSite = await get("plain", "/");
      assertEquals(notSite.status, 404);
      assert(notSite.body.includes("<li>Code: NoSuchWebsiteConfiguration</li>"), notSite.body);
    });

    await t.step("routing rules and the object's redirect location", async () => {
      const moved = await get("site", "/old/a/b.html");
      assertEquals(
        [moved.status, moved.headers.location],
        [301, `http://${host("site")}/new/a/b.html`],
      );
      // The error-code rule fires only once the key is found missing, under its prefix.
      const gone = await get("site", "/gone/page.html");
      assertEquals([gone.status, gone.headers.location], [
        302,
        "https://archive.example/index.html",
      ]);
      const page = await get("site", "/moved.html");
      assertEquals([page.status, page.headers.location, page.body], [301, "/new/page.html", ""]);
    });

    await t.step("anonymous access is the bucket's decision", async () => {
      // Without ListBucket a missing key is 403 (AWS), and the error document keeps that status.
      await s3.send(
        new PutBucketPolicyCommand({ Bucket: "site", Policy: publicPolicy("site", false) }),
      );
      const missing = await get("site", "/nothing.html");
      assertEquals([missing.status, missing.body], [403, "<h1>custom error</h1>"]);
      await s3.send(new CreateBucketCommand({ Bucket: "private" }));
      await put(s3, "private", "index.html", "secret");
      await put(s3, "private", "error.html", "secret error page");
      await s3.send(
        new PutBucketWebsiteCommand({
          Bucket: "private",
          WebsiteConfiguration: {
            IndexDocument: { Suffix: "index.html" },
            ErrorDocument: { Key: "error.html" },
          },
        }),
      );
      const refused = await get("private", "/");
      assertEquals([refused.status, refused.headers["x-amz-error-code"]], [403, "AccessDenied"]);
      assert(!refused.body.includes("secret"), refused.body);
      assert(
        refused.body.includes(
          "An Error Occurred While Attempting to Retrieve a Custom Error Document",
        ),
        refused.body,
      );
    });

    await t.step("RedirectAllRequestsTo", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "moved" }));
      await s3.send(
        new PutBucketWebsiteCommand({
          Bucket: "moved",
          WebsiteConfiguration: {
            RedirectAllRequestsTo: { HostName: "new.example", Protocol: "https" },
          },
        }),
      );
      const r = await get("moved", "/a/b.html");
      assertEquals([r.status, r.headers.location], [301, "https://new.example/a/b.html"]);
    });

    await t.step("a tenant's bucket is bucket.tenant.<website domain>", async () => {
      const acme = await makeTenant(s, "acme");
      const ts3 = s.s3(acme.admin.key, acme.admin.secret);
      await ts3.send(new CreateBucketCommand({ Bucket: "blog" }));
      await ts3.send(
        new PutBucketPolicyCommand({ Bucket: "blog", Policy: publicPolicy("blog", false) }),
      );
      await put(ts3, "blog", "index.html", "acme blog");
      await ts3.send(
        new PutBucketWebsiteCommand({
          Bucket: "blog",
          WebsiteConfiguration: { IndexDocument: { Suffix: "index.html" } },
        }),
      );
      const r = await get("blog.acme", "/");
      assertEquals([r.status, r.body], [200, "acme blog"]);
      // Not in the global namespace.
      assertEquals((await get("blog", "/")).status, 404);
      // The console shows each user the address of their own bucket.
      const shown = await s.api("/buckets/blog/website-endpoint", { token: acme.admin.token });
      assertEquals([shown.status, shown.body.url], [200, `http://blog.acme.${DOMAIN}/`]);
      const global = await s.api("/buckets/site/website-endpoint", { token: s.adminToken });
      assertEquals(global.body.url, `http://site.${DOMAIN}/`);
    });

    await t.step("the S3 API is unchanged beside the website domain", async () => {
      const res = await fetch(`${srv.endpoint}/site/index.html`);
      assertEquals([res.status, await res.text()], [200, "<h1>home</h1>"]);
    });
  } finally {
    await s.stop();
  }
});
