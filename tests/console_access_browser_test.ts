/**
 * The console's access-control pages in Chromium against the real server: a bucket's Permissions
 * page (policy editor with S3's error inline, ACL view, CORS sample, ownership), the policy
 * simulator there and on the Access page, the tenant public access block on the Tenants page and
 * the server's on the Settings page.
 * Without Chromium on PATH the test is skipped with the reason printed, and fails under CI.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { consoleSession, pageApi, shot, stepWithShot, submitLogin } from "./_helpers/browser.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

function assertMatch(text: string, re: RegExp): void {
  assert(re.test(text), `${JSON.stringify(text)} does not match ${re}`);
}

const chromiumProgram = await findProgram("chromium");
const ADMIN = "admin";
const PASSWORD = "Access-console-Pa55!";
const BUCKET = "access-ui";

Deno.test(needs(chromiumProgram, {
  name: "console in Chromium: bucket permissions page, policy simulator, tenant public access",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const session = await consoleSession(chromiumProgram.path, { password: PASSWORD });
    const { srv, browser, pageErrors, watch } = session;
    const base = srv.consoleUrl;
    try {
      const page = await (await browser.newContext()).newPage();
      watch(page);
      const step = stepWithShot(t, page);
      const call = pageApi(page);
      let tenantId = "";

      await step("sign in and create a bucket, a tenant and its user", async () => {
        await page.goto(`${base}/login`);
        await submitLogin(page, ADMIN, PASSWORD);
        await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 });
        assertEquals((await call("POST", "/buckets", { name: BUCKET })).status, 201);
        const tenant = await call("POST", "/tenants", { name: "shop" });
        assertEquals(tenant.status, 201, tenant.text);
        tenantId = JSON.parse(tenant.text).id;
        const user = await call("POST", "/users", {
          username: "shop-clerk",
          password: "Shop-clerk-Pa55!",
          role: "tenant_user",
          tenantId,
        });
        assertEquals(user.status, 201, user.text);
      });

      await step(
        "the bucket list links to the Permissions page; private has no badge",
        async () => {
          await page.goto(`${base}/buckets`);
          const row = page.locator(`tr[data-bucket="${BUCKET}"]`);
          await row.waitFor({ timeout: 15_000 });
          assertEquals(await row.locator("[data-public]").count(), 0);
          await row.locator("a", { hasText: "Policy & ACL" }).click();
          await page.waitForURL((u) => u.pathname === `/buckets/${BUCKET}/permissions`);
          await page.waitForSelector("#bucket-access", { timeout: 15_000 });
        },
      );

      await step("the policy editor shows the server's refusal inline", async () => {
        const editor = page.locator("#policy-editor");
        const text = editor.locator("textarea");
        // No policy yet: the sample names this bucket.
        await page.waitForFunction(
          (b) =>
            (document.querySelector("#policy-editor textarea") as HTMLTextAreaElement)?.value
              .includes(`arn:aws:s3:::${b}/*`),
          BUCKET,
          { timeout: 15_000 },
        );
        const bad = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":' +
          '{"AWS":"not a principal"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::' +
          `${BUCKET}/*"}]}`;
        await text.fill(bad);
        await editor.locator("button", { hasText: "Save" }).click();
        const alert = editor.locator("[data-error]");
        await alert.waitFor({ timeout: 15_000 });
        // Without the bucket policy operation the server answers NotImplemented; with it,
        // MalformedPolicy. Either way S3's Code and Message are shown as sent.
        assertMatch(
          (await alert.textContent())!,
          /^(NotImplemented: \S.+|MalformedPolicy: Invalid principal in policy)$/,
        );
        assertEquals(await text.inputValue(), bad, "the text stays for correction");
        await shot(page, "bucket-policy-error");
      });

      await step("the ACL view shows the owner and the grants", async () => {
        const acl = page.locator("#acl-editor");
        await acl.locator("[data-owner]").waitFor({ timeout: 15_000 });
        const me = JSON.parse((await call("GET", "/auth/me")).text);
        const id = (me.user ?? me).id as string;
        // The owner by display name where S3 gives one, else by canonical id (the user id).
        assert([ADMIN, id].includes((await acl.locator("[data-owner]").textContent())!));
        assertEquals(await acl.locator("code").first().textContent(), id);
        const rows = acl.locator("tr[data-acl-grant]");
        assertEquals(await rows.count(), 1);
        const cells = await rows.first().locator("td").allTextContents();
        assertEquals(cells.slice(1, 3), ["CanonicalUser", "FULL_CONTROL"]);
        assert(cells[0].includes(id), cells[0]);
      });

      await step(
        "the CORS editor offers a sample; ownership and public access render",
        async () => {
          await page.waitForFunction(
            () =>
              (document.querySelector("#cors-editor textarea") as HTMLTextAreaElement)?.value
                .includes("<CORSConfiguration"),
            undefined,
            { timeout: 15_000 },
          );
          await page.locator("#ownership-setting select[name=ownership]").waitFor();
          await page.waitForSelector(
            "#bucket-public-access form, #bucket-public-access [data-unavailable]",
            { timeout: 15_000 },
          );
          await shot(page, "bucket-permissions");
        },
      );

      await step("the simulator on the bucket: anonymous denied, the owner allowed", async () => {
        const sim = page.locator("#policy-simulator");
        const ask = async (principal: string) => {
          await sim.locator("input[name=principal]").fill(principal);
          await sim.locator("select[name=op]").selectOption("GetObject");
          await sim.locator("input[name=key]").fill("photos/cat.jpg");
          await sim.locator("input[name=sourceIp]").fill("203.0.113.7");
          await sim.locator("input[name=secure]").check();
          await page.evaluate(() => document.querySelector("#simulation-result")?.remove());
          await sim.locator("button[type=submit]").click();
          const result = page.locator("#simulation-result");
          await result.waitFor({ timeout: 15_000 });
          return {
            allowed: await result.getAttribute("data-allowed"),
            verdict: await result.locator(".sim-verdict").textContent(),
            by: await result.locator("[data-by]").textContent(),
          };
        };
        const anon = await ask("anonymous");
        assertEquals([anon.allowed, anon.verdict], ["false", "Denied"]);
        assertMatch(anon.by!, /implicit deny/);
        await shot(page, "simulator-denied");
        const owner = await ask(ADMIN);
        assertEquals([owner.allowed, owner.verdict], ["true", "Allowed"]);
        assert(owner.by!.length > 0);
        await shot(page, "simulator-allowed");
      });

      await step("the object details dialog shows the object's ACL", async () => {
        const put = await page.evaluate(async (b) => {
          const r = await fetch(`/api/v1/s3/${b}/notes/a.txt`, { method: "PUT", body: "hello" });
          return r.status;
        }, BUCKET);
        assertEquals(put, 200);
        await page.click("#bucket-access a");
        await page.click('tr[data-prefix="notes/"] button');
        await page.click('tr[data-key="notes/a.txt"] td:nth-child(2) button');
        const acl = page.locator("#object-details #object-acl-editor");
        await acl.locator("tr[data-acl-grant]").first().waitFor({ timeout: 15_000 });
        assertEquals(
          (await acl.locator("tr[data-acl-grant] td").allTextContents()).slice(1, 3),
          ["CanonicalUser", "FULL_CONTROL"],
        );
        await shot(page, "object-acl");
        await page.click("#object-details >> text=Close");
      });

      await step("the simulator on the Access page names the bucket; errors inline", async () => {
        await page.goto(`${base}/access`);
        const sim = page.locator("#policy-simulator");
        await sim.waitFor({ timeout: 15_000 });
        await sim.locator("input[name=principal]").fill("shop-clerk");
        await sim.locator("select[name=op]").selectOption("ListObjectsV2");
        await sim.locator("input[name=bucket]").fill(BUCKET);
        await sim.locator("button[type=submit]").click();
        await page.locator("#simulation-result").waitFor({ timeout: 15_000 });
        // Another tenant's user reaches a global bucket only through its policy or ACL.
        assertEquals(await page.getAttribute("#simulation-result", "data-allowed"), "false");
        await sim.locator("input[name=principal]").fill("nobody-by-this-name");
        await sim.locator("button[type=submit]").click();
        const err = sim.locator("[data-error]");
        await err.waitFor({ timeout: 15_000 });
        assertMatch((await err.textContent())!, /^InvalidRequest: no user is called/);
        assertEquals(await page.locator("#simulation-result").count(), 0);
      });

      await step("the tenant's public access block on the Tenants page", async () => {
        await page.goto(`${base}/tenants`);
        await page.locator("button", { hasText: "Public access" }).first().click();
        const panel = page.locator(`#tenant-public-access-${tenantId}`);
        await panel.locator("form").waitFor({ timeout: 15_000 });
        await panel.locator("input[name=IgnorePublicAcls]").check();
        await panel.locator("button[type=submit]").click();
        await panel.locator(".alert.ok, [role=status]").first().waitFor({ timeout: 15_000 });
        const got = await call("GET", `/tenants/${tenantId}/public-access-block`);
        assertEquals(JSON.parse(got.text).publicAccessBlock?.ignorePublicAcls, true, got.text);
        await shot(page, "tenant-public-access");
      });

      await step("the server's public access block on the Settings page", async () => {
        await page.goto(`${base}/settings`);
        const panel = page.locator("#global-public-access");
        await panel.locator("form").waitFor({ timeout: 15_000 });
        await panel.locator("input[name=BlockPublicPolicy]").check();
        await panel.locator("button[type=submit]").click();
        await panel.locator(".alert.ok, [role=status]").first().waitFor({ timeout: 15_000 });
        const got = JSON.parse((await call("GET", "/settings")).text);
        assertEquals(got.publicAccessBlock?.blockPublicPolicy, true, JSON.stringify(got));
        assertEquals(got.publicAccessBlock?.ignorePublicAcls, false);
        await shot(page, "global-public-access");
      });

      assertEquals(pageErrors, [], "no script errors in the page");
    } finally {
      await session.close();
    }
  },
}));
