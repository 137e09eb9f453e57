/**
 * The console's Encryption keys page in Chromium against the real server: create a key with the
 * id conformance suites use, disable (confirmed), enable and rotate it, and a tenant's key
 * through the namespace picker; a tenant user sees the keys without the controls.
 * Without Chromium on PATH the test is skipped with the reason printed, and fails under CI.
 */
import { assertEquals } from "./_helpers/assert.ts";
import { consoleSession, pageApi, shot, stepWithShot, submitLogin } from "./_helpers/browser.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const chromiumProgram = await findProgram("chromium");
const ADMIN = "admin";
const PASSWORD = "Kms-console-Pa55!";

Deno.test(needs(chromiumProgram, {
  name: "console in Chromium: the Encryption keys page",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const session = await consoleSession(chromiumProgram.path, { password: PASSWORD });
    const { srv, browser, pageErrors, watch } = session;
    const base = srv.consoleUrl;
    try {
      const page = await (await browser.newContext()).newPage();
      watch(page);
      page.on("dialog", (d) => d.accept());
      const step = stepWithShot(t, page);
      const call = pageApi(page);
      let tenantId = "";
      const row = (id: string) => page.locator(`tr[data-kms-key="${id}"]`);

      await step("sign in, a tenant with a user; the page is in the navigation", async () => {
        await page.goto(`${base}/login`);
        await submitLogin(page, ADMIN, PASSWORD);
        await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 });
        const tenant = await call("POST", "/tenants", { name: "vault" });
        assertEquals(tenant.status, 201, tenant.text);
        tenantId = JSON.parse(tenant.text).id;
        const user = await call("POST", "/users", {
          username: "vault-user",
          password: "Vault-user-Pa55!",
          role: "tenant_user",
          tenantId,
        });
        assertEquals(user.status, 201, user.text);
        await page.click("nav >> text=Encryption keys");
        await page.waitForURL((u) => u.pathname === "/kms");
        await page.waitForSelector("text=No keys yet.", { timeout: 15_000 });
      });

      await step("create testkey-1; disable, enable and rotate it", async () => {
        await page.fill("#create-kms-key input[name=id]", "testkey-1");
        await page.fill("#create-kms-key input[name=description]", "conformance");
        await page.click("#create-kms-key button[type=submit]");
        await row("testkey-1").waitFor({ timeout: 15_000 });
        assertEquals(
          await row("testkey-1").locator("code").nth(1).textContent(),
          "arn:aws:kms:us-east-1::key/testkey-1",
        );
        await row("testkey-1").locator("button", { hasText: "Disable" }).click();
        await row("testkey-1").locator(".badge", { hasText: "Disabled" }).waitFor();
        await row("testkey-1").locator("button", { hasText: "Enable" }).click();
        await row("testkey-1").locator(".badge", { hasText: "Enabled" }).waitFor();
        await row("testkey-1").locator("button", { hasText: "Rotate" }).click();
        await page.waitForSelector("text=Key testkey-1 rotated");
        assertEquals(await row("testkey-1").locator("td").nth(3).textContent(), "2");
        // A taken id: the API's refusal is shown.
        await page.fill("#create-kms-key input[name=id]", "testkey-1");
        await page.click("#create-kms-key button[type=submit]");
        await page.waitForSelector("[data-error]", { timeout: 15_000 });
        await shot(page, "kms-keys");
      });

      await step("a tenant's keys through the namespace picker", async () => {
        await page.selectOption("#kms-namespace", tenantId);
        await page.waitForSelector("text=No keys yet.", { timeout: 15_000 });
        await page.fill("#create-kms-key input[name=id]", "testkey-2");
        await page.click("#create-kms-key button[type=submit]");
        await row("testkey-2").waitFor({ timeout: 15_000 });
        assertEquals(
          await row("testkey-2").locator("code").nth(1).textContent(),
          `arn:aws:kms:us-east-1:${tenantId}:key/testkey-2`,
        );
        assertEquals(await row("testkey-1").count(), 0);
      });

      await step("a tenant user sees the tenant's keys, without controls", async () => {
        const ctx = await browser.newContext();
        const user = await ctx.newPage();
        watch(user);
        await user.goto(`${base}/login`);
        await submitLogin(user, "vault-user", "Vault-user-Pa55!");
        await user.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 });
        await user.goto(`${base}/kms`);
        await user.locator(`tr[data-kms-key="testkey-2"]`).waitFor({ timeout: 15_000 });
        assertEquals(await user.locator("#create-kms-key").count(), 0);
        assertEquals(await user.locator("#kms-namespace").count(), 0);
        assertEquals(await user.locator("button", { hasText: "Rotate" }).count(), 0);
        await ctx.close();
      });
      assertEquals(pageErrors, []);
    } finally {
      await session.close();
    }
  },
}));
