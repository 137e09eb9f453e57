/**
 * `deno task bench`: starts the raw baselines (plain Deno.serve streaming bodies to files, and the
 * same with an fdatasync per object file) and the real server (main.ts, temp data dir), plus one
 * more server per variant, each in its own process; then drives them all with one load generator
 * process, scenario by scenario, and prints figures and ratios against the targets
 * (docs/performance.md). Each scenario runs in slices that alternate between its targets, so load
 * from other processes on a shared machine falls on every side alike. Loopback only.
 *
 * Flags: --seconds N (per timed scenario and target, default 3), --payload unsigned|sha256
 * (default unsigned), --only a,b (scenario names), --keep (keep temp dirs), --json (raw results
 * too), --server-flags "..." (main.ts flags of the server), --variant name=flags (repeatable: one
 * more server with these main.ts flags added, measured in the same slices; default
 * `nosync=--fsync=false`; `--variant none` for no variant; `name=@path/main.ts flags` runs another
 * checkout's server, for before/after figures in one run; `+notify`, `+replicate` and `+versioned`
 * among a variant's flags set its bucket up as bench/followers.ts describes). BENCH_SERVER_FLAGS
 * holds deno flags for every server process (e.g. --cpu-prof).
 */
import { formatTable, formatTargets, formatVariants, type ServerTarget } from "./bench/report.ts";
import type { BenchTarget, LoadConfig, RunResult } from "./bench/loadgen.ts";
import { loadConfig } from "../server/config.ts";
import {
  BENCH_ROOT_PASSWORD,
  BENCH_ROOT_USER,
  bucketConfiguration,
  type Follow,
  followFlags,
  FOLLOWS,
  FollowSinks,
} from "./bench/followers.ts";

const HERE = new URL(".", import.meta.url).pathname;
const ACCESS_KEY = "AKIABENCHROOT0000001";
const SECRET_KEY = "benchsecretkey00000000000000000000000000";

/** Every value of `--name value` or `--name=value`, in order. */
function flags(name: string): string[] {
  const out: string[] = [];
  Deno.args.forEach((a, i) => {
    if (a === `--${name}` && i + 1 < Deno.args.length) out.push(Deno.args[i + 1]);
    else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  });
  return out;
}

const flag = (name: string): string | undefined => flags(name)[0];
const words = (s: string | undefined) => s?.split(" ").filter(Boolean) ?? [];

/** A server to start: its target name, its extra main.ts flags and, for another checkout, its main.ts. */
interface ServerSpec {
  name: string;
  flags: string[];
  /** Another checkout's main.ts (`--variant before=@../old/main.ts`: before/after in one run). */
  main?: string;
  /** How its bucket is followed (`+notify` etc. among the variant's flags). */
  follows?: Follow[];
}

/** The variants of `--variant name=flags` (default: the server with its syncs off). */
export function parseVariants(values: string[]): ServerSpec[] {
  if (values.length === 0) values = ["nosync=--fsync=false"];
  if (values.length === 1 && values[0] === "none") return [];
  return values.map((v) => {
    const eq = v.indexOf("=");
    const name = eq > 0 ? v.slice(0, eq) : "";
    if (
      !/^[a-z0-9][a-z0-9-]*$/.test(name) || ["server", "baseline", "durable", "md5"].includes(name)
    ) {
      throw new Error(
        `Cannot parse --variant "${v}": expected name=flags with a new lowercase name`,
      );
    }
    const all = words(v.slice(eq + 1));
    const follows = all.filter((w) => w.startsWith("+")).map((w) => w.slice(1) as Follow);
    const bad = follows.find((f) => !FOLLOWS.includes(f));
    if (bad) throw new Error(`Cannot parse --variant "${v}": unknown +${bad}`);
    const [first, ...rest] = all.filter((w) => !w.startsWith("+"));
    const extra = follows.length ? { follows } : {};
    if (first?.startsWith("@")) return { name, flags: rest, main: first.slice(1), ...extra };
    return { name, flags: first === undefined ? [] : [first, ...rest], ...extra };
  });
}

/** The environment of every server process (on top of the bench's own). */
const SERVER_ENV = {
  MAXIOFS_ROOT_ACCESS_KEY: ACCESS_KEY,
  MAXIOFS_ROOT_SECRET_KEY: SECRET_KEY,
  MAXIOFS_LOG_LEVEL: "warn",
  MAXIOFS_ROOT_USER: BENCH_ROOT_USER,
  MAXIOFS_ROOT_PASSWORD: BENCH_ROOT_PASSWORD,
};

/** Whether main.ts started with these flags (and the bench's environment) syncs object files. */
export function syncsObjects(args: string[], env = Deno.env.toObject()): boolean {
  return loadConfig({ args, env: { ...env, ...SERVER_ENV } }).fsync;
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
  } catch (e) {
    await stop(child);
    throw e;
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

/** A started target process, its load-generator target and its output so far. */
interface Started {
  target: BenchTarget;
  child: Deno.ChildProcess;
  output: string[];
}

const BASELINES: { name: string; kind: "plain" | "durable"; args: string[] }[] = [
  { name: "baseline", kind: "plain", args: [] },
  { name: "durable", kind: "durable", args: ["--durable"] },
];

const RUN = ["run", "--allow-all", "--unstable-kv"];

/** Starts the baselines, then the servers; appends each to `started` as soon as it runs. */
async function startTargets(
  specs: ServerSpec[],
  tempDir: (what: string) => Promise<string>,
  started: Started[],
): Promise<void> {
  for (const b of BASELINES) {
    const p = await spawnListening(
      [...RUN, `${HERE}bench/baseline.ts`, await tempDir(b.name), ...b.args],
      /listening on (http:\/\/\S+)/,
    );
    started.push({
      target: { name: b.name, kind: b.kind, endpoint: p.url, pid: p.child.pid },
      ...p,
    });
  }
  const denoFlags = words(Deno.env.get("BENCH_SERVER_FLAGS"));
  for (const spec of specs) {
    const p = await spawnListening(
      [
        ...RUN,
        ...denoFlags,
        spec.main ?? `${HERE}../main.ts`,
        "--data-dir",
        await tempDir(spec.name),
        "--listen",
        "127.0.0.1:0",
        "--console-listen",
        "127.0.0.1:0",
        ...spec.flags,
        ...followFlags(spec.follows ?? []),
      ],
      /S3 API listening on (http:\/\/\S+)/,
      SERVER_ENV,
    );
    const setup = bucketConfiguration(spec.follows ?? []);
    started.push({
      target: {
        name: spec.name,
        kind: "server",
        endpoint: p.url,
        pid: p.child.pid,
        ...(setup.length ? { setup } : {}),
      },
      ...p,
    });
  }
}

/** Starts the receiver and the sink the variants' followers need, and registers them. */
async function startFollowing(
  specs: ServerSpec[],
  started: Started[],
  sinks: FollowSinks,
  tempDir: (what: string) => Promise<string>,
): Promise<void> {
  const all = specs.flatMap((s) => s.follows ?? []);
  if (!all.length) return;
  await sinks.start(all, async (dir) => {
    const p = await spawnListening(
      [...RUN, `${HERE}bench/baseline.ts`, dir],
      /listening on (http:\/\/\S+)/,
    );
    return { child: p.child, url: p.url };
  }, tempDir);
  for (const spec of specs) {
    if (!spec.follows?.length) continue;
    const s = started.find((x) => x.target.name === spec.name)!;
    // The console's line comes after the S3 API's, which `spawnListening` waited for.
    let consoleUrl: string | undefined;
    for (let i = 0; i < 200 && !consoleUrl; i++) {
      consoleUrl = s.output.map((l) => /Console listening on (http:\/\/\S+)/.exec(l)?.[1])
        .find(Boolean);
      if (!consoleUrl) await new Promise((r) => setTimeout(r, 50));
    }
    if (!consoleUrl) throw new Error(`${spec.name}: no console URL in its output`);
    await sinks.register(spec.follows, consoleUrl, `${HERE}admin.ts`);
  }
}

/** Runs the load generator over `cfg`; returns its results as they arrived. */
async function runLoad(cfg: LoadConfig): Promise<RunResult[]> {
  const results: RunResult[] = [];
  const gen = new Deno.Command(Deno.execPath(), {
    args: [...RUN, `${HERE}bench/loadgen.ts`, JSON.stringify(cfg)],
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
  if (!st.success) {
    console.error(`load generator exited with ${st.code}`);
    Deno.exitCode = 1;
  }
  return results;
}

function printHeader(cfg: LoadConfig, specs: ServerSpec[]) {
  console.log(
    `MaxIOFS bench ${new Date().toISOString()}  deno ${Deno.version.deno}  ` +
      `${navigator.hardwareConcurrency} cores  load average ${loadAverage()}`,
  );
  console.log(
    "baseline: plain Deno.serve streaming bodies to files; durable: the same with an fdatasync " +
      "per object file;\nmd5: one core's MD5 in the load generator (node:crypto)",
  );
  for (const s of specs) {
    console.log(
      `${s.name}: ${s.main ?? "main.ts"} ${
        [...s.flags, ...(s.follows ?? []).map((f) => `+${f}`)].join(" ") || "(defaults)"
      }  ` +
        `(object files synced: ${syncsObjects(s.flags) ? "yes" : "no"})`,
    );
  }
  console.log(`loopback, ${cfg.seconds} s per timed scenario and target, in alternating slices`);
  console.log(
    `payload hash: ${
      cfg.payload === "unsigned"
        ? "UNSIGNED-PAYLOAD (SigV4 header auth, cached signing key)"
        : "precomputed SHA-256 of each body (server verifies it)"
    }; the baselines get the same headers and ignore them\n`,
  );
}

async function main() {
  const serverFlags = words(flag("server-flags"));
  const specs: ServerSpec[] = [
    { name: "server", flags: serverFlags },
    ...parseVariants(flags("variant")).map((v) => ({ ...v, flags: [...serverFlags, ...v.flags] })),
  ];
  const dirs: string[] = [];
  const tempDir = async (what: string) => {
    const d = await Deno.makeTempDir({ prefix: `maxiofs-bench-${what}-` });
    dirs.push(d);
    return d;
  };
  const started: Started[] = [];
  const sinks = new FollowSinks();
  let results: RunResult[];
  try {
    await startTargets(specs, tempDir, started);
    await startFollowing(specs, started, sinks, tempDir);
    const cfg: LoadConfig = {
      targets: started.map((s) => s.target),
      accessKey: ACCESS_KEY,
      secretKey: SECRET_KEY,
      region: "us-east-1",
      payload: (flag("payload") ?? "unsigned") as "unsigned" | "sha256",
      seconds: Number(flag("seconds") ?? 3),
      only: (flag("only") ?? "").split(",").filter(Boolean),
    };
    printHeader(cfg, specs);
    results = await runLoad(cfg);
    for (const line of await sinks.summary()) console.log(line);
  } finally {
    await Promise.all(started.map((s) => stop(s.child)));
    await sinks.stop();
    for (const s of started) {
      const errors = s.output.filter((l) => /error/i.test(l));
      if (errors.length) console.error(`${s.target.name}:\n${errors.slice(0, 10).join("\n")}`);
    }
    if (!Deno.args.includes("--keep")) {
      for (const d of dirs) await Deno.remove(d, { recursive: true }).catch(() => {});
    } else console.log(`kept: ${dirs.join(" ")}`);
  }
  console.log(`load average at the end: ${loadAverage()}\n`);
  console.log(formatTable(results));
  console.log("\nTargets (ratios from this run):");
  const graded = specs.map((s): ServerTarget => ({ name: s.name, durable: syncsObjects(s.flags) }));
  const t = formatTargets(results, graded);
  console.log(t.text);
  if (specs.length > 1) {
    console.log("\nVariants against the server (same run):");
    console.log(formatVariants(results, "server", specs.slice(1).map((s) => s.name)));
  }
  if (Deno.args.includes("--json")) console.log(JSON.stringify(results));
  if (Deno.exitCode) console.log("\nthe load generator failed: figures are incomplete");
  else console.log(t.failed ? `\n${t.failed} target(s) missed` : "\nall targets met");
}

if (import.meta.main) await main();
