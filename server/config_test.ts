import { assert, assertEquals } from "../tests/_helpers/assert.ts";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import {
  ConfigError,
  DEFAULTS,
  helpText,
  loadConfig,
  OPTIONS,
  parseListen,
  tlsFilesOf,
} from "./config.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function throwsConfigError(fn: () => unknown, mention: string): void {
  try {
    fn();
  } catch (e) {
    assert(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    assert(
      (e as Error).message.includes(mention),
      `message "${(e as Error).message}" should mention "${mention}"`,
    );
    return;
  }
  throw new Error(`expected a ConfigError mentioning "${mention}"`);
}

const files = (map: Record<string, string>) => (p: string) => {
  if (!(p in map)) throw new Deno.errors.NotFound(`No such file: ${p}`);
  return map[p];
};

Deno.test("defaults apply when nothing is given", () => {
  const cfg = loadConfig({ args: [], env: {} });
  assertEquals(cfg, { ...DEFAULTS, help: false });
  assertEquals(cfg.dataDir, "./data");
  assertEquals(cfg.listen, ":8080");
  assertEquals(cfg.consoleListen, ":8081");
  assertEquals(cfg.region, "us-east-1");
  assertEquals(cfg.domain, null);
  assertEquals(cfg.logLevel, "info");
  // Durable unless told otherwise (scratch data opts out with --fsync=false).
  assertEquals(cfg.fsync, true);
});

Deno.test("flags > environment > config file > defaults", () => {
  const readFile = files({
    "/etc/maxiofs.json": JSON.stringify({
      region: "file-region",
      domain: "file.example",
      dataDir: "/file/data",
      sweepIntervalSeconds: 60,
      fsync: true,
    }),
  });
  const env = {
    MAXIOFS_CONFIG: "/etc/maxiofs.json",
    MAXIOFS_REGION: "env-region",
    MAXIOFS_DATA_DIR: "/env/data",
  };
  const fileOnly = loadConfig({ args: [], env: { MAXIOFS_CONFIG: "/etc/maxiofs.json" }, readFile });
  assertEquals(fileOnly.region, "file-region");
  assertEquals(fileOnly.domain, "file.example");
  assertEquals(fileOnly.sweepIntervalSeconds, 60);
  assertEquals(fileOnly.fsync, true);
  assertEquals(fileOnly.configFile, "/etc/maxiofs.json");
  assertEquals(fileOnly.listen, DEFAULTS.listen);

  const withEnv = loadConfig({ args: [], env, readFile });
  assertEquals(withEnv.region, "env-region");
  assertEquals(withEnv.dataDir, "/env/data");
  assertEquals(withEnv.domain, "file.example");

  const withFlags = loadConfig({
    args: ["--region", "flag-region", "--fsync=false", "--listen=127.0.0.1:9000"],
    env,
    readFile,
  });
  assertEquals(withFlags.region, "flag-region");
  assertEquals(withFlags.fsync, false);
  assertEquals(withFlags.listen, "127.0.0.1:9000");
  assertEquals(withFlags.dataDir, "/env/data");
  assertEquals(withFlags.domain, "file.example");
});

Deno.test("--config flag wins over MAXIOFS_CONFIG", () => {
  const readFile = files({
    "a.json": JSON.stringify({ region: "from-a" }),
    "b.json": JSON.stringify({ region: "from-b" }),
  });
  const cfg = loadConfig({
    args: ["--config", "b.json"],
    env: { MAXIOFS_CONFIG: "a.json" },
    readFile,
  });
  assertEquals(cfg.region, "from-b");
  assertEquals(cfg.configFile, "b.json");
});

Deno.test("every option is reachable by flag and by environment", () => {
  const cfg = loadConfig({
    args: [
      "--data-dir",
      "/d",
      "--listen",
      "127.0.0.1:1",
      "--console-listen",
      "[::1]:2",
      "--region",
      "eu-west-1",
      "--domain",
      "s3.local",
      "--log-level",
      "debug",
      "--sweep-interval",
      "5",
      "--multipart-max-age",
      "7",
      "--fsync",
      "--root-access-key",
      "AKIAEXAMPLE",
      "--root-secret-key",
      "secret",
    ],
    env: {},
  });
  assertEquals(cfg.dataDir, "/d");
  assertEquals(cfg.listen, "127.0.0.1:1");
  assertEquals(cfg.consoleListen, "[::1]:2");
  assertEquals(cfg.region, "eu-west-1");
  assertEquals(cfg.domain, "s3.local");
  assertEquals(cfg.logLevel, "debug");
  assertEquals(cfg.sweepIntervalSeconds, 5);
  assertEquals(cfg.multipartMaxAgeSeconds, 7);
  assertEquals(cfg.fsync, true);
  assertEquals(cfg.rootAccessKey, "AKIAEXAMPLE");
  assertEquals(cfg.rootSecretKey, "secret");

  const fromEnv = loadConfig({
    args: [],
    env: {
      MAXIOFS_LISTEN: "127.0.0.1:3",
      MAXIOFS_CONSOLE_LISTEN: "127.0.0.1:4",
      MAXIOFS_DOMAIN: "s3.env",
      MAXIOFS_LOG_LEVEL: "error",
      MAXIOFS_FSYNC: "0",
      MAXIOFS_SWEEP_INTERVAL: "0",
      MAXIOFS_ROOT_ACCESS_KEY: "AKIAENV",
      MAXIOFS_ROOT_SECRET_KEY: "envsecret",
    },
  });
  assertEquals(fromEnv.listen, "127.0.0.1:3");
  assertEquals(fromEnv.consoleListen, "127.0.0.1:4");
  assertEquals(fromEnv.domain, "s3.env");
  assertEquals(fromEnv.logLevel, "error");
  assertEquals(fromEnv.fsync, false);
  assertEquals(fromEnv.sweepIntervalSeconds, 0);
  assertEquals(fromEnv.rootAccessKey, "AKIAENV");
  assertEquals(fromEnv.rootSecretKey, "envsecret");
});

Deno.test("an empty environment variable does not override the config file", () => {
  const readFile = files({ "c.json": JSON.stringify({ region: "file-region" }) });
  const cfg = loadConfig({ args: ["--config", "c.json"], env: { MAXIOFS_REGION: "" }, readFile });
  assertEquals(cfg.region, "file-region");
});

Deno.test("--help and -h set help; the help text names every flag and variable", () => {
  assertEquals(loadConfig({ args: ["--help"], env: {} }).help, true);
  assertEquals(loadConfig({ args: ["-h"], env: {} }).help, true);
  assertEquals(loadConfig({ args: [], env: {} }).help, false);
  const text = helpText();
  for (
    const name of [
      "--data-dir",
      "--listen",
      "--console-listen",
      "--region",
      "--domain",
      "--log-level",
      "--config",
      "--help",
      "MAXIOFS_DATA_DIR",
      "MAXIOFS_LISTEN",
      "MAXIOFS_ROOT_ACCESS_KEY",
      "MAXIOFS_ROOT_SECRET_KEY",
    ]
  ) {
    assert(text.includes(name), `help text should mention ${name}`);
  }
});

Deno.test("a leading -- (as npm and deno task may pass it) is ignored", () => {
  const cfg = loadConfig({
    args: ["--", "--data-dir", "/x", "--listen", "127.0.0.1:5", "--console-listen", "127.0.0.1:6"],
    env: {},
  });
  assertEquals(cfg.dataDir, "/x");
  assertEquals(cfg.listen, "127.0.0.1:5");
  assertEquals(cfg.consoleListen, "127.0.0.1:6");
});

Deno.test("bad values are rejected with a message naming the culprit", () => {
  const none = { env: {} };
  throwsConfigError(() => loadConfig({ ...none, args: ["--sweep-interval", "soon"] }), "soon");
  throwsConfigError(() => loadConfig({ ...none, args: ["--sweep-interval", "-1"] }), "-1");
  throwsConfigError(() => loadConfig({ ...none, args: ["--log-level", "loud"] }), "loud");
  // A malformed proxy address would trust nobody, or (a bare "/") everybody.
  throwsConfigError(
    () => loadConfig({ ...none, args: ["--trusted-proxies", "127.0.0.1, 10.0.0.0/"] }),
    "10.0.0.0/",
  );
  throwsConfigError(
    () => loadConfig({ ...none, args: ["--trusted-proxies", "proxy.local"] }),
    "proxy.local",
  );
  assertEquals(
    loadConfig({ ...none, args: ["--trusted-proxies", " 10.0.0.0/8, ::1 ,"] }).trustedProxies,
    " 10.0.0.0/8, ::1 ,",
  );
  throwsConfigError(() => loadConfig({ ...none, args: ["--listen", "nonsense"] }), "nonsense");
  throwsConfigError(() => loadConfig({ ...none, args: ["--listen", ":99999"] }), ":99999");
  throwsConfigError(
    () => loadConfig({ ...none, args: ["--console-listen", "localhost"] }),
    "localhost",
  );
  throwsConfigError(() => loadConfig({ ...none, args: ["--no-such-flag", "1"] }), "no-such-flag");
  throwsConfigError(() => loadConfig({ ...none, args: ["positional"] }), "positional");
  throwsConfigError(() => loadConfig({ ...none, args: ["--region"] }), "--region");
  throwsConfigError(
    () => loadConfig({ args: [], env: { MAXIOFS_FSYNC: "maybe" } }),
    "MAXIOFS_FSYNC",
  );
  throwsConfigError(
    () => loadConfig({ args: [], env: { MAXIOFS_LOG_LEVEL: "verbose" } }),
    "verbose",
  );
});

Deno.test("config file problems are reported with the file name", () => {
  const readFile = files({
    "broken.json": "{ not json",
    "unknown.json": JSON.stringify({ colour: "blue" }),
    "badtype.json": JSON.stringify({ sweepIntervalSeconds: "often" }),
  });
  throwsConfigError(
    () => loadConfig({ args: ["--config", "missing.json"], env: {}, readFile }),
    "missing.json",
  );
  throwsConfigError(
    () => loadConfig({ args: ["--config", "broken.json"], env: {}, readFile }),
    "broken.json",
  );
  throwsConfigError(
    () => loadConfig({ args: ["--config", "unknown.json"], env: {}, readFile }),
    "colour",
  );
  throwsConfigError(
    () => loadConfig({ args: ["--config", "badtype.json"], env: {}, readFile }),
    "often",
  );
});

Deno.test("parseListen understands host:port, :port and [v6]:port", () => {
  assertEquals(parseListen(":8080"), { hostname: "0.0.0.0", port: 8080 });
  assertEquals(parseListen("127.0.0.1:0"), { hostname: "127.0.0.1", port: 0 });
  assertEquals(parseListen("[::1]:9000"), { hostname: "::1", port: 9000 });
  assertEquals(parseListen("localhost:1"), { hostname: "localhost", port: 1 });
});

// --- the real program, started the way the README says --------------------------------------

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Spawns a command and collects its output lines until `until` matches one or it exits. */
function spawnWatching(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: opts.cwd ?? ROOT,
    env: { MAXIOFS_LOG_LEVEL: "warn", NO_COLOR: "1", ...opts.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const onText = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        for (const w of waiters) {
          const m = w.re.exec(line);
          if (m) w.resolve(m);
        }
      }
    }
    if (buf) lines.push(buf);
  };
  const pumps = Promise.all([onText(child.stdout), onText(child.stderr)]);
  const waitFor = (re: RegExp, ms = 30_000) => {
    const done = Promise.withResolvers<RegExpExecArray>();
    for (const l of lines) {
      const m = re.exec(l);
      if (m) return Promise.resolve(m);
    }
    waiters.push({ re, resolve: done.resolve });
    const t = setTimeout(
      () => done.reject(new Error(`timed out waiting for ${re}:\n${lines.join("\n")}`)),
      ms,
    );
    child.status.then(() =>
      setTimeout(() => done.reject(new Error(`exited before ${re}:\n${lines.join("\n")}`)), 50)
    );
    return done.promise.finally(() => clearTimeout(t));
  };
  return { child, lines, pumps, waitFor };
}

async function runToEnd(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Stops a `deno task` and makes sure the server it started (pid in the lock file) is gone. */
async function stopTask(child: Deno.ChildProcess, dataDir: string): Promise<void> {
  const pid = Number((await Deno.readTextFile(`${dataDir}/.lock`).catch(() => "")).trim());
  try {
    child.kill("SIGTERM");
  } catch { /* already exited */ }
  await child.status;
  if (pid > 0) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch { /* exited with the task, as it should */ }
  }
}

for (const leading of [[], ["--"]]) {
  const shown = [...leading, "--data-dir D --listen 127.0.0.1:P --console-listen 127.0.0.1:Q"];
  Deno.test(`deno task start ${shown.join(" ")} serves S3`, async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-cfg-" });
    const p = freePort();
    const q = freePort();
    const run = spawnWatching([
      "task",
      "start",
      ...leading,
      "--data-dir",
      dataDir,
      "--listen",
      `127.0.0.1:${p}`,
      "--console-listen",
      `127.0.0.1:${q}`,
    ]);
    try {
      await run.waitFor(new RegExp(`S3 API listening on http://127\\.0\\.0\\.1:${p}\\b`));
      await run.waitFor(new RegExp(`Console listening on http://127\\.0\\.0\\.1:${q}\\b`));
      // First start without MAXIOFS_ROOT_*: credentials are generated and printed once.
      const ak = (await run.waitFor(/Access key: (AKIA[A-Z0-9]{16})$/))[1];
      const sk = (await run.waitFor(/Secret key: (\S{40})$/))[1];
      const s3 = new S3Client({
        endpoint: `http://127.0.0.1:${p}`,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId: ak, secretAccessKey: sk },
        maxAttempts: 1,
      });
      try {
        const out = await s3.send(new ListBucketsCommand({}));
        assertEquals(out.Buckets ?? [], []);
      } finally {
        s3.destroy();
      }
      // The data dir is in use: a second process must refuse it clearly.
      const second = await runToEnd([
        "run",
        "-A",
        "--unstable-kv",
        "main.ts",
        "--data-dir",
        dataDir,
        "--listen",
        "127.0.0.1:0",
        "--console-listen",
        "127.0.0.1:0",
      ]);
      assertEquals(second.code, 1);
      assert(second.stderr.includes("in use"), second.stderr);
    } finally {
      await stopTask(run.child, dataDir);
      await run.pumps;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  });
}

Deno.test("main.ts --help prints usage and exits 0; a bad flag exits 2", async () => {
  const help = await runToEnd(["run", "-A", "--unstable-kv", "main.ts", "--help"]);
  assertEquals(help.code, 0);
  assert(help.stdout.includes("--data-dir"), help.stdout);
  assert(help.stdout.includes("MAXIOFS_LISTEN"), help.stdout);
  const bad = await runToEnd(["run", "-A", "--unstable-kv", "main.ts", "--listen", "nowhere"]);
  assertEquals(bad.code, 2);
  assert(bad.stderr.includes("nowhere"), bad.stderr);
});

Deno.test("every setting has a flag, a variable and a config-file key", () => {
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    assert(OPTIONS.some((o) => o.key === key), `no option for ${key}`);
  }
  const cfg = loadConfig({
    args: ["--object-cache", "0", "--list-cache", "0", "--record-cache", "0"],
    env: {},
  });
  assertEquals([cfg.objectCacheMiB, cfg.listCacheEntries, cfg.recordCacheMiB], [0, 0, 0]);
  const env = loadConfig({
    args: [],
    env: { MAXIOFS_OBJECT_CACHE: "16", MAXIOFS_LIST_CACHE: "5000", MAXIOFS_RECORD_CACHE: "8" },
  });
  assertEquals([env.objectCacheMiB, env.listCacheEntries, env.recordCacheMiB], [16, 5000, 8]);
  assertEquals(loadConfig({ args: [], env: {} }).recordCacheMiB, 32);
});

Deno.test("--object-ownership: ObjectWriter by default, BucketOwnerEnforced, nothing else", () => {
  assertEquals(loadConfig({ args: [], env: {} }).objectOwnership, "ObjectWriter");
  const env = { MAXIOFS_OBJECT_OWNERSHIP: "BucketOwnerEnforced" };
  assertEquals(loadConfig({ args: [], env }).objectOwnership, "BucketOwnerEnforced");
  const flag = ["--object-ownership", "ObjectWriter"];
  assertEquals(loadConfig({ args: flag, env }).objectOwnership, "ObjectWriter");
  throwsConfigError(
    () => loadConfig({ args: ["--object-ownership", "BucketOwnerPreferred"], env: {} }),
    "object ownership",
  );
});

Deno.test("--tls-cert and --tls-key: flag, environment, config file, and only together", () => {
  const flags = loadConfig({ args: ["--tls-cert", "/c.pem", "--tls-key", "/k.pem"], env: {} });
  assertEquals(tlsFilesOf(flags), { certFile: "/c.pem", keyFile: "/k.pem" });
  const env = loadConfig({
    args: [],
    env: { MAXIOFS_TLS_CERT: "/ec.pem", MAXIOFS_TLS_KEY: "/ek.pem" },
  });
  assertEquals(tlsFilesOf(env), { certFile: "/ec.pem", keyFile: "/ek.pem" });
  const file = loadConfig({
    args: ["--config", "/m.json"],
    env: {},
    readFile: files({ "/m.json": JSON.stringify({ tlsCert: "/fc.pem", tlsKey: "/fk.pem" }) }),
  });
  assertEquals(tlsFilesOf(file), { certFile: "/fc.pem", keyFile: "/fk.pem" });
  assertEquals(tlsFilesOf(loadConfig({ args: [], env: {} })), null);
  throwsConfigError(
    () => loadConfig({ args: ["--tls-cert", "/c.pem"], env: {} }),
    "Cannot use --tls-cert without --tls-key",
  );
  throwsConfigError(
    () => loadConfig({ args: [], env: { MAXIOFS_TLS_KEY: "/k.pem" } }),
    "Cannot use --tls-key without --tls-cert",
  );
});

Deno.test("metrics: on by default; a separate listener and a token from flags, env or file", () => {
  const d = loadConfig({ args: [], env: {} });
  assertEquals([d.metrics, d.metricsListen, d.metricsToken], [true, null, null]);
  const token = "scrape-token-0123456789";
  const f = loadConfig({
    args: ["--config", "/c.json"],
    env: { MAXIOFS_METRICS_LISTEN: "127.0.0.1:9100" },
    readFile: files({ "/c.json": JSON.stringify({ metricsToken: token }) }),
  });
  assertEquals([f.metricsListen, f.metricsToken], ["127.0.0.1:9100", token]);
  assertEquals(loadConfig({ args: ["--metrics=false"], env: {} }).metrics, false);
  throwsConfigError(
    () => loadConfig({ args: ["--metrics=false", "--metrics-listen", ":9100"], env: {} }),
    "--metrics-listen",
  );
  throwsConfigError(() => loadConfig({ args: ["--metrics-listen", "nope"], env: {} }), "nope");
  throwsConfigError(
    () => loadConfig({ args: [], env: { MAXIOFS_METRICS_TOKEN: "short" } }),
    "metrics token",
  );
});

Deno.test("config: the website domain comes from flag, environment or file, and is not the S3 domain", () => {
  assertEquals(loadConfig({ args: [], env: {} }).websiteDomain, null);
  const flag = loadConfig({ args: ["--website-domain", "site.example:8080"], env: {} });
  assertEquals(flag.websiteDomain, "site.example:8080");
  const env = loadConfig({ args: [], env: { MAXIOFS_WEBSITE_DOMAIN: "web.env" } });
  assertEquals(env.websiteDomain, "web.env");
  const file = loadConfig({
    args: ["--config", "/cfg.json"],
    env: {},
    readFile: () => JSON.stringify({ websiteDomain: "web.file" }),
  });
  assertEquals(file.websiteDomain, "web.file");
  throwsConfigError(
    () =>
      loadConfig({ args: ["--domain", "s3.example", "--website-domain", "S3.example."], env: {} }),
    "S3 domain",
  );
  throwsConfigError(
    () => loadConfig({ args: ["--website-domain", "bad domain"], env: {} }),
    "website domain",
  );
});
