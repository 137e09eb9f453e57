/**
 * Driving the console in Debian's Chromium with playwright-core: launching, screenshots to
 * test-artifacts/, the login form and the object browser's file picker.
 */
import { Buffer } from "node:buffer";
import { type Browser, chromium, type Page } from "playwright-core";
import { startServer } from "./server.ts";

const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url).pathname;

/** Saves a full-page screenshot as test-artifacts/console-<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}console-${name}.png`, fullPage: true });
}

/**
 * `t.step` whose failure first leaves a screenshot of the page as it was
 * (test-artifacts/console-failed-<step>.png).
 */
export function stepWithShot(
  t: Deno.TestContext,
  page: Page,
): (name: string, fn: () => Promise<void>) => Promise<boolean> {
  return (name, fn) =>
    t.step(name, async () => {
      try {
        await fn();
      } catch (e) {
        await shot(page, `failed-${name.replace(/\W+/g, "-")}`).catch(() => {});
        throw e;
      }
    });
}

/** The console API called from inside the page: same origin, the session cookie. */
export function pageApi(
  page: Page,
): (method: string, path: string, body?: unknown) => Promise<{ status: number; text: string }> {
  return (method, path, body) =>
    page.evaluate(async ([m, p, b]) => {
      const r = await fetch(`/api/v1${p}`, {
        method: m as string,
        headers: b === undefined ? {} : { "content-type": "application/json" },
        body: b === undefined ? undefined : JSON.stringify(b),
      });
      return { status: r.status, text: await r.text() };
    }, [method, path, body] as const);
}

/** Launches the Chromium at `executablePath` (found with `findProgram("chromium")`). */
export function launch(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    // Playwright gives each launch a fresh temporary profile (its own --user-data-dir).
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    timeout: 30_000,
  });
}

/** Fills and submits the login form already on the page. */
export async function submitLogin(page: Page, username: string, password: string): Promise<void> {
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
}

/** Hands one file to the object browser's upload picker. */
export async function pickFile(
  page: Page,
  name: string,
  mimeType: string,
  data: Uint8Array | string,
): Promise<void> {
  await page.setInputFiles("#upload-files", { name, mimeType, buffer: Buffer.from(data) });
}

/** Waits until the upload row of `name` reaches `status` (done, failed, cancelled, ...). */
export async function waitForUpload(
  page: Page,
  name: string,
  status: string,
  timeoutMs: number,
): Promise<void> {
  await page.waitForSelector(`li[data-upload="${name}"][data-status="${status}"]`, {
    timeout: timeoutMs,
  });
}

/** Deletes a bucket from the buckets page: its Delete button, the typed confirmation, gone. */
export async function deleteBucketRow(page: Page, name: string): Promise<void> {
  await page.click(`tr[data-bucket="${name}"] >> text=Delete`);
  await page.fill("dialog[open] input[name=confirm]", name);
  await page.click("dialog[open] button.danger");
  await page.waitForSelector(`tr[data-bucket="${name}"]`, { state: "detached", timeout: 15_000 });
}

/**
 * A server whose first admin is `admin` with `password`, and Chromium to drive its console:
 * `watch(page)` collects the page's script errors in `pageErrors`; `close()` ends both.
 */
export async function consoleSession(
  chromiumPath: string,
  opts: { password: string; args?: string[] },
) {
  const srv = await startServer({
    env: { MAXIOFS_ROOT_USER: "admin", MAXIOFS_ROOT_PASSWORD: opts.password },
    args: opts.args,
  });
  let browser: Browser;
  try {
    browser = await launch(chromiumPath);
  } catch (e) {
    await srv.stop();
    throw e;
  }
  const pageErrors: string[] = [];
  return {
    srv,
    browser,
    base: srv.consoleUrl,
    pageErrors,
    watch(page: Page): Page {
      page.on("pageerror", (e) => pageErrors.push(e.message));
      return page;
    },
    async close() {
      await browser.close();
      await srv.stop();
    },
  };
}
