/**
 * Sharing in the console, in Chromium against the real server: a share link created in the
 * object details opens in a browser that has no session, is listed on the bucket's Shared links
 * tab, and answers 403 AccessDenied once revoked; the presigned URL generator signs with the
 * user's key; the filter panel finds objects by content type.
 * Without Chromium on PATH the test is skipped with the reason printed, and fails under CI.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { consoleSession, pageApi, shot, stepWithShot, submitLogin } from "./_helpers/browser.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const chromiumProgram = await findProgram("chromium");
const PASSWORD = "Share-console-Pa55!";
const BUCKET = "share-ui";
const KEY = "notes/hello.txt";

Deno.test(needs(chromiumProgram, {
  name: "console in Chromium: share link created, opened anonymously, revoked; presign; filters",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const session = await consoleSession(chromiumProgram.path, { password: PASSWORD });
    const { srv, browser, pageErrors, watch } = session;
    const base = srv.consoleUrl;
    try {
      const page = await (await browser.newContext()).newPage();
      watch(page);
      page.on("dialog", (d) => void d.accept());
      const step = stepWithShot(t, page);
      const call = pageApi(page);
      const anonymous = await (await browser.newContext()).newPage();
      let shareUrl = "";

      await step("sign in, create a bucket with a text object and an image", async () => {
        await page.goto(`${base}/login`);
        await submitLogin(page, "admin", PASSWORD);
        await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 });
        assertEquals((await call("POST", "/buckets", { name: BUCKET })).status, 201);
        assertEquals((await call("POST", "/access-keys", { description: "presign" })).status, 201);
        const put = (key: string, type: string, body: string) =>
          page.evaluate(async ([k, t, b]) => {
            const r = await fetch(`/api/v1/s3/${k}`, {
              method: "PUT",
              headers: { "content-type": t },
              body: b,
            });
            return r.status;
          }, [`${BUCKET}/${key}`, type, body] as const);
        assertEquals(await put(KEY, "text/plain", "hello from a share link"), 200);
        assertEquals(await put("notes/pic.png", "image/png", "not really a png"), 200);
      });

      await step("create a share link in the object details", async () => {
        await page.goto(`${base}/buckets/${BUCKET}?prefix=notes/`);
        await page.click(`tr[data-key="${KEY}"] td:nth-child(2) button`);
        await page.waitForSelector("#share-form", { timeout: 15_000 });
        await page.selectOption("#share-form select[name=expires]", String(7 * 24 * 3600));
        await page.click("#share-form button[type=submit]");
        await page.waitForSelector("#share-url", { timeout: 15_000 });
        shareUrl = await page.inputValue("#share-url");
        assert(shareUrl.startsWith(`${srv.endpoint}/_share/`), shareUrl);
        await page.waitForSelector("#share-links tr[data-share]", { timeout: 15_000 });
        await shot(page, "share-created");
      });

      await step("the link opens in a browser without a session", async () => {
        const res = await anonymous.goto(shareUrl);
        assertEquals(res?.status(), 200);
        assertEquals((await anonymous.textContent("body"))?.trim(), "hello from a share link");
      });

      await step("the presigned URL generator signs a GET that works", async () => {
        await page.click("#presign-form button[type=submit]");
        await page.waitForSelector("#presign-url", { timeout: 15_000 });
        const url = await page.inputValue("#presign-url");
        assert(url.includes("X-Amz-Signature="), url);
        const res = await fetch(url);
        assertEquals([res.status, await res.text()], [200, "hello from a share link"]);
        await page.click("#object-details >> text=Close");
      });

      await step("the filter panel finds the image by content type", async () => {
        await page.click("#search-panel summary");
        await page.fill("#search-form input[name=contentType]", "image/");
        await page.click("#search-form button[type=submit]");
        await page.waitForSelector("#search-results tbody tr", { timeout: 15_000 });
        const rows = await page.locator("#search-results tbody tr").allTextContents();
        assertEquals(rows.length, 1);
        assert(rows[0].includes("notes/pic.png"), rows[0]);
        await shot(page, "search-results");
      });

      await step("the Shared links tab lists it; Revoke stops it with 403", async () => {
        await page.click("nav.tabs >> text=Shared links");
        await page.waitForURL((u) => u.pathname === `/buckets/${BUCKET}/shares`);
        const row = page.locator("#bucket-shares tr[data-share]");
        await row.first().waitFor({ timeout: 15_000 });
        assert((await row.first().textContent())!.includes(KEY));
        await shot(page, "shared-links");
        await row.first().locator("button", { hasText: "Revoke" }).click();
        await page.waitForSelector("#bucket-shares >> text=No links.", { timeout: 15_000 });
        const res = await anonymous.goto(shareUrl);
        assertEquals(res?.status(), 403);
        assert((await res!.text()).includes("<Code>AccessDenied</Code>"));
        await page.check("#bucket-shares input[type=checkbox]");
        await page.waitForSelector("#bucket-shares .badge.bad", { timeout: 15_000 });
        assertEquals(await page.textContent("#bucket-shares .badge.bad"), "revoked");
      });

      assertEquals(pageErrors, []);
    } finally {
      await session.close();
    }
  },
}));
