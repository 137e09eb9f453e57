/**
 * The console in a real browser: playwright-core driving Debian's Chromium against the real
 * server (main.ts on ephemeral ports). Screenshots of each main page go to test-artifacts/.
 * Without Chromium on PATH the test is skipped with the reason printed, and fails under CI.
 */
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertRejects } from "./_helpers/assert.ts";
import { bodyBytes, randomBytes, REGION, startServer } from "./_helpers/server.ts";
import {
  deleteBucketRow,
  launch,
  pageApi,
  pickFile,
  shot,
  stepWithShot,
  submitLogin,
  waitForUpload,
} from "./_helpers/browser.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const chromiumProgram = await findProgram("chromium");

const ADMIN = "admin";
const PASSWORD = "Console-test-Pa55word!";
const NEW_PASSWORD = "Console-test-Pa55word-2!";
const BUCKET = "console-e2e";
const BIG = 20 * 1024 * 1024;

/** Signs in; handles the forced password change of a first login. Returns the password in use. */
async function signIn(page: Page, base: string, password: string): Promise<string> {
  await page.goto(`${base}/login`);
  await submitLogin(page, ADMIN, password);
  const which = await Promise.race([
    page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 }).then(() => "in"),
    page.waitForSelector("input[name=new]", { timeout: 20_000 }).then(() => "change"),
  ]);
  if (which === "change") {
    await page.fill("input[name=new]", NEW_PASSWORD);
    await page.fill("input[name=confirm]", NEW_PASSWORD);
    await page.click("button[type=submit]");
    await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 });
    return NEW_PASSWORD;
  }
  return password;
}

Deno.test(needs(chromiumProgram, {
  name: "console in Chromium: login, buckets, 20 MiB upload, folders, download, access keys",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const srv = await startServer({
      env: { MAXIOFS_ROOT_USER: ADMIN, MAXIOFS_ROOT_PASSWORD: PASSWORD },
    });
    const browser = await launch(chromiumProgram.path);
    const base = srv.consoleUrl;
    const pageErrors: string[] = [];
    try {
      const context = await browser.newContext({ acceptDownloads: true });
      const page = await context.newPage();
      page.on("pageerror", (e) => pageErrors.push(e.message));
      page.on("console", (m) => {
        if (m.type() === "error" && /Content Security Policy/i.test(m.text())) {
          pageErrors.push(m.text());
        }
      });
      const step = stepWithShot(t, page);
      // confirm() before deletes.
      page.on("dialog", (d) => d.accept());

      await step("a failed login shows the message", async () => {
        await page.goto(`${base}/`);
        assert(new URL(page.url()).pathname === "/login", "pages redirect to the login");
        await submitLogin(page, ADMIN, "not-the-password");
        const alert = page.locator("#login-error");
        await alert.waitFor({ timeout: 15_000 });
        assertEquals(await alert.textContent(), "Wrong username or password.");
        await shot(page, "login-failed");
      });

      await step("log in and see the dashboard", async () => {
        await signIn(page, base, PASSWORD);
        await page.waitForSelector("#dashboard", { timeout: 15_000 });
        // The integrity panel: scrubbing is off in this server, and no pass has run.
        await page.waitForSelector("#integrity >> text=Background scrubbing is off", {
          timeout: 15_000,
        });
        await shot(page, "dashboard");
      });

      await step("create a bucket with tags", async () => {
        await page.goto(`${base}/buckets`);
        await page.click("details summary");
        await page.fill("#create-bucket input[name=name]", BUCKET);
        await page.fill("#create-bucket textarea[name=tags]", "team=console");
        await page.click("#create-bucket button[type=submit]");
        await page.waitForSelector(`tr[data-bucket="${BUCKET}"]`, { timeout: 15_000 });
        await shot(page, "buckets");
      });

      const big = randomBytes(BIG, 6);
      await step("make a folder and upload 20 MiB into it with progress", async () => {
        await page.click(`tr[data-bucket="${BUCKET}"] a`);
        await page.waitForSelector("#object-table", { timeout: 15_000 });
        await page.click("text=New folder");
        // The browser runs the name's pattern (only a valid pattern is run at all).
        await page.fill("#new-folder input[name=folder]", "/docs");
        assert(
          await page.$eval(
            "#new-folder input[name=folder]",
            (el) => (el as HTMLInputElement).validity.patternMismatch,
          ),
          "a name starting with / is refused by the form",
        );
        await page.fill("#new-folder input[name=folder]", "docs");
        await page.click("#new-folder button[type=submit]");
        await page.waitForFunction(() => location.search.includes("prefix=docs"));
        // Record every progress value the page shows (data-loaded mirrors the bar).
        await page.evaluate(() => {
          const seen: number[] = [];
          (globalThis as unknown as { __seen: number[] }).__seen = seen;
          new MutationObserver((list) => {
            for (const m of list) {
              const v = (m.target as HTMLElement).getAttribute?.("data-loaded");
              if (v !== null && v !== undefined) seen.push(Number(v));
            }
          }).observe(document.body, {
            subtree: true,
            childList: true,
            attributes: true,
            attributeFilter: ["data-loaded"],
          });
        });
        await pickFile(page, "big.bin", "application/octet-stream", big);
        await waitForUpload(page, "big.bin", "done", 45_000);
        const seen = await page.evaluate(() =>
          (globalThis as unknown as { __seen: number[] }).__seen
        );
        assert(seen.some((v) => v > 0 && v < BIG), `progress between 0 and 100 %: ${seen}`);
        assertEquals(seen.at(-1), BIG);
        await page.waitForSelector('tr[data-key="docs/big.bin"]', { timeout: 15_000 });
        await shot(page, "object-browser-upload");
      });

      await step("browse into the folder from the bucket root and download", async () => {
        await page.click("#crumbs li:nth-child(2) button");
        await page.click('tr[data-prefix="docs/"] button');
        await page.waitForSelector('tr[data-key="docs/big.bin"]', { timeout: 15_000 });
        const [download] = await Promise.all([
          page.waitForEvent("download", { timeout: 30_000 }),
          page.click('tr[data-key="docs/big.bin"] a.btn'),
        ]);
        const got = await Deno.readFile((await download.path())!);
        assertEquals(got.length, BIG);
        assert(Buffer.from(got).equals(Buffer.from(big)), "downloaded bytes match");
        await page.click('tr[data-key="docs/big.bin"] td:nth-child(2) button');
        await page.waitForSelector("#object-details dl.meta", { timeout: 15_000 });
        await shot(page, "object-details");
        await page.click("#object-details >> text=Close");
      });

      await step("verify the bucket's integrity from the bucket page", async () => {
        await page.click("#verify-integrity");
        const result = page.locator("#verify-integrity-result");
        await result.waitFor({ timeout: 15_000 });
        const text = await result.textContent() ?? "";
        // The upload and the folder's marker object.
        assert(/^\d+ objects \(20\.0 MiB\) verified, no corruption$/.test(text), text);
      });

      await step("upload a folder with the folder picker, then delete it", async () => {
        const dir = await Deno.makeTempDir({ prefix: "maxiofs-console-" });
        await Deno.mkdir(`${dir}/photos/sub`, { recursive: true });
        await Deno.writeTextFile(`${dir}/photos/a.txt`, "alpha");
        await Deno.writeTextFile(`${dir}/photos/sub/b.txt`, "beta");
        try {
          await page.goto(`${base}/buckets/${BUCKET}`);
          await page.waitForSelector("#object-table", { timeout: 15_000 });
          await page.setInputFiles("#upload-folder", `${dir}/photos`);
          for (const f of ["photos/a.txt", "photos/sub/b.txt"]) {
            await page.waitForSelector(`li[data-upload="${f}"][data-status="done"]`, {
              timeout: 30_000,
            });
          }
          await page.waitForSelector('tr[data-prefix="photos/"]', { timeout: 15_000 });
          const got = await srv.client().send(
            new GetObjectCommand({ Bucket: BUCKET, Key: "photos/sub/b.txt" }),
          );
          assertEquals(new TextDecoder().decode(await bodyBytes(got.Body)), "beta");
          await page.click('tr[data-prefix="photos/"] >> text=Delete');
          await page.waitForSelector('tr[data-prefix="photos/"]', {
            state: "detached",
            timeout: 15_000,
          });
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      });

      await step("a part that keeps failing leaves a resumable upload", async () => {
        await page.goto(`${base}/buckets/${BUCKET}?prefix=docs%2F`);
        await page.waitForSelector('tr[data-key="docs/big.bin"]', { timeout: 15_000 });
        let failPart2 = true;
        let part1Sends = 0;
        await page.route(/[?&]partNumber=\d+&/, (route) => {
          const u = route.request().url();
          if (u.includes("partNumber=1&")) part1Sends++;
          return failPart2 && u.includes("partNumber=2&") ? route.abort() : route.fallback();
        });
        const data = randomBytes(17 * 1024 * 1024, 9);
        await pickFile(page, "resume.bin", "application/octet-stream", data);
        const row = page.locator('li[data-upload="resume.bin"]');
        await waitForUpload(page, "resume.bin", "failed", 45_000);
        assertEquals(await row.getAttribute("data-loaded"), String(8 * 1024 * 1024));
        await shot(page, "upload-failed");
        failPart2 = false;
        await row.locator("button", { hasText: "Resume" }).click();
        await waitForUpload(page, "resume.bin", "done", 45_000);
        assertEquals(part1Sends, 1, "the finished part is not sent again");
        await page.unrouteAll();
        const got = await srv.client().send(
          new GetObjectCommand({ Bucket: BUCKET, Key: "docs/resume.bin" }),
        );
        assert(Buffer.from(await bodyBytes(got.Body)).equals(Buffer.from(data)), "same bytes");
        // Prefix search inside the folder.
        await page.fill('input[aria-label="Search by prefix"]', "res");
        await page.click("form[role=search] button[type=submit]");
        await page.waitForSelector('tr[data-key="docs/big.bin"]', {
          state: "detached",
          timeout: 15_000,
        });
        assertEquals(await page.locator("#object-table tbody tr").count(), 1);
        await page.waitForSelector('tr[data-key="docs/resume.bin"]', { timeout: 15_000 });
      });

      await step("a running upload can be cancelled and leaves no multipart upload", async () => {
        const held = Promise.withResolvers<import("playwright-core").Route>();
        await page.route(/cancel\.bin\?partNumber=2&/, (route) => held.resolve(route));
        await pickFile(
          page,
          "cancel.bin",
          "application/octet-stream",
          randomBytes(17 * 1024 * 1024, 3),
        );
        const route = await held.promise;
        await page.locator('li[data-upload="cancel.bin"] button', { hasText: "Cancel" }).click();
        await waitForUpload(page, "cancel.bin", "cancelled", 15_000);
        await route.abort().catch(() => {});
        await page.unrouteAll();
        const uploads = await srv.client().send(
          new ListMultipartUploadsCommand({ Bucket: BUCKET }),
        );
        assertEquals(uploads.Uploads ?? [], []);
      });

      let keyId = "";
      let secret = "";
      /** An SDK client signing with the access key the console created (one attempt). */
      const keyClient = () =>
        new S3Client({
          endpoint: srv.endpoint,
          region: REGION,
          forcePathStyle: true,
          credentials: { accessKeyId: keyId, secretAccessKey: secret },
          maxAttempts: 1,
        });
      await step("create an access key and use it from the AWS SDK", async () => {
        await page.goto(`${base}/`);
        await page.waitForSelector('[data-testid="stat-buckets"]', { timeout: 15_000 });
        assertEquals(await page.textContent('[data-testid="stat-buckets"]'), "1");
        await shot(page, "dashboard-with-data");
        await page.goto(`${base}/keys`);
        await page.fill("#create-key input[name=description]", "browser test");
        await page.click("#create-key button[type=submit]");
        await page.waitForSelector("#secret-dialog[open]", { timeout: 15_000 });
        keyId = (await page.textContent("#new-key-id"))!.trim();
        secret = (await page.textContent("#new-key-secret"))!.trim();
        assert(/^AKIA[A-Z0-9]{16}$/.test(keyId), keyId);
        assertEquals(secret.length, 40);
        await shot(page, "access-key-created");
        await page.click("#secret-dialog button.primary");
        const s3 = keyClient();
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "sdk.txt", Body: "from sdk" }));
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
        assertEquals(listed.Contents?.map((o) => o.Key).sort(), [
          "docs/",
          "docs/big.bin",
          "docs/resume.bin",
          "sdk.txt",
        ]);
        const head = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "docs/big.bin" }));
        assertEquals((await bodyBytes(head.Body)).length, BIG);
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "sdk.txt" }));
        // Disabling the key in the console takes effect on the next request; enabling restores it.
        const row = page.locator(`tr[data-key-id="${keyId}"]`);
        await row.locator("button", { hasText: "Disable" }).click();
        await page.waitForSelector(`tr[data-key-id="${keyId}"] .badge.bad`, { timeout: 15_000 });
        const denied = await assertRejects(() =>
          s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))
        );
        assertEquals((denied as { name?: string }).name, "InvalidAccessKeyId");
        await row.locator("button", { hasText: "Enable" }).click();
        await page.waitForSelector(`tr[data-key-id="${keyId}"] .badge.ok`, { timeout: 15_000 });
        await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
        s3.destroy();
      });

      await step("screenshots of the admin pages", async () => {
        for (
          const [path, name, ready] of [
            ["/users", "users", "table"],
            ["/tenants", "tenants", "details"],
            ["/audit", "audit", "#audit-table"],
            ["/profile", "profile", "#password-form"],
          ]
        ) {
          await page.goto(`${base}${path}`);
          await page.waitForSelector(ready, { timeout: 15_000 });
          await shot(page, name);
        }
      });

      await step("encryption: rotate the master key and watch the old one retire", async () => {
        await page.goto(`${base}/encryption`);
        await page.waitForSelector("[data-active-key] code", { timeout: 15_000 });
        const before = await page.textContent("[data-active-key] code");
        await page.click("#rotate-master-key");
        // The page reads the status again while the old key waits to be retired.
        await page.waitForFunction(
          (old) => {
            const active = document.querySelector("[data-active-key] code")?.textContent;
            const retiring = document.querySelector("[data-retiring]")?.textContent;
            return !!active && active !== old && retiring === "none";
          },
          before,
          { timeout: 30_000 },
        );
        assertEquals(await page.textContent("[data-key-count]"), "1");
        await shot(page, "encryption");
      });

      await step("audit log: filter and CSV export", async () => {
        await page.goto(`${base}/audit`);
        await page.waitForSelector("#audit-table", { timeout: 15_000 });
        await page.fill('input[name="action"]', "login");
        await page.selectOption('select[name="result"]', "failure");
        await page.click('form[aria-label="Audit filters"] button[type=submit]');
        await page.waitForFunction(
          () =>
            [...document.querySelectorAll("#audit-table tbody code")]
              .every((c) => c.textContent === "login.failure") &&
            document.querySelectorAll("#audit-table tbody code").length > 0,
          undefined,
          { timeout: 15_000 },
        );
        const [download] = await Promise.all([
          page.waitForEvent("download", { timeout: 15_000 }),
          page.click("text=Export CSV"),
        ]);
        const csv = await Deno.readTextFile((await download.path())!);
        const lines = csv.trim().split("\r\n");
        assertEquals(
          lines[0],
          "time,actorName,actorId,tenantId,action,resource,ip,userAgent,result,detail",
        );
        assert(lines.length >= 2, csv);
        assert(lines.slice(1).every((l) => l.includes(",login.failure,")), csv);
      });

      await step(
        "versions: two uploads of one key, listed and deleted in the details",
        async () => {
          const vb = "console-versions";
          await page.goto(`${base}/buckets`);
          await page.click("details summary");
          await page.fill("#create-bucket input[name=name]", vb);
          await page.check("#create-bucket input[name=versioning]");
          await page.click("#create-bucket button[type=submit]");
          await page.waitForSelector(`tr[data-bucket="${vb}"]`, { timeout: 15_000 });
          assert((await page.textContent(`tr[data-bucket="${vb}"]`))!.includes("Enabled"));
          await page.goto(`${base}/buckets/${vb}`);
          await page.waitForSelector("#object-table", { timeout: 15_000 });
          for (const text of ["first", "second!"]) {
            const clear = page.locator("button", { hasText: "Clear finished" });
            if (await clear.count()) await clear.click();
            await pickFile(page, "note.txt", "text/plain", text);
            await waitForUpload(page, "note.txt", "done", 15_000);
          }
          await page.click('tr[data-key="note.txt"] td:nth-child(2) button');
          const rows = page.locator("#object-versions tbody tr");
          await page.waitForFunction(
            () => document.querySelectorAll("#object-versions tbody tr").length === 2,
            undefined,
            { timeout: 15_000 },
          );
          assert((await rows.first().textContent())!.includes("latest"));
          await shot(page, "object-versions");
          for (let left = 2; left > 0; left--) {
            await rows.first().locator("button", { hasText: "Delete" }).click();
            await page.waitForFunction(
              (n) => document.querySelectorAll("#object-versions tbody tr").length === n,
              left - 1,
              { timeout: 15_000 },
            );
          }
          await page.click("#object-details >> text=Close");
          await page.click("text=Refresh");
          await page.waitForSelector("text=This folder is empty.", { timeout: 15_000 });
          await page.goto(`${base}/buckets`);
          await deleteBucketRow(page, vb);
        },
      );

      await step("dark mode and a narrow screen", async () => {
        await page.emulateMedia({ colorScheme: "dark" });
        await page.goto(`${base}/buckets/${BUCKET}?prefix=docs%2F`);
        await page.waitForSelector('tr[data-key="docs/big.bin"]', { timeout: 15_000 });
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assertEquals(bg, "rgb(17, 19, 24)");
        await shot(page, "object-browser-dark");
        await page.setViewportSize({ width: 390, height: 844 });
        await page.goto(`${base}/`);
        await page.waitForSelector("#dashboard", { timeout: 15_000 });
        await shot(page, "dashboard-mobile");
        await page.setViewportSize({ width: 1280, height: 720 });
        await page.emulateMedia({ colorScheme: "light" });
      });

      await step("a global admin browses and uploads into a tenant's bucket", async () => {
        const call = pageApi(page);
        const tenant = await call("POST", "/tenants", { name: "browse-tenant" });
        assertEquals(tenant.status, 201, tenant.text);
        const tid = JSON.parse(tenant.text).id as string;
        const tb = "tenant-files";
        assertEquals((await call("POST", "/buckets", { name: tb, tenantId: tid })).status, 201);
        await page.goto(`${base}/buckets?tenantId=${tid}`);
        await page.click(`tr[data-bucket="${tb}"] a`);
        await page.waitForSelector("#object-table", { timeout: 15_000 });
        assert(page.url().includes(`tenantId=${tid}`), page.url());
        await pickFile(page, "hello.txt", "text/plain", "hello tenant");
        await waitForUpload(page, "hello.txt", "done", 15_000);
        await page.waitForSelector('tr[data-key="hello.txt"]', { timeout: 15_000 });
        await shot(page, "object-browser-tenant-bucket");
        const got = await call("GET", `/s3/${tb}/hello.txt?tenantId=${tid}`);
        assertEquals(got.text, "hello tenant");
        const global = await call("GET", `/s3/${tb}?list-type=2`);
        assertEquals(global.status, 404, "not in the global namespace");
        assertEquals((await call("DELETE", `/s3/${tb}/hello.txt?tenantId=${tid}`)).status, 204);
        assertEquals((await call("DELETE", `/buckets/${tb}?tenantId=${tid}`)).status, 204);
        assertEquals((await call("DELETE", `/tenants/${tid}`)).status, 204);
      });

      await step("an access key for another user, picked by name", async () => {
        const call = pageApi(page);
        const tenant = await call("POST", "/tenants", { name: "keys-tenant" });
        assertEquals(tenant.status, 201, tenant.text);
        const tid = JSON.parse(tenant.text).id as string;
        const made = await call("POST", "/users", {
          username: "key-owner",
          password: "Key-owner-Pa55word!",
          role: "tenant_user",
          tenantId: tid,
        });
        assertEquals(made.status, 201, made.text);
        const ownerId = JSON.parse(made.text).id as string;
        await page.goto(`${base}/keys`);
        await page.waitForSelector('#key-owner option:text("key-owner")', {
          state: "attached",
          timeout: 15_000,
        });
        await page.selectOption("#key-owner", { label: "key-owner" });
        await page.fill("#create-key input[name=description]", "for key-owner");
        await page.click("#create-key button[type=submit]");
        await page.waitForSelector("#secret-dialog[open]", { timeout: 15_000 });
        const id = (await page.textContent("#new-key-id"))!.trim();
        await page.click("#secret-dialog button.primary");
        const row = page.locator(`tr[data-key-id="${id}"]`);
        await row.waitFor({ timeout: 15_000 });
        assert((await row.textContent())!.includes("key-owner"), "the row names the owner");
        const keys = JSON.parse((await call("GET", "/access-keys")).text);
        const list = Array.isArray(keys) ? keys : keys.items;
        const key = list.find((k: { accessKeyId: string }) => k.accessKeyId === id);
        assertEquals(key.userId, ownerId);
        assertEquals((await call("DELETE", `/users/${ownerId}`)).status, 204);
        assertEquals((await call("DELETE", `/tenants/${tid}`)).status, 204);
      });

      await step("delete everything from the console", async () => {
        await page.goto(`${base}/buckets/${BUCKET}?prefix=docs%2F`);
        await page.waitForSelector('tr[data-key="docs/big.bin"]', { timeout: 15_000 });
        await page.check('tr[data-key="docs/big.bin"] input[type=checkbox]');
        await page.check('tr[data-key="docs/resume.bin"] input[type=checkbox]');
        await page.click("#delete-selected");
        await page.waitForSelector("text=This folder is empty.", { timeout: 15_000 });
        // The folder keeps its zero-byte marker: delete the folder itself.
        await page.click("#crumbs li:nth-child(2) button");
        await page.click('tr[data-prefix="docs/"] >> text=Delete');
        await page.waitForSelector('tr[data-prefix="docs/"]', {
          state: "detached",
          timeout: 15_000,
        });
        await page.goto(`${base}/buckets`);
        await deleteBucketRow(page, BUCKET);
        await page.goto(`${base}/keys`);
        await page.click(`tr[data-key-id="${keyId}"] >> text=Delete`);
        await page.waitForSelector(`tr[data-key-id="${keyId}"]`, {
          state: "detached",
          timeout: 15_000,
        });
        const s3 = keyClient();
        const err = await assertRejects(() =>
          s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))
        );
        assertEquals((err as { name?: string }).name, "InvalidAccessKeyId");
        s3.destroy();
      });

      assertEquals(pageErrors, [], "no script errors or CSP violations in the page");
    } finally {
      await browser.close();
      await srv.stop();
    }
  },
}));
