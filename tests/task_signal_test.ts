/**
 * `deno task start` stops gracefully on SIGTERM: Deno's task runner forwards the signal to the
 * server it started, whose handler drains the listeners and closes storage (exit code 0). The
 * npm wrapper case (`npx deno task start`) is documented in docs/operations.md: npm's `sh -c`
 * does not forward signals, which we cannot change from here.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("SIGTERM to `deno task start` stops the server gracefully", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-task-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "start",
      "--data-dir",
      dataDir,
      "--listen",
      "127.0.0.1:0",
      "--console-listen",
      "127.0.0.1:0",
    ],
    cwd: ROOT,
    env: { MAXIOFS_LOG_LEVEL: "info" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const output: string[] = [];
  const ready = Promise.withResolvers<string>();
  const pump = async (s: ReadableStream<Uint8Array<ArrayBuffer>>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
      output.push(chunk);
      const m = /Console listening on (http:\/\/\S+)/.exec(output.join(""));
      if (m) ready.resolve(m[1]);
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const timer = setTimeout(() => ready.reject(new Error(`no start:\n${output.join("")}`)), 60_000);
  child.status.then(() => ready.reject(new Error(`exited early:\n${output.join("")}`)));
  try {
    const consoleUrl = await ready.promise;
    clearTimeout(timer);
    // At once, to the task runner (not to the server process): main.ts listens for signals
    // before it opens anything, so even this early SIGTERM is a graceful stop.
    child.kill("SIGTERM");
    const status = await child.status;
    await pumps;
    assertEquals(status.code, 0, output.join(""));
    assert(output.join("").includes("shutting down"), "the server's own SIGTERM handler ran");
    // The task runner exits only after its child did: nothing listens any more.
    const refused = await fetch(`${consoleUrl}/api/v1/auth/me`).then(
      async (r) => (await r.body?.cancel(), false),
      () => true,
    );
    assert(refused, "the console listener is closed");
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
