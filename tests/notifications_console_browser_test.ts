/**
 * Event notifications in the console, in Chromium against the real server (loopback targets
 * allowed): register a webhook target and test it on the Webhook targets page, add a
 * configuration on a bucket's Notifications tab and see an upload's event arrive, see S3's
 * refusal of an overlapping one, remove it. Without Chromium on PATH the test is skipped with
 * the reason printed, and fails under CI.
 */
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { consoleSession, shot, stepWithShot, submitLogin } from "./_helpers/browser.ts";
import { findProgram, needs } from "./_helpers/programs.ts";
import { startReceiver } from "./_helpers/webhook.ts";

const chromiumProgram = await findProgram("chromium");
const PASSWORD = "Notify-console-Pa55!";

Deno.test(needs(chromiumProgram, {
  name: "console in Chromium: webhook targets and a bucket's Notifications tab",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const session = await consoleSession(chromiumProgram.path, {
      password: PASSWORD,
      args: ["--allow-private-endpoints"],
    });
    const { srv, browser, pageErrors, watch } = session;
    const base = srv.consoleUrl;
    const receiver = startReceiver();
    const s3 = srv.client();
    try {
      await s3.send(new CreateBucketCommand({ Bucket: "photos" }));
      const page = await (await browser.newContext()).newPage();
      watch(page);
      page.on("dialog", (d) => d.accept());
      const step = stepWithShot(t, page);

      await step("register a target and test it", async () => {
        await page.goto(`${base}/login`);
        await submitLogin(page, "admin", PASSWORD);
        await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 });
        await page.click("nav >> text=Webhook targets");
        await page.waitForURL((u) => u.pathname === "/notifications");
        await page.waitForSelector("text=No webhook targets yet.", { timeout: 15_000 });
        await page.fill("#create-target input[name=name]", "hook");
        await page.fill("#create-target input[name=url]", receiver.url);
        await page.click("#create-target button[type=submit]");
        const row = page.locator(`tr[data-target="hook"]`);
        await row.waitFor({ timeout: 15_000 });
        assertEquals(
          await row.locator("code").nth(1).textContent(),
          "arn:maxiofs:sqs:us-east-1:global:hook",
        );
        await row.locator("button", { hasText: "Test" }).click();
        await page.waitForSelector("text=Test event delivered to hook", { timeout: 15_000 });
        await receiver.arrived(1);
        assertEquals(receiver.got[0].body.Event, "s3:TestEvent");
        await page.waitForSelector("text=No dead letters", { timeout: 15_000 });
        await shot(page, "webhook-targets");
      });

      await step("add a configuration on the bucket's tab; an upload's event arrives", async () => {
        await page.goto(`${base}/buckets/photos/permissions`);
        await page.click("nav.tabs >> text=Notifications");
        await page.waitForURL((u) => u.pathname === "/buckets/photos/notifications");
        await page.waitForSelector("text=No notifications", { timeout: 15_000 });
        const form = page.locator("#add-notification");
        await form.locator("input[name=id]").fill("jpgs");
        await form.locator("input[name=suffix]").fill(".jpg");
        await form.locator(`input[name=event][value="s3:ObjectCreated:*"]`).check();
        await form.locator("button[type=submit]").click();
        await page.locator(`tr[data-rule="jpgs"]`).waitFor({ timeout: 15_000 });
        await s3.send(new PutObjectCommand({ Bucket: "photos", Key: "cat.jpg", Body: "meow" }));
        await s3.send(new PutObjectCommand({ Bucket: "photos", Key: "cat.txt", Body: "meow" }));
        await s3.send(new PutObjectCommand({ Bucket: "photos", Key: "dog.jpg", Body: "woof" }));
        // The Test button's message, the s3:TestEvent of saving, and the two uploads' events.
        await receiver.arrived(4);
        assertEquals(receiver.records().map((r) => r.s3.object.key).sort(), ["cat.jpg", "dog.jpg"]);
        assertEquals(receiver.got.filter((g) => g.body.Event === "s3:TestEvent").length, 2);
        await shot(page, "bucket-notifications");
      });

      await step("an overlapping configuration is refused with S3's error; remove", async () => {
        const form = page.locator("#add-notification");
        await form.locator(`input[name=event][value="s3:ObjectCreated:Put"]`).check();
        await form.locator("button[type=submit]").click();
        const err = page.locator("[data-error]");
        await err.waitFor({ timeout: 15_000 });
        assert(
          (await err.textContent())?.includes("ambiguously defined"),
          await err.textContent() ?? "",
        );
        assertEquals(await page.locator("#notification-table tbody tr").count(), 1);
        await page.locator(`tr[data-rule="jpgs"] >> text=Remove`).click();
        await page.waitForSelector("text=No notifications", { timeout: 15_000 });
      });
      assertEquals(pageErrors, []);
    } finally {
      s3.destroy();
      await receiver.close();
      await session.close();
    }
  },
}));
