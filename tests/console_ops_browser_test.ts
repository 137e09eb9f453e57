/**
 * The console's settings tabs, the maintenance banner and a bucket's quota in Chromium against
 * the real server: maintenance mode switched on in one console shows the amber banner in another
 * open console without a reload, and switched off removes it; an invalid alert threshold is
 * refused with the field named; a bucket's quota is saved from its Permissions page.
 * Without Chromium on PATH the test is skipped with the reason printed, and fails under CI.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { consoleSession, pageApi, shot, stepWithShot, submitLogin } from "./_helpers/browser.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const chromiumProgram = await findProgram("chromium");
const ADMIN = "admin";
const PASSWORD = "Ops-console-Pa55!";
const BUCKET = "ops-ui";

Deno.test(needs(chromiumProgram, {
  name: "console in Chromium: settings tabs, maintenance banner without a reload, bucket quota",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const session = await consoleSession(chromiumProgram.path, { password: PASSWORD });
    const { srv, browser, pageErrors, watch } = session;
    const base = srv.consoleUrl;
    try {
      const context = await browser.newContext();
      const settings = await context.newPage();
      const watcher = await context.newPage();
      for (const p of [settings, watcher]) watch(p);
      const step = stepWithShot(t, settings);
      const call = pageApi(settings);

      await step("sign in; a second console watches the bucket list", async () => {
        await settings.goto(`${base}/login`);
        await submitLogin(settings, ADMIN, PASSWORD);
        await settings.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 });
        assertEquals((await call("POST", "/buckets", { name: BUCKET })).status, 201);
        await watcher.goto(`${base}/buckets`);
        await watcher.locator(`tr[data-bucket="${BUCKET}"]`).waitFor({ timeout: 15_000 });
        // Marks this document: a reload would lose it.
        await watcher.evaluate(() => (globalThis as Record<string, unknown>).notReloaded = true);
        assertEquals(await watcher.locator("#maintenance-banner").count(), 0);
      });

      const systemTab = async () => {
        await settings.goto(`${base}/settings`);
        await settings.locator("#settings-form").waitFor({ timeout: 15_000 });
        await settings.click("#settings-tab-system");
        await settings.locator("#settings-form-system").waitFor({ timeout: 15_000 });
      };

      await step("maintenance on in Settings: the other console shows the banner", async () => {
        await systemTab();
        await settings.check("#settings-form-system input[name='system.maintenanceMode']");
        await settings.fill(
          "#settings-form-system input[name='system.maintenanceMessage']",
          "Disk replacement until 18:00",
        );
        await settings.click("#settings-form-system button[type=submit]");
        await settings.waitForSelector("text=Settings saved.", { timeout: 15_000 });
        const banner = watcher.locator("#maintenance-banner");
        await banner.waitFor({ timeout: 15_000 });
        assert((await banner.textContent())!.includes("Disk replacement until 18:00"));
        assertEquals(
          await watcher.evaluate(() => (globalThis as Record<string, unknown>).notReloaded),
          true,
          "the banner came without a reload",
        );
        await shot(watcher, "maintenance-banner");
        // Changes are refused meanwhile.
        assertEquals((await call("POST", "/buckets", { name: "refused-now" })).status, 503);
      });

      await step("maintenance off: the banner goes away, still without a reload", async () => {
        await systemTab();
        await settings.uncheck("#settings-form-system input[name='system.maintenanceMode']");
        await settings.click("#settings-form-system button[type=submit]");
        await settings.waitForSelector("text=Settings saved.", { timeout: 15_000 });
        await watcher.locator("#maintenance-banner").waitFor({
          state: "detached",
          timeout: 15_000,
        });
        assertEquals(
          await watcher.evaluate(() => (globalThis as Record<string, unknown>).notReloaded),
          true,
        );
      });

      await step("an invalid alert threshold is refused, naming the field", async () => {
        await settings.click("#settings-tab-alerts");
        const form = settings.locator("#settings-form-alerts");
        await form.waitFor({ timeout: 15_000 });
        await form.locator("input[name='alerts.diskWarnPercent']").fill("95");
        await form.locator("button[type=submit]").click();
        const err = settings.locator(".alert.error");
        await err.waitFor({ timeout: 15_000 });
        assert((await err.textContent())!.includes("alerts.diskWarnPercent"));
        const got = JSON.parse((await call("GET", "/settings")).text);
        assertEquals(got.alerts.diskWarnPercent, 80, "nothing stored");
        await shot(settings, "settings-alerts-refused");
      });

      await step("a bucket's quota is saved on its Permissions page", async () => {
        await settings.goto(`${base}/buckets/${BUCKET}/permissions`);
        const panel = settings.locator("#bucket-quota");
        await panel.locator("form").waitFor({ timeout: 15_000 });
        await panel.locator("input[name=maxObjects]").fill("7");
        await panel.locator("button[type=submit]").click();
        await panel.locator(".alert.ok, [role=status]").first().waitFor({ timeout: 15_000 });
        const got = JSON.parse((await call("GET", `/buckets/${BUCKET}/quota`)).text);
        assertEquals(got.quota, { maxBytes: null, maxObjects: 7 });
        await shot(settings, "bucket-quota");
      });

      assertEquals(pageErrors, [], "no script errors in the pages");
    } finally {
      await session.close();
    }
  },
}));
