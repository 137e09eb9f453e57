/**
 * `deno task bench`: starts a raw baseline (plain Deno.serve streaming bodies to files) and the
 * real server (main.ts, temp data dir), each in its own process, then drives both with one load
 * generator process, scenario by scenario, and prints figures and ratios against the targets
 * (docs/performance.md). Each scenario runs in slices that alternate between the two targets, so
 * load from other processes on a shared machine falls on both sides alike. Loopback only.
 *
 * Flags: --seconds N (per timed scenario, default 3), --payload unsigned|sha256 (default
 * unsigned), --only a,b (scenario names), --keep (keep temp dirs), --json (raw results too).
 */
import { formatTable, formatTargets } from "./bench/report.ts";
import type { LoadConfig, RunResult } from "./bench/loadgen.ts";

const HERE = new URL(".", import.meta.url).pathname;
const ACCESS_KEY = "AKIABENCHROOT0000001";
const SECRET_KEY = "benchsecretkey00000000000000000000000000";

function flag(name: string): string | undefined {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

/** Spawns a deno child and resolves its URL from the first stdout line matching `pattern`. */
async function spawnListening(
  args: string[],
  pattern: RegExp,
  env: Record<string, string> = {},
): Promise<{ child: Deno.ChildProcess; url: string; output: string[] }> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const output: string[] = [];
  const ready = Promise.withResolvers<string>();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    let buf = "";
    const dec = new TextDecoder();
    for await (const chunk of s) {
      buf += dec.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        output.push(line);
        const m = pattern.exec(line);
        if (m) ready.resolve(m[1]);
      }
    }
  };
  pump(child.stdout);
  pump(child.stderr);
  child.status.then((s) => ready.reject(new Error(`exited ${s.code}:\n${output.join("\n")}`)));
  const timer = setTimeout(() => ready.reject(new Error("did not start in 60 s")), 60_000);
  try {
    return { child, url: await ready.promise, output };
  } finally {
    clearTimeout(timer);
  }
}

/** 1, 5 and 15 minute load averages: how busy the shared machine was during the run. */
function loadAverage(): string {
  try {
    return Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  } catch {
    return "n/a";
  }
}

async function stop(child: Deno.ChildProcess) {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  await child.status;
}

async function main() {
  const seconds = Number(flag("seconds") ?? 3);
  const payload = (flag("payload") ?? "unsigned") as "unsigned" | "sha256";
  const only = (flag("only") ?? "").split(",").filter(Boolean);
  const baseDir = await Deno.makeTempDir({ prefix: "maxiofs-bench-baseline-" });
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-bench-server-" });
  const run = ["run", "--allow-all", "--unstable-kv"];
  const extra = Deno.env.get("BENCH_SERVER_FLAGS")?.split(" ").filter(Boolean) ?? [];
  const baseline = await spawnListening(
    [...run, `${HERE}bench/baseline.ts`, baseDir],
    /listening on (http:\/\/\S+)/,
  );
  const server = await spawnListening(
    [
      ...run,
      ...extra,
      `${HERE}../main.ts`,
      "--data-dir",
      dataDir,
      "--listen",
      "127.0.0.1:0",
      "--console-listen",
      "127.0.0.1:0",
    ],
    /S3 API listening on (http:\/\/\S+)/,
    {
      MAXIOFS_ROOT_ACCESS_KEY: ACCESS_KEY,
      MAXIOFS_ROOT_SECRET_KEY: SECRET_KEY,
      MAXIOFS_LOG_LEVEL: "warn",
    },
  );
  const cfg: LoadConfig = {
    targets: [
      { name: "baseline", endpoint: baseline.url },
      { name: "server", endpoint: server.url },
    ],
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
    region: "us-east-1",
    payload,
    seconds,
    only,
  };
  console.log(
    `MaxIOFS bench ${new Date().toISOString()}  deno ${Deno.version.deno}  ` +
      `${navigator.hardwareConcurrency} cores  load average ${loadAverage()}`,
  );
  console.log(
    `baseline ${baseline.url} (plain Deno.serve, files)  server ${server.url} (main.ts)  ` +
      `loopback, ${seconds} s per timed scenario and target, in alternating slices`,
  );
  console.log(
    `payload hash: ${
      payload === "unsigned"
        ? "UNSIGNED-PAYLOAD (SigV4 header auth, cached signing key)"
        : "precomputed SHA-256 of each body (server verifies it)"
    }; the baseline gets the same headers and ignores them\n`,
  );
  const results: RunResult[] = [];
  try {
    const gen = new Deno.Command(Deno.execPath(), {
      args: [...run, `${HERE}bench/loadgen.ts`, JSON.stringify(cfg)],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    let buf = "";
    const dec = new TextDecoder();
    for await (const chunk of gen.stdout) {
      buf += dec.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.startsWith("{")) continue;
        const r = JSON.parse(line) as RunResult;
        results.push(r);
        console.error(`  done: ${r.scenario} ${r.target}`);
      }
    }
    const st = await gen.status;
    if (!st.success) console.error(`load generator exited with ${st.code}`);
  } finally {
    await Promise.all([stop(baseline.child), stop(server.child)]);
    const serverErrors = server.output.filter((l) => /error/i.test(l));
    if (serverErrors.length) console.error(serverErrors.slice(0, 10).join("\n"));
    if (!Deno.args.includes("--keep")) {
      await Deno.remove(baseDir, { recursive: true }).catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  }
  console.log(`load average at the end: ${loadAverage()}\n`);
  console.log(formatTable(results));
  console.log("\nTargets (ratios from this run):");
  const t = formatTargets(results);
  console.log(t.text);
  if (Deno.args.includes("--json")) console.log(JSON.stringify(results));
  console.log(t.failed ? `\n${t.failed} target(s) missed` : "\nall targets met");
}

if (import.meta.main) await main();
