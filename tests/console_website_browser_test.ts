/**
 * The console's Website tab in Chromium against the real server: the website address shown, a
 * configuration refused by S3 (its message shown, nothing stored), one saved (the site then
 * served on the website endpoint) and read back after a reload, redirect-all, and removal.
 * Without Chromium on PATH the test is skipped with the reason printed, and fails under CI.
 */
import {
  GetBucketWebsiteCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { consoleSession, pageApi, shot, stepWithShot, submitLogin } from "./_helpers/browser.ts";
import { findProgram, needs } from "./_helpers/programs.ts";
import { websiteRequest } from "./_helpers/website.ts";

const chromiumProgram = await findProgram("chromium");
const ADMIN = "admin";
const PASSWORD = "Website-console-Pa55!";
const BUCKET = "site-ui";
const DOMAIN = "web.test";

const POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{
    Effect: "Allow",
    Principal: "*",
    Action: "s3:GetObject",
    Resource: `arn:aws:s3:::${BUCKET}/*`,
  }],
});

Deno.test(needs(chromiumProgram, {
  name: "console in Chromium: a bucket's Website tab",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const session = await consoleSession(chromiumProgram.path, {
      password: PASSWORD,
      args: ["--website-domain", DOMAIN],
    });
    const { srv, browser, pageErrors, watch } = session;
    const s3 = srv.client();
    const base = srv.consoleUrl;
    const siteHost = `${BUCKET}.${DOMAIN}:${new URL(srv.endpoint).port}`;
    try {
      const page = await (await browser.newContext()).newPage();
      watch(page);
      const step = stepWithShot(t, page);
      const call = pageApi(page);
      const tab = page.locator("#bucket-website");

      await step("sign in, a bucket with a page anyone may read", async () => {
        await page.goto(`${base}/login`);
        await submitLogin(page, ADMIN, PASSWORD);
        await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 });
        assertEquals((await call("POST", "/buckets", { name: BUCKET })).status, 201);
        await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: POLICY }));
        await s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: "index.html",
            Body: "<h1>hello</h1>",
            ContentType: "text/html",
          }),
        );
      });

      await step("the tab shows the website address", async () => {
        await page.goto(`${base}/buckets/${BUCKET}`);
        await page.click('nav.tabs a:has-text("Website")');
        await tab.locator("text=This bucket is not a website.").waitFor({ timeout: 15_000 });
        assertEquals(
          await page.locator('nav.tabs a[aria-current="page"]').textContent(),
          "Website",
        );
        assertEquals(
          await page.locator("#website-url").textContent(),
          `http://${BUCKET}.${DOMAIN}/`,
        );
      });

      await step("a configuration S3 refuses: its message, nothing stored", async () => {
        await tab.locator("input[name=errorKey]").fill("error.html");
        await tab.locator("textarea[name=routingRules]").fill(
          "<RoutingRules><RoutingRule><Redirect><ReplaceKeyWith>a</ReplaceKeyWith>" +
            "<ReplaceKeyPrefixWith>b/</ReplaceKeyPrefixWith></Redirect></RoutingRule></RoutingRules>",
        );
        await tab.locator("button[type=submit]").click();
        await tab.locator("text=You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
          .waitFor({ timeout: 15_000 });
        await assertS3Error(
          () => s3.send(new GetBucketWebsiteCommand({ Bucket: BUCKET })),
          "NoSuchWebsiteConfiguration",
        );
      });

      await step("saved: served on the website endpoint, read back after a reload", async () => {
        await tab.locator("textarea[name=routingRules]").fill(
          "<RoutingRules><RoutingRule><Condition><KeyPrefixEquals>docs/</KeyPrefixEquals>" +
            "</Condition><Redirect><ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith>" +
            "</Redirect></RoutingRule></RoutingRules>",
        );
        await tab.locator("button[type=submit]").click();
        await tab.locator("text=Website configuration saved.").waitFor({ timeout: 15_000 });
        const cfg = await s3.send(new GetBucketWebsiteCommand({ Bucket: BUCKET }));
        assertEquals([cfg.IndexDocument?.Suffix, cfg.ErrorDocument?.Key], [
          "index.html",
          "error.html",
        ]);
        assertEquals(cfg.RoutingRules?.[0].Redirect?.ReplaceKeyPrefixWith, "documents/");
        const home = await websiteRequest(srv, siteHost, "/");
        assertEquals([home.status, home.body], [200, "<h1>hello</h1>"]);
        await page.reload();
        await page.waitForFunction(
          () =>
            (document.querySelector("#bucket-website input[name=errorKey]") as HTMLInputElement)
              ?.value === "error.html",
          undefined,
          { timeout: 15_000 },
        );
        const rules = await tab.locator("textarea[name=routingRules]").inputValue();
        assert(rules.includes("<KeyPrefixEquals>docs/</KeyPrefixEquals>"), rules);
        await shot(page, "bucket-website");
      });

      await step("redirect every request, then remove the website", async () => {
        await tab.locator("input[value=redirect]").check();
        await tab.locator("input[name=redirectHost]").fill("www.example.com");
        await tab.locator("select[name=redirectProtocol]").selectOption("https");
        await tab.locator("button[type=submit]").click();
        await tab.locator("text=Website configuration saved.").waitFor({ timeout: 15_000 });
        const moved = await websiteRequest(srv, siteHost, "/a.html");
        assertEquals([moved.status, moved.headers.location], [
          301,
          "https://www.example.com/a.html",
        ]);
        await tab.locator("text=Remove website").click();
        await tab.locator("text=This bucket is not a website.").waitFor({ timeout: 15_000 });
        await assertS3Error(
          () => s3.send(new GetBucketWebsiteCommand({ Bucket: BUCKET })),
          "NoSuchWebsiteConfiguration",
        );
      });
      assertEquals(pageErrors, []);
    } finally {
      s3.destroy();
      await session.close();
    }
  },
}));
