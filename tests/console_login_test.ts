/**
 * Console sign-in flows in Chromium against the real server: forced password change, 2FA setup
 * on the profile page (QR code, backup codes), the TOTP step at login, and the lockout message.
 * Without Chromium on PATH the test is skipped with the reason printed, and fails under CI.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import {
  deleteBucketRow,
  launch,
  pickFile,
  shot,
  submitLogin,
  waitForUpload,
} from "./_helpers/browser.ts";
import { findProgram, needs } from "./_helpers/programs.ts";
import { base32Decode, totp } from "../server/iam/totp.ts";

const chromiumProgram = await findProgram("chromium");

Deno.test(needs(chromiumProgram, {
  name: "console sign-in, 2FA, tenant buckets with grants and quota, settings, lockout",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const srv = await startServer({
      env: { MAXIOFS_ROOT_USER: "admin", MAXIOFS_ROOT_PASSWORD: "Admin-pass-123" },
    });
    const browser = await launch(chromiumProgram.path);
    const base = srv.consoleUrl;
    try {
      // Set-up through the JSON API as the admin (bearer token, no browser).
      const call = async (path: string, body: unknown, token?: string) => {
        const res = await fetch(`${base}/api/v1/${path}`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(body),
        });
        const doc = await res.json();
        assert(res.ok, `${path}: ${res.status} ${JSON.stringify(doc)}`);
        return doc;
      };
      const { token } = await call("auth/login", { username: "admin", password: "Admin-pass-123" });
      const tenant = await call("tenants", { name: "acme" }, token);
      for (const username of ["carol", "dave"]) {
        await call("users", {
          username,
          password: "Initial-pass-1",
          role: "tenant_user",
          tenantId: tenant.id,
          mustChangePassword: true,
        }, token);
      }

      const patch = async (path: string, body: unknown) => {
        const res = await fetch(`${base}/api/v1/${path}`, {
          method: "PATCH",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
        });
        assert(res.ok, `${path}: ${res.status} ${await res.text()}`);
      };
      await patch(`tenants/${tenant.id}`, {
        quota: { maxBytes: null, maxBuckets: 2, maxAccessKeys: 10 },
      });

      const page = await (await browser.newContext()).newPage();

      await t.step("first sign-in asks for a new password", async () => {
        await page.goto(`${base}/keys`);
        await submitLogin(page, "carol", "Initial-pass-1");
        await page.waitForSelector("input[name=new]", { timeout: 15_000 });
        await shot(page, "login-change-password");
        await page.fill("input[name=new]", "Carol-new-pass-2");
        await page.fill("input[name=confirm]", "Carol-new-pass-2");
        await page.click("button[type=submit]");
        await page.waitForURL((u) => u.pathname === "/keys", { timeout: 15_000 });
        const nav = await page.locator("nav.sidebar").textContent();
        assert(!nav?.includes("Tenants") && !nav?.includes("Users"), "no admin pages for users");
      });

      let backup = "";
      let secret = "";
      await t.step("2FA setup shows a QR code and backup codes", async () => {
        await page.goto(`${base}/profile`);
        await page.click("text=Set up 2FA");
        await page.waitForSelector("img.qr", { timeout: 15_000 });
        const src = await page.getAttribute("img.qr", "src");
        assert(src?.startsWith("data:image/svg+xml,"), "QR code as an SVG data URL");
        secret = (await page.textContent("#totp-secret"))!.trim();
        await shot(page, "profile-2fa-setup");
        await page.fill("input[name=code]", totp(base32Decode(secret), Date.now()));
        await page.click("text=Turn on 2FA");
        await page.waitForSelector("#backup-codes li", { timeout: 15_000 });
        const codes = await page.locator("#backup-codes li").allTextContents();
        assertEquals(codes.length, 10);
        backup = codes[0].trim();
        await shot(page, "profile-backup-codes");
      });

      await t.step("sign-in with 2FA asks for a code; a wrong one is refused", async () => {
        await page.click("text=Sign out");
        await page.waitForURL((u) => u.pathname === "/login", { timeout: 15_000 });
        await submitLogin(page, "carol", "Carol-new-pass-2");
        await page.waitForSelector("input[name=code]", { timeout: 15_000 });
        await page.fill("input[name=code]", "000000");
        await page.click("button[type=submit]");
        await page.waitForSelector("#login-error", { timeout: 15_000 });
        assert((await page.textContent("#login-error"))!.includes("not valid"));
        await shot(page, "login-totp");
        await page.fill("input[name=code]", backup);
        await page.click("button[type=submit]");
        await page.waitForURL((u) => u.pathname === "/", { timeout: 15_000 });
      });

      await t.step("new backup codes replace the old ones", async () => {
        await page.goto(`${base}/profile`);
        const form = page.locator("form", { hasText: "New backup codes" });
        // The next 30-second step: the enabling code's step was used and replays are refused.
        await form.locator("input[name=code]").fill(
          totp(base32Decode(secret), Date.now() + 30_000),
        );
        await form.locator("button[type=submit]").click();
        await page.waitForSelector("#backup-codes li", { timeout: 15_000 });
        const fresh = await page.locator("#backup-codes li").allTextContents();
        assertEquals(fresh.length, 10);
        assert(!fresh.includes(backup), "a used code is not reissued");
      });

      await t.step("a global admin manages a tenant's buckets and sees its quota", async () => {
        const admin = await (await browser.newContext()).newPage();
        await admin.goto(`${base}/login`);
        await submitLogin(admin, "admin", "Admin-pass-123");
        await admin.waitForURL((u) => u.pathname === "/", { timeout: 15_000 });
        await admin.goto(`${base}/buckets`);
        await admin.selectOption("select:near(:text('Namespace'))", { label: "Tenant acme" });
        await admin.waitForSelector("text=No buckets yet.", { timeout: 15_000 });
        await admin.click("details summary");
        for (const name of ["acme-data", "acme-logs"]) {
          await admin.fill("#create-bucket input[name=name]", name);
          await admin.click("#create-bucket button[type=submit]");
          await admin.waitForSelector(`tr[data-bucket="${name}"]`, { timeout: 15_000 });
        }
        // A third bucket is over the tenant's quota of two: the API's refusal is shown.
        await admin.fill("#create-bucket input[name=name]", "acme-more");
        await admin.click("#create-bucket button[type=submit]");
        await admin.waitForSelector(".alert.error", { timeout: 15_000 });
        assertEquals(await admin.locator('tr[data-bucket="acme-more"]').count(), 0);
        // Grant carol read access to acme-data; she then browses it but cannot upload.
        await admin.click('tr[data-bucket="acme-data"] >> text=Permissions');
        await admin.waitForSelector("#permissions-dialog[open] #grant-form", { timeout: 15_000 });
        await admin.waitForSelector('#grant-form select[name=subjectId] option:text("carol")', {
          state: "attached",
          timeout: 15_000,
        });
        await admin.selectOption("#grant-form select[name=subjectId]", { label: "carol" });
        await admin.selectOption("#grant-form select[name=access]", "read");
        await admin.click("#grant-form button[type=submit]");
        await admin.waitForSelector("#permissions-dialog tr[data-grant]", { timeout: 15_000 });
        assert((await admin.textContent("#permissions-dialog tr[data-grant]"))!.includes("carol"));
        await shot(admin, "bucket-permissions");
        await admin.click("#permissions-dialog >> text=Close");

        await page.goto(`${base}/buckets`);
        await page.waitForSelector('tr[data-bucket="acme-data"]', { timeout: 15_000 });
        assertEquals(await page.locator('tr[data-bucket="acme-logs"]').count(), 0);
        await page.goto(`${base}/buckets/acme-data`);
        await page.waitForSelector("text=This folder is empty.", { timeout: 15_000 });
        await pickFile(page, "nope.txt", "text/plain", "x");
        await waitForUpload(page, "nope.txt", "failed", 15_000);
        const why = await page.getAttribute('li[data-upload="nope.txt"] .badge', "title");
        assert(/denied/i.test(why ?? ""), `upload refused with S3's message: ${why}`);

        await admin.selectOption("select:near(:text('Namespace'))", { label: "Global" });
        await admin.waitForSelector("text=No buckets yet.", { timeout: 15_000 });
        assertEquals(await admin.locator('tr[data-bucket="acme-data"]').count(), 0);
        await admin.goto(`${base}/tenants`);
        const bar = admin.locator('progress[aria-label^="Buckets"]').first();
        await bar.waitFor({ timeout: 15_000 });
        assertEquals(await bar.getAttribute("data-level"), "red");
        await shot(admin, "tenants-quota");
        await admin.goto(`${base}/settings`);
        await admin.fill("#settings-form input[name=lockoutThreshold]", "3");
        await admin.click("#settings-form button[type=submit]");
        await admin.waitForSelector("text=Settings saved.", { timeout: 15_000 });
        await admin.reload();
        await admin.waitForSelector("#settings-form", { timeout: 15_000 });
        assertEquals(await admin.inputValue("#settings-form input[name=lockoutThreshold]"), "3");
        await shot(admin, "settings");

        await admin.goto(`${base}/access`);
        await admin.fill("#create-group input[name=name]", "auditors");
        await admin.selectOption("#create-group select[name=tenantId]", { label: "acme" });
        await admin.click("#create-group button[type=submit]");
        const group = admin.locator('[data-group="auditors"]');
        await group.waitFor({ timeout: 15_000 });
        await group.locator("select[name=userId]").selectOption({ label: "carol" });
        await group.locator("button", { hasText: "Add member" }).click();
        await admin.waitForSelector('[data-group="auditors"] .chips li:has-text("carol")', {
          timeout: 15_000,
        });
        await admin.click("text=Create policy");
        await admin.fill("#create-policy input[name=name]", "read-data");
        await admin.selectOption("#create-policy select[name=tenantId]", { label: "acme" });
        await admin.click("#create-policy button[type=submit]");
        const policy = admin.locator('[data-policy="read-data"]');
        await policy.waitFor({ timeout: 15_000 });
        await policy.locator("select[name=target]").selectOption({ label: "group auditors" });
        await policy.locator("button", { hasText: "Attach" }).click();
        await admin.waitForSelector('[data-policy="read-data"] .chips li:has-text("auditors")', {
          timeout: 15_000,
        });
        await shot(admin, "groups-policies");
        // The chips' × buttons undo both.
        await policy.locator('button[aria-label="Detach from group auditors"]').click();
        await admin.waitForSelector('[data-policy="read-data"] .chips li:has-text("auditors")', {
          state: "detached",
          timeout: 15_000,
        });
        await group.locator('button[aria-label="Remove carol from auditors"]').click();
        await admin.waitForSelector('[data-group="auditors"] .chips li:has-text("carol")', {
          state: "detached",
          timeout: 15_000,
        });
        await admin.goto(`${base}/buckets`);
        await admin.selectOption("select:near(:text('Namespace'))", { label: "Tenant acme" });
        for (const name of ["acme-data", "acme-logs"]) {
          await deleteBucketRow(admin, name);
        }
      });

      await t.step("repeated wrong passwords lock the account with a message", async () => {
        const other = await (await browser.newContext()).newPage();
        await other.goto(`${base}/login`);
        let text = "";
        let attempts = 0;
        for (let i = 0; i < 6 && !text.includes("locked"); i++) {
          attempts++;
          await submitLogin(other, "dave", `wrong-${i}`);
          await other.waitForSelector("#login-error", { timeout: 15_000 });
          await other.waitForFunction(() =>
            !document.querySelector("button[type=submit]")?.hasAttribute("disabled")
          );
          text = (await other.textContent("#login-error")) ?? "";
        }
        assert(text.startsWith("This account is locked"), text);
        assertEquals(attempts, 4, "locked on the attempt after the 3 failures set in settings");
        await shot(other, "login-locked");
      });
    } finally {
      await browser.close();
      await srv.stop();
    }
  },
}));
