/**
 * First start with a listen address already in use: the server stops before it creates the data
 * dir or prints anything, with a message that names the address and the flag (it used to print
 * the one-time credentials, create the data dir and then die with a stack trace).
 */
import { assert, assertEquals } from "./_helpers/assert.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function startWith(listen: string, consoleListen: string, dataDir: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unstable-kv",
      MAIN,
      "--data-dir",
      dataDir,
      "--listen",
      listen,
      "--console-listen",
      consoleListen,
    ],
    env: { MAXIOFS_LOG_LEVEL: "info" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

Deno.test("a taken S3 or console address fails before anything is created or printed", async () => {
  const parent = await Deno.makeTempDir({ prefix: "maxiofs-listen-" });
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = taken.addr.port;
  try {
    const cases = [
      { listen: `127.0.0.1:${port}`, console: "127.0.0.1:0", flag: "--listen" },
      { listen: "127.0.0.1:0", console: `127.0.0.1:${port}`, flag: "--console-listen" },
    ];
    for (const c of cases) {
      const dataDir = `${parent}/data`;
      const r = await startWith(c.listen, c.console, dataDir);
      assertEquals(r.code, 1, `${c.flag}: ${r.stderr}`);
      assertEquals(
        r.stderr.trim(),
        `Cannot listen on 127.0.0.1:${port} (${c.flag}): address already in use`,
      );
      assertEquals(r.stdout, "", `${c.flag}: nothing on stdout`);
      assert(!/password|secret|access key/i.test(r.stdout + r.stderr), "credentials printed");
      assert(!(await exists(dataDir)), `${c.flag}: the data dir was created`);
    }
  } finally {
    taken.close();
    await Deno.remove(parent, { recursive: true });
  }
});
