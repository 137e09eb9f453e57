/**
 * The bucket's Replication tab in Chromium against the real server: a destination added through
 * its form (the secret never shown again), a rule added, an object that fails to copy while the
 * destination is down listed with its error, retried from the failure list once it is back, and
 * sync now. Without Chromium on PATH the test is skipped with the reason printed, and fails
 * under CI.
 */
import {
  CreateBucketCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { consoleSession, pageApi, shot, stepWithShot, submitLogin } from "./_helpers/browser.ts";
import { findProgram, needs } from "./_helpers/programs.ts";
import { startServer, type TestServer } from "./_helpers/server.ts";
import { eventually, status } from "./_helpers/replication.ts";

const chromiumProgram = await findProgram("chromium");
const ADMIN = "admin";
const PASSWORD = "Replication-console-Pa55!";
const BUCKET = "repl-ui";

Deno.test(needs(chromiumProgram, {
  name: "console in Chromium: the Replication tab (destination, rule, failures, retry, sync)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const session = await consoleSession(chromiumProgram.path, {
      password: PASSWORD,
      args: ["--allow-private-endpoints"],
    });
    const { srv, browser, pageErrors, watch } = session;
    const s3 = srv.client();
    const base = srv.consoleUrl;
    let dest: TestServer = await startServer({ args: ["--allow-private-endpoints"] });
    const destDir = dest.dataDir;
    const destPort = dest.port;
    const restarted: TestServer[] = [];
    try {
      await dest.client().send(new CreateBucketCommand({ Bucket: "remote" }));
      await dest.stop({ keepData: true });
      const page = await (await browser.newContext()).newPage();
      watch(page);
      const step = stepWithShot(t, page);
      const call = pageApi(page);
      const tab = page.locator("#bucket-replication");

      await step("sign in; a versioned bucket", async () => {
        await page.goto(`${base}/login`);
        await submitLogin(page, ADMIN, PASSWORD);
        await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 });
        await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
        await s3.send(
          new PutBucketVersioningCommand({
            Bucket: BUCKET,
            VersioningConfiguration: { Status: "Enabled" },
          }),
        );
      });

      await step("the tab, a destination and a rule through the forms", async () => {
        await page.goto(`${base}/buckets/${BUCKET}`);
        await page.locator("nav.tabs a", { hasText: "Replication" }).click();
        await page.waitForURL((u) => u.pathname.endsWith("/replication"));
        await tab.locator("text=No replication rules").waitFor({ timeout: 15_000 });
        await tab.locator("summary", { hasText: "Add destination" }).click();
        const form = tab.locator("#replication-add-destination");
        await form.locator("input[name=name]").fill("remote");
        await form.locator("input[name=endpoint]").fill(dest.endpoint);
        await form.locator("input[name=bucket]").fill("remote");
        await form.locator("input[name=accessKey]").fill(dest.accessKey);
        await form.locator("input[name=secretKey]").fill(dest.secretKey);
        await form.locator("button[type=submit]").click();
        await tab.locator("#replication-destinations", { hasText: "arn:aws:s3:::remote" })
          .waitFor({ timeout: 15_000 });
        assert(!(await page.content()).includes(dest.secretKey), "the secret is on the page");
        const rule = tab.locator("#replication-add-rule");
        await rule.locator("input[name=id]").fill("to-remote");
        await rule.locator("input[name=deleteMarkers]").check();
        await rule.locator("button[type=submit]").click();
        await tab.locator("td", { hasText: "to-remote" }).waitFor({ timeout: 15_000 });
        await shot(page, "replication-rules");
      });

      await step("a copy to a destination that is down is listed with its error", async () => {
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "doc.txt", Body: "hello" }));
        await eventually("the failed copy listed", async () => {
          const st = JSON.parse((await call("GET", `/buckets/${BUCKET}/replication`)).text);
          return st.failures.length > 0;
        });
        await page.reload();
        await tab.locator("#replication-failures", { hasText: "doc.txt" }).waitFor({
          timeout: 15_000,
        });
        await tab.locator("#replication-destinations button", { hasText: "Test" }).click();
        await tab.locator("[data-error]", { hasText: "remote:" }).waitFor({ timeout: 15_000 });
        await shot(page, "replication-failures");
      });

      await step("the destination is back: Retry copies it", async () => {
        dest = await startServer({
          dataDir: destDir,
          args: ["--allow-private-endpoints", "--listen", `127.0.0.1:${destPort}`],
        });
        restarted.push(dest);
        await tab.locator("#replication-failures button", { hasText: "Retry" }).first().click();
        await tab.locator("text=queued again").waitFor({ timeout: 15_000 });
        await eventually("the copy at the destination", async () =>
          await status(
            dest.client().send(new HeadObjectCommand({ Bucket: "remote", Key: "doc.txt" })),
          ) === 200);
      });

      await step("sync now", async () => {
        await tab.locator("#replication-sync").click();
        await tab.locator("text=Sync started").waitFor({ timeout: 15_000 });
      });
      assertEquals(pageErrors, []);
    } finally {
      for (const r of restarted) await r.stop();
      await Deno.remove(destDir, { recursive: true }).catch(() => {});
      await session.close();
    }
  },
}));
