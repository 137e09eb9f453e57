/**
 * A bucket's Settings tab and the versioned object browser in Chromium against the real server:
 * a lifecycle rule saved and read back with the AWS SDK (a rule S3 refuses shows its error and
 * changes nothing), bucket tags edited, the Object Lock default retention of a lock bucket (and
 * no such section on another bucket), the delete-marker confirmation, "Show deleted" with
 * Restore (the delete marker removed, then an older version copied over the current one) and a
 * version deleted permanently, emptying a bucket, and force-deleting one from the bucket list
 * (a bucket with a locked version is kept and the version named).
 * Without Chromium on PATH the test is skipped with the reason printed, and fails under CI.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { consoleSession, shot, stepWithShot, submitLogin } from "./_helpers/browser.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const chromiumProgram = await findProgram("chromium");
const ADMIN = "admin";
const PASSWORD = "Settings-console-Pa55!";

async function versionsOf(s3: S3Client, bucket: string) {
  const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  return { versions: r.Versions ?? [], markers: r.DeleteMarkers ?? [] };
}

Deno.test(needs(chromiumProgram, {
  name: "console in Chromium: bucket settings, deleted objects, empty and force-delete",
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
      /** The messages of confirm() dialogs, each accepted. */
      const confirms: string[] = [];
      page.on("dialog", (d) => {
        confirms.push(d.message());
        d.accept();
      });
      await s3.send(new CreateBucketCommand({ Bucket: "set-ui" }));
      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: "set-ui",
          VersioningConfiguration: { Status: "Enabled" },
        }),
      );
      await s3.send(
        new CreateBucketCommand({ Bucket: "lock-ui", ObjectLockEnabledForBucket: true }),
      );
      const lifecycle = page.locator("#lifecycle-editor");

      await step("sign in and open the Settings tab", async () => {
        await page.goto(`${base}/login`);
        await submitLogin(page, ADMIN, PASSWORD);
        await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 });
        await page.goto(`${base}/buckets/set-ui`);
        await page.click("nav.tabs >> text=Settings");
        await page.waitForURL((u) => u.pathname === "/buckets/set-ui/settings");
        await page.locator("#versioning-setting [data-versioning]", { hasText: "Enabled" })
          .waitFor({ timeout: 15_000 });
        await lifecycle.locator("text=No lifecycle rules.").waitFor({ timeout: 15_000 });
      });

      await step("a lifecycle rule saved and read back through the SDK", async () => {
        await lifecycle.locator("button", { hasText: "Add rule" }).click();
        const form = page.locator("#lifecycle-form");
        await form.locator("input[name=id]").fill("logs-expire");
        await form.locator("input[name=prefix]").fill("logs/");
        await form.locator("select[name=expiration]").selectOption("days");
        await form.locator("input[name=expirationDays]").fill("30");
        await form.locator("input[name=noncurrentDays]").fill("7");
        await form.locator("input[name=abortDays]").fill("3");
        await form.locator("button[type=submit]").click();
        await lifecycle.locator('tr[data-rule="logs-expire"]').waitFor({ timeout: 15_000 });
        const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "set-ui" }));
        assertEquals(got.Rules?.length, 1);
        const r = got.Rules![0];
        assertEquals(r.ID, "logs-expire");
        assertEquals(r.Status, "Enabled");
        assertEquals(r.Filter?.Prefix, "logs/");
        assertEquals(r.Expiration?.Days, 30);
        assertEquals(r.NoncurrentVersionExpiration?.NoncurrentDays, 7);
        assertEquals(r.AbortIncompleteMultipartUpload?.DaysAfterInitiation, 3);
      });

      await step("a rule S3 refuses: its error shown, the stored rules unchanged", async () => {
        await lifecycle.locator('tr[data-rule="logs-expire"] button', { hasText: "Edit" }).click();
        const form = page.locator("#lifecycle-form");
        // AWS refuses AbortIncompleteMultipartUpload on a rule filtered by tags.
        await form.locator("textarea[name=tags]").fill("team=data");
        await form.locator("button[type=submit]").click();
        const err = await lifecycle.locator("[data-error]").textContent({ timeout: 15_000 });
        assert(err?.startsWith("InvalidRequest:"), err ?? "");
        assertEquals(await form.locator("textarea[name=tags]").inputValue(), "team=data");
        const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "set-ui" }));
        assertEquals(got.Rules?.[0].Filter?.Prefix, "logs/");
        assertEquals(got.Rules?.[0].Filter?.And, undefined);
        // Without the abort action the tag filter is accepted, in an <And> with the prefix.
        await form.locator("input[name=abortDays]").fill("");
        await form.locator("button[type=submit]").click();
        await lifecycle.locator('tr[data-rule="logs-expire"]', { hasText: "tag team=data" })
          .waitFor({ timeout: 15_000 });
        const again = await s3.send(
          new GetBucketLifecycleConfigurationCommand({ Bucket: "set-ui" }),
        );
        assertEquals(again.Rules?.[0].Filter?.And?.Prefix, "logs/");
        assertEquals(again.Rules?.[0].Filter?.And?.Tags, [{ Key: "team", Value: "data" }]);
        assertEquals(again.Rules?.[0].AbortIncompleteMultipartUpload, undefined);
        await shot(page, "bucket-settings-lifecycle");
      });

      await step("bucket tags edited after creation", async () => {
        const tags = page.locator("#bucket-tags");
        await tags.locator("button", { hasText: "Add tag" }).click();
        await tags.locator("input[name=tagKey]").fill("env");
        await tags.locator("input[name=tagValue]").fill("prod");
        await tags.locator("button[type=submit]").click();
        await tags.locator("text=1 tag(s) saved.").waitFor({ timeout: 15_000 });
        const got = await s3.send(new GetBucketTaggingCommand({ Bucket: "set-ui" }));
        assertEquals(got.TagSet, [{ Key: "env", Value: "prod" }]);
        await page.reload();
        await page.waitForFunction(
          () =>
            (document.querySelector("#bucket-tags input[name=tagValue]") as HTMLInputElement)
              ?.value === "prod",
          undefined,
          { timeout: 15_000 },
        );
        await tags.locator("button", { hasText: "Remove" }).click();
        await tags.locator("button[type=submit]").click();
        await tags.locator("text=Tags removed.").waitFor({ timeout: 15_000 });
        await assertS3Error(
          () => s3.send(new GetBucketTaggingCommand({ Bucket: "set-ui" })),
          "NoSuchTagSet",
          404,
        );
        // Not a lock bucket: no default retention section.
        assertEquals(await page.locator("#object-lock-defaults").count(), 0);
      });

      await step("the Object Lock default retention of a lock bucket", async () => {
        await page.goto(`${base}/buckets/lock-ui/settings`);
        const lock = page.locator("#object-lock-defaults");
        await lock.locator("select[name=mode]").waitFor({ timeout: 15_000 });
        await lock.locator("select[name=mode]").selectOption("GOVERNANCE");
        await lock.locator("input[name=period]").fill("5");
        await lock.locator("button[type=submit]").click();
        await lock.locator("text=GOVERNANCE mode for 5 days").waitFor({ timeout: 15_000 });
        const got = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: "lock-ui" }));
        assertEquals(got.ObjectLockConfiguration?.Rule?.DefaultRetention, {
          Mode: "GOVERNANCE",
          Days: 5,
        });
        await shot(page, "bucket-settings-lock");
      });

      await step("a delete in a versioned bucket says a delete marker is created", async () => {
        await s3.send(new PutObjectCommand({ Bucket: "set-ui", Key: "doc.txt", Body: "one" }));
        await s3.send(new PutObjectCommand({ Bucket: "set-ui", Key: "doc.txt", Body: "two" }));
        await page.goto(`${base}/buckets/set-ui`);
        await page.waitForSelector("#show-deleted", { timeout: 15_000 });
        await page.click('tr[data-key="doc.txt"] >> text=Delete');
        await page.waitForSelector('tr[data-key="doc.txt"]', { state: "detached" });
        assert(/a delete marker is created/.test(confirms.at(-1) ?? ""), confirms.at(-1));
        assert(/its data stays/.test(confirms.at(-1) ?? ""), confirms.at(-1));
        const v = await versionsOf(s3, "set-ui");
        assertEquals(v.versions.length, 2);
        assertEquals(v.markers.length, 1);
      });

      await step("show deleted, restore, restore an older version", async () => {
        await page.check("#show-deleted");
        const marker = page.locator('#version-table tr[data-key="doc.txt"][data-marker]');
        await marker.waitFor({ timeout: 15_000 });
        await shot(page, "object-browser-deleted");
        await marker.locator("button", { hasText: "Restore" }).click();
        await marker.waitFor({ state: "detached", timeout: 15_000 });
        const cur = await s3.send(new GetObjectCommand({ Bucket: "set-ui", Key: "doc.txt" }));
        assertEquals(await cur.Body!.transformToString(), "two");
        // The older version ("one") becomes the current one again, as a copy.
        const old = (await versionsOf(s3, "set-ui")).versions.find((x) => !x.IsLatest)!;
        await page.locator(`#version-table tr[data-version="${old.VersionId}"] button`, {
          hasText: "Restore this version",
        }).click();
        await page.locator("#version-list [role=status]", { hasText: "current version again" })
          .waitFor({ timeout: 15_000 });
        const now = await s3.send(new GetObjectCommand({ Bucket: "set-ui", Key: "doc.txt" }));
        assertEquals(await now.Body!.transformToString(), "one");
        assertEquals((await versionsOf(s3, "set-ui")).versions.length, 3);
      });

      await step("a version deleted permanently, after its own confirmation", async () => {
        const old = (await versionsOf(s3, "set-ui")).versions.find((x) => !x.IsLatest)!;
        await page.locator(`#version-table tr[data-version="${old.VersionId}"] button`, {
          hasText: "Delete permanently",
        }).click();
        await page.locator(`#version-table tr[data-version="${old.VersionId}"]`).waitFor({
          state: "detached",
          timeout: 15_000,
        });
        assert(/Permanently delete version/.test(confirms.at(-1) ?? ""), confirms.at(-1));
        const left = await versionsOf(s3, "set-ui");
        assertEquals(left.versions.length, 2);
        assert(!left.versions.some((x) => x.VersionId === old.VersionId));
      });

      await step("empty a bucket from its Settings tab", async () => {
        await s3.send(new DeleteObjectCommand({ Bucket: "set-ui", Key: "doc.txt" }));
        await page.goto(`${base}/buckets/set-ui/settings`);
        await page.click("#bucket-danger >> text=Empty bucket");
        const dlg = page.locator("#empty-bucket-dialog");
        assert(await dlg.locator("#empty-run").isDisabled());
        await dlg.locator("input[name=confirm]").fill("set-ui");
        await dlg.locator("#empty-run").click();
        await dlg.locator("#empty-progress[data-done]").waitFor({ timeout: 30_000 });
        const text = await dlg.locator("#empty-progress").textContent();
        assert(text?.includes("Deleted 2 object version(s), 1 delete marker(s)"), text ?? "");
        const left = await versionsOf(s3, "set-ui");
        assertEquals(left.versions.length + left.markers.length, 0);
        await s3.send(new HeadBucketCommand({ Bucket: "set-ui" }));
        await dlg.locator("button", { hasText: "Close" }).click();
      });

      await step(
        "force-delete from the bucket list; a locked version keeps its bucket",
        async () => {
          await s3.send(new CreateBucketCommand({ Bucket: "gone-ui" }));
          for (const k of ["a", "b/c", "d"]) {
            await s3.send(new PutObjectCommand({ Bucket: "gone-ui", Key: k, Body: k }));
          }
          await s3.send(
            new PutObjectCommand({
              Bucket: "lock-ui",
              Key: "held.txt",
              Body: "held",
              ObjectLockMode: "COMPLIANCE",
              ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000),
            }),
          );
          await page.goto(`${base}/buckets`);
          const forceDelete = async (bucket: string) => {
            await page.click(`tr[data-bucket="${bucket}"] >> text=Force delete`);
            const dlg = page.locator("#empty-bucket-dialog");
            await dlg.locator("input[name=confirm]").fill(bucket);
            await dlg.locator("#empty-run").click();
            await dlg.locator("#empty-progress[data-done]").waitFor({ timeout: 30_000 });
            const text = await dlg.locator("#empty-progress").textContent() ?? "";
            await shot(page, `force-delete-${bucket}`);
            await dlg.locator("button", { hasText: "Close" }).click();
            return text;
          };
          const gone = await forceDelete("gone-ui");
          assert(gone.includes("Bucket gone-ui deleted."), gone);
          await page.waitForSelector('tr[data-bucket="gone-ui"]', { state: "detached" });
          await assertS3Error(
            () => s3.send(new HeadBucketCommand({ Bucket: "gone-ui" })),
            "NotFound",
            404,
          );
          const kept = await forceDelete("lock-ui");
          assert(kept.includes("Bucket lock-ui was kept."), kept);
          assert(kept.includes("held.txt"), kept);
          await s3.send(new HeadBucketCommand({ Bucket: "lock-ui" }));
        },
      );
      assertEquals(pageErrors, []);
    } finally {
      s3.destroy();
      await session.close();
    }
  },
}));
