/**
 * The bucket's Inventory & logging tab in Chromium against the real server: a configuration
 * added through the form, Run now writing a report that the history shows with where it went,
 * and access logging turned on and off.
 * Without Chromium on PATH the test is skipped with the reason printed, and fails under CI.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { consoleSession, pageApi, shot, stepWithShot, submitLogin } from "./_helpers/browser.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const chromiumProgram = await findProgram("chromium");
const ADMIN = "admin";
const PASSWORD = "Inventory-console-Pa55!";

Deno.test(needs(chromiumProgram, {
  name: "console in Chromium: bucket inventory and access logging tab",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const session = await consoleSession(chromiumProgram.path, { password: PASSWORD });
    const { srv, browser, pageErrors, watch } = session;
    const s3 = srv.client();
    const base = srv.consoleUrl;
    try {
      const page = await (await browser.newContext()).newPage();
      watch(page);
      const step = stepWithShot(t, page);
      const call = pageApi(page);

      await step("sign in, create the buckets, open the tab", async () => {
        await page.goto(`${base}/login`);
        await submitLogin(page, ADMIN, PASSWORD);
        await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 });
        assertEquals((await call("POST", "/buckets", { name: "ui-src" })).status, 201);
        assertEquals((await call("POST", "/buckets", { name: "ui-dst" })).status, 201);
        await s3.send(new PutObjectCommand({ Bucket: "ui-src", Key: "a", Body: "a" }));
        await page.goto(`${base}/buckets/ui-src`);
        await page.locator("nav.tabs >> text=Inventory & logging").click();
        await page.waitForURL((u) => u.pathname === "/buckets/ui-src/inventory");
        await page.locator("#inventory [data-empty]").waitFor({ timeout: 15_000 });
      });

      await step("add a configuration, run it, see the report in the history", async () => {
        const form = page.locator("#inventory-form");
        await form.locator("input[name=id]").fill("nightly");
        await form.locator("input[name=destination]").fill("ui-dst");
        await form.locator("input[name=prefix]").fill("reports");
        await form.locator("input[name=field-Size]").check();
        await form.locator("button[type=submit]").click();
        await page.locator("[data-config=nightly]").waitFor({ timeout: 15_000 });
        await page.locator("[data-run=nightly]").click();
        await page.locator("[data-run-row=nightly]").waitFor({ timeout: 15_000 });
        const row = await page.locator("[data-run-row=nightly]").innerText();
        assert(row.includes("done"), row);
        assert(row.includes("ui-dst/reports/ui-src/nightly/"), row);
        const inv = JSON.parse((await call("GET", "/buckets/ui-src/inventory")).text);
        assertEquals(inv.configurations[0].optionalFields, ["Size"]);
        assertEquals(inv.runs[0].objects, 1);
        await shot(page, "bucket-inventory");
      });

      await step("access logging on, then off", async () => {
        const panel = page.locator("#access-logging");
        await panel.locator("text=Access logging is off.").waitFor({ timeout: 15_000 });
        await panel.locator("input[name=targetBucket]").fill("ui-dst");
        await panel.locator("input[name=targetPrefix]").fill("logs/");
        await panel.locator("button[type=submit]").click();
        await panel.locator("text=Requests are logged to ui-dst/logs/.").waitFor({
          timeout: 15_000,
        });
        const on = JSON.parse((await call("GET", "/buckets/ui-src/logging")).text);
        assertEquals(on.logging.targetBucket, "ui-dst");
        await panel.locator("input[name=targetBucket]").fill("");
        await panel.locator("button[type=submit]").click();
        await panel.locator("text=Access logging is off.").waitFor({ timeout: 15_000 });
      });
      assertEquals(pageErrors, []);
    } finally {
      s3.destroy();
      await session.close();
    }
  },
}));
