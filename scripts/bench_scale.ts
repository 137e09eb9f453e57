/**
 * `deno task bench:scale`: storage at scale (issue 20). Starts the real server (main.ts, temp
 * data dir, default settings) and fills two buckets with 1 KiB objects up to each checkpoint
 * (10k, 100k, 1M by default), one of them listed once at the start and one never listed, plus
 * a versioned bucket (a tenth as many keys, two versions each) and many empty buckets. At each
 * checkpoint it measures PUT/s, bytes written per PUT, GET/s, the list shapes, a full walk,
 * DeleteObjects, RSS, the data dir's size and a restart; after the last one, whether the space
 * freed by deleting half the objects is reused. Then it prints the targets with PASS / MISS.
 * Loopback only; about 10 minutes for 1M on an idle 2-core machine.
 *
 * Flags: --max N (default 1000000), --checkpoints 10000,100000,1000000 (those above --max are
 * dropped; --max is always the last), --quick (max 20000 and 1,000 buckets: a smoke run),
 * --buckets N (buckets in all, default 10000), --seconds N (GET window, default 3),
 * --keep (keep the data dir), --json (the figures as JSON too).
 */
import { ScaleClient } from "./bench_scale/client.ts";
import { counted, objectBody } from "./bench_scale/load.ts";
import { ScaleServer } from "./bench_scale/server.ts";
import { runCheckpoint, runReuse, type RunState } from "./bench_scale/checkpoint.ts";
import {
  type Checkpoint,
  evaluateTargets,
  formatReuse,
  formatTable,
  formatTargets,
  type Reuse,
} from "./bench_scale/report.ts";

const CREDS = {
  accessKey: "AKIASCALEROOT0000001",
  secretKey: "scalesecretkey0000000000000000000000000",
};
const CONSOLE_USER = { username: "scale-admin", password: "Scale-admin-Pa55!" };
/** CreateBucket requests in flight while making the empty buckets. */
const BUCKET_CONCURRENCY = 16;

export interface ScaleOptions {
  checkpoints: number[];
  buckets: number;
  getSeconds: number;
  keep: boolean;
  json: boolean;
}

/** Reads the flags; throws on a value that is not a positive number. */
export function parseOptions(args: string[]): ScaleOptions {
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const positive = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) {
      throw new Error(`Cannot parse --${name} "${v}": expected a positive integer`);
    }
    return n;
  };
  const quick = args.includes("--quick");
  const max = positive("max", flag("max") ?? (quick ? "20000" : "1000000"));
  const listed = (flag("checkpoints") ?? "10000,100000,1000000").split(",")
    .map((v) => positive("checkpoints", v));
  const checkpoints = [...new Set([...listed.filter((n) => n < max), max])].sort((a, b) => a - b);
  return {
    checkpoints,
    buckets: positive("buckets", flag("buckets") ?? (quick ? "1000" : "10000")),
    getSeconds: positive("seconds", flag("seconds") ?? "3"),
    keep: args.includes("--keep"),
    json: args.includes("--json"),
  };
}

function loadAverage(): string {
  return Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
}

/** Creates the three main buckets and enough empty ones for `total` buckets in all. */
async function makeBuckets(c: ScaleClient, s: RunState): Promise<void> {
  for (const b of [s.listed, s.plain, s.versioned]) {
    const a = await c.createBucket(b);
    if (a.status !== 200) throw new Error(`CreateBucket ${b}: ${a.status} ${a.text}`);
  }
  const v = await c.enableVersioning(s.versioned);
  if (v.status !== 200) throw new Error(`PutBucketVersioning: ${v.status} ${v.text}`);
  // The listed bucket is listed while empty, as a console or client would right after creating
  // it: from then on the server may keep its listing in memory.
  const l = await c.listV2(s.listed);
  if (l.status !== 200) throw new Error(`ListObjectsV2: ${l.status} ${l.text}`);
  const extra = s.buckets - 3;
  const made = await counted(
    BUCKET_CONCURRENCY,
    extra,
    (i) => c.createBucket(`scale-empty-${String(i).padStart(5, "0")}`),
  );
  if (made.errors) throw new Error(`CreateBucket of the empty buckets: ${made.firstError}`);
}

async function main(): Promise<number> {
  const opts = parseOptions(Deno.args);
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-scale-" });
  const env = {
    MAXIOFS_ROOT_ACCESS_KEY: CREDS.accessKey,
    MAXIOFS_ROOT_SECRET_KEY: CREDS.secretKey,
    // The console admin the object search step signs in as.
    MAXIOFS_ROOT_USER: CONSOLE_USER.username,
    MAXIOFS_ROOT_PASSWORD: CONSOLE_USER.password,
  };
  const state: RunState = {
    dataDir,
    creds: CREDS,
    consoleUser: CONSOLE_USER,
    env,
    listed: "scale-listed",
    plain: "scale-plain",
    versioned: "scale-versioned",
    buckets: Math.max(3, opts.buckets),
    body: objectBody(),
    getSeconds: opts.getSeconds,
  };
  const started = performance.now();
  const progress = (msg: string) =>
    console.error(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${msg}`);
  console.log(
    `MaxIOFS scale bench ${new Date().toISOString()}  deno ${Deno.version.deno}  ` +
      `${navigator.hardwareConcurrency} cores  load average ${loadAverage()}`,
  );
  console.log(
    `checkpoints ${opts.checkpoints.join(", ")} objects of 1 KiB in each of two buckets ` +
      `(one listed at the start, one never listed); a versioned bucket with a tenth as many ` +
      `keys, two versions each; ${state.buckets} buckets in all; 64 connections; data dir ${dataDir}`,
  );
  let server = await ScaleServer.start(dataDir, env);
  const checkpoints: Checkpoint[] = [];
  let reuse: Reuse;
  try {
    progress(`creating ${state.buckets} buckets`);
    await makeBuckets(new ScaleClient(server.url, CREDS), state);
    let previous = 0;
    for (const objects of opts.checkpoints) {
      const r = await runCheckpoint(state, server, previous, objects, progress);
      server = r.server;
      checkpoints.push(r.checkpoint);
      previous = objects;
      const f = r.checkpoint.figures;
      progress(
        `checkpoint ${objects}: PUT/s ${f.putListed.toFixed(0)} / ${f.putPlain.toFixed(0)}, ` +
          `GET/s ${f.get.toFixed(0)}, RSS ${f.rss.toFixed(0)} MiB, errors ${f.errors}`,
      );
      // The figures so far, so a long run that is stopped early still leaves them.
      console.error(formatTable(checkpoints));
    }
    reuse = await runReuse(state, server, previous, progress);
  } finally {
    await server.stop();
    const errors = server.errorLines();
    if (errors.length) console.error(errors.slice(0, 10).join("\n"));
    if (!opts.keep) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
  console.log(
    `load average at the end: ${loadAverage()}; ` +
      `run took ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
  console.log(formatTable(checkpoints));
  for (const c of checkpoints) {
    for (const n of c.notes) console.log(`${c.objects}: ${n}`);
    if (c.firstError) console.log(`${c.objects}: first failed request: ${c.firstError}`);
  }
  console.log(formatReuse(reuse));
  if (reuse.firstError) console.log(`space reuse: first failed request: ${reuse.firstError}`);
  console.log("\nTargets:");
  const t = formatTargets(evaluateTargets(checkpoints, reuse));
  console.log(t.text);
  if (opts.json) console.log(JSON.stringify({ checkpoints, reuse }));
  console.log(t.missed ? `\n${t.missed} target(s) missed` : "\nall targets met");
  return 0;
}

if (import.meta.main) Deno.exit(await main());
