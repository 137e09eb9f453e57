/**
 * The console's encryption settings in Chromium against the real server: a bucket's default
 * encryption on its Permissions page (saved, shown again after a reload, turned off), an upload
 * through the object browser getting it, and the details dialog naming each object's encryption
 * (an SSE-C object: the message that its key is needed, no download).
 * Without Chromium on PATH the test is skipped with the reason printed, and fails under CI.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { consoleSession, pageApi, shot, stepWithShot, submitLogin } from "./_helpers/browser.ts";
import { findProgram, needs } from "./_helpers/programs.ts";
import { writeParams } from "./_helpers/sse.ts";

const chromiumProgram = await findProgram("chromium");
const ADMIN = "admin";
const PASSWORD = "Encryption-console-Pa55!";
const BUCKET = "enc-ui";

Deno.test(needs(chromiumProgram, {
  name: "console in Chromium: bucket default encryption and object encryption details",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const session = await consoleSession(chromiumProgram.path, {
      password: PASSWORD,
      args: ["--sse-c-over-http"],
    });
    const { srv, browser, pageErrors, watch } = session;
    const s3 = srv.client();
    const base = srv.consoleUrl;
    try {
      const page = await (await browser.newContext()).newPage();
      watch(page);
      const step = stepWithShot(t, page);
      const call = pageApi(page);
      const setting = page.locator("#encryption-setting");

      await step("sign in and create a bucket", async () => {
        await page.goto(`${base}/login`);
        await submitLogin(page, ADMIN, PASSWORD);
        await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 });
        assertEquals((await call("POST", "/buckets", { name: BUCKET })).status, 201);
      });

      await step(
        "default encryption: off, then SSE-KMS with a key id, kept after a reload",
        async () => {
          await page.goto(`${base}/buckets/${BUCKET}/permissions`);
          await setting.locator("text=No default encryption is set.").waitFor({ timeout: 15_000 });
          await setting.locator("select[name=mode]").selectOption("aws:kms");
          await setting.locator("input[name=kmsKeyId]").fill("testkey-1");
          await setting.locator("button[type=submit]").click();
          await setting.locator("text=SSE-KMS").first().waitFor({ timeout: 15_000 });
          const saved = await call("GET", `/buckets/${BUCKET}/encryption`);
          assertEquals(JSON.parse(saved.text).encryption, {
            algorithm: "aws:kms",
            kmsKeyId: "testkey-1",
            bucketKey: false,
          });
          await page.reload();
          await page.waitForFunction(
            () =>
              (document.querySelector(
                "#encryption-setting input[name=kmsKeyId]",
              ) as HTMLInputElement)
                ?.value === "testkey-1",
            undefined,
            { timeout: 15_000 },
          );
          await shot(page, "bucket-encryption");
        },
      );

      await step("SSE-S3 as the default, then an object's details name it", async () => {
        await setting.locator("select[name=mode]").selectOption("AES256");
        await setting.locator("button[type=submit]").click();
        await setting.locator("text=SSE-S3").first().waitFor({ timeout: 15_000 });
        assertEquals(
          JSON.parse((await call("GET", `/buckets/${BUCKET}/encryption`)).text).encryption
            .algorithm,
          "AES256",
        );
        // Written without any header: the bucket default applies.
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "plain.txt", Body: "hello" }));
        await s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: "secret.txt",
            Body: "hidden",
            ...writeParams("SSE-C"),
          }),
        );
        await page.goto(`${base}/buckets/${BUCKET}`);
        await page.waitForSelector('tr[data-key="plain.txt"]', { timeout: 15_000 });
        await page.click('tr[data-key="plain.txt"] td:nth-child(2) button');
        await page.waitForSelector("#object-details dl.meta dt", { timeout: 15_000 });
        const meta = await page.locator("#object-details dl.meta").textContent();
        assert(meta?.includes("SSE-S3"), meta ?? "");
        await page.click("#object-details >> text=Close");
      });

      await step("an SSE-C object: the dialog says its key is needed", async () => {
        await page.click('tr[data-key="secret.txt"] td:nth-child(2) button');
        await page.waitForSelector("#object-needs-key", { timeout: 15_000 });
        assertEquals(
          await page.locator("#object-details a.btn", { hasText: "Download" }).count(),
          0,
        );
        await shot(page, "object-needs-key");
        await page.click("#object-details >> text=Close");
      });

      await step(
        "an SSE-C object's Download in the listing explains instead of saving",
        async () => {
          let downloads = 0;
          page.on("download", () => downloads++);
          await page.click('tr[data-key="secret.txt"] a.btn:has-text("Download")');
          await page.locator("text=customer-provided key (SSE-C)").waitFor({ timeout: 15_000 });
          assertEquals(downloads, 0);
          // A readable object is still saved.
          const [saved] = await Promise.all([
            page.waitForEvent("download", { timeout: 15_000 }),
            page.click('tr[data-key="plain.txt"] a.btn:has-text("Download")'),
          ]);
          assertEquals(saved.suggestedFilename(), "plain.txt");
        },
      );

      await step("turned off again", async () => {
        await page.goto(`${base}/buckets/${BUCKET}/permissions`);
        await setting.locator("select[name=mode]").selectOption("off");
        await setting.locator("button[type=submit]").click();
        await setting.locator("text=No default encryption is set.").waitFor({ timeout: 15_000 });
        assertEquals(
          JSON.parse((await call("GET", `/buckets/${BUCKET}/encryption`)).text).encryption,
          null,
        );
      });
      assertEquals(pageErrors, []);
    } finally {
      s3.destroy();
      await session.close();
    }
  },
}));
