/**
 * The Metrics page in Chromium: with an hour of per-minute figures in the history (written into
 * the database while the server was stopped, as a running server writes them once a minute), the
 * four charts draw, the operation picker lists the operations and switching it reloads them.
 */
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { launch, shot, submitLogin } from "./_helpers/browser.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const chromium = await findProgram("chromium");
const ADMIN = "admin";
const PASSWORD = "Metrics-test-Pa55word!";

/** An hour of minutes ending now: GetObject and PutObject rows and the `*` totals. */
function writeHour(dbPath: string) {
  const db = new DatabaseSync(dbPath);
  const st = db.prepare(
    `INSERT INTO metrics_minute (t, op, requests, errors, rejected, bytes_in, bytes_out, hist,
     storage_bytes, storage_objects) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  for (let m = 60; m >= 1; m--) {
    const t = now - m * 60_000;
    st.run(
      t,
      "GetObject",
      600 + m,
      0,
      3,
      0,
      600 * 4096,
      JSON.stringify({ 20: 500, 40: 100 }),
      null,
      null,
    );
    st.run(t, "PutObject", 60, 1, 0, 60 * 4096, 0, JSON.stringify({ 30: 60 }), null, null);
    st.run(
      t,
      "*",
      660 + m,
      1,
      3,
      60 * 4096,
      600 * 4096,
      JSON.stringify({ 20: 500, 30: 60, 40: 100 }),
      1e9 + m * 1e6,
      1000 + m,
    );
  }
  db.close();
}

Deno.test(needs(chromium, {
  name: "console in Chromium: the Metrics page charts the history",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const env = { MAXIOFS_ROOT_USER: ADMIN, MAXIOFS_ROOT_PASSWORD: PASSWORD };
    const first = await startServer({ env });
    const dataDir = first.dataDir;
    await first.stop({ keepData: true });
    writeHour(`${dataDir}/maxiofs.db`);
    const srv = await startServer({ env, dataDir });
    const browser = await launch(chromium.path);
    const errors: string[] = [];
    try {
      const page = await (await browser.newContext()).newPage();
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      await page.goto(`${srv.consoleUrl}/login`);
      await submitLogin(page, ADMIN, PASSWORD);
      await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 20_000 });
      await page.goto(`${srv.consoleUrl}/charts`);
      await page.selectOption("#metrics-range", "1h");
      for (const id of ["requests", "latency", "throughput", "storage"]) {
        await page.waitForSelector(`[data-chart="${id}"] canvas`, { timeout: 15_000 });
      }
      const ops = await page.$$eval("#metrics-op option", (o) => o.map((x) => x.textContent));
      assertEquals(ops, ["All operations", "GetObject", "PutObject"]);
      const legend = await page.textContent('[data-chart="latency"]');
      assert(legend!.includes("p99"), legend!);
      await shot(page, "metrics");
      await page.selectOption("#metrics-op", "PutObject");
      await page.waitForFunction(
        () => document.querySelector(".hint")?.textContent?.includes("one per minute"),
        undefined,
        { timeout: 15_000 },
      );
      await page.waitForSelector('[data-chart="requests"] canvas', { timeout: 15_000 });
      assertEquals(errors, []);
    } finally {
      await browser.close();
      await srv.stop();
    }
  },
}));
