/**
 * Formats load-generator results: one row per scenario and target, then each server's targets as
 * ratios against the references measured in the same run, then each variant against the server.
 */
import type { RunResult } from "./loadgen.ts";

/** A MaxIOFS process measured in the run, and whether it syncs object files (`--fsync`). */
export interface ServerTarget {
  name: string;
  durable: boolean;
}

/** The results of one scenario on a named reference target ("baseline", "durable", "md5"). */
type Ref = (target: string, scenario?: string) => RunResult | undefined;

export interface Target {
  scenario: string;
  label: string;
  /** Graded only for servers that sync (`durable`) or that do not (`fast`); default both. */
  when?: "durable" | "fast";
  /** Returns [measured value, pass] for one server's run of the scenario. */
  check(srv: RunResult, ref: Ref): [string, boolean];
}

const opsPerSec = (r: RunResult) => r.ops / r.seconds;
const mbPerSec = (r: RunResult) => r.bytes / r.seconds / 1e6;
const usable = (r: RunResult | undefined): r is RunResult => !!r && !r.skipped && r.ops > 0;

/** server rate / reference rate >= min. */
function rateTarget(
  scenario: string,
  ref: string,
  min: number,
  by: "ops" | "mb",
  when?: Target["when"],
  refScenario = scenario,
): Target {
  const f = by === "ops" ? opsPerSec : mbPerSec;
  const what = refScenario === scenario ? ref : `${ref} ${refScenario}`;
  return {
    scenario,
    when,
    label: `${by === "ops" ? "ops/s" : "MB/s"} / ${what} >= ${min}`,
    check: (s, get) => {
      const b = get(ref, refScenario);
      if (!usable(b)) return ["n/a", false];
      const r = f(s) / f(b);
      return [r.toFixed(2), r >= min];
    },
  };
}

/** The server's rate in `scenario` / its own rate in `plain` (the same run) >= min. */
function sameServerTarget(scenario: string, plain: string, min: number, by: "ops" | "mb"): Target {
  const f = by === "ops" ? opsPerSec : mbPerSec;
  return {
    scenario,
    label: `${by === "ops" ? "ops/s" : "MB/s"} / own ${plain} >= ${min}`,
    check: (s, get) => {
      const b = get(s.target, plain);
      if (!usable(b)) return ["n/a", false];
      const r = f(s) / f(b);
      return [r.toFixed(2), r >= min];
    },
  };
}

/**
 * The targets of issue 14 (docs/performance.md, "Durability and baselines"), and of issue 16:
 * SSE-S3 rows against the same server's plain rows.
 */
export const TARGETS: Target[] = [
  rateTarget("put-4k-c1", "durable", 0.9, "ops", "durable"),
  rateTarget("put-4k-c32", "baseline", 0.6, "ops"),
  {
    scenario: "put-4k-c32",
    label: "p95 / baseline p95 <= 2",
    check: (s, get) => {
      const b = get("baseline");
      if (!usable(b)) return ["n/a", false];
      const r = s.p95 / b.p95;
      return [`${r.toFixed(2)}`, r <= 2];
    },
  },
  rateTarget("get-4k-c1", "baseline", 0.9, "ops"),
  rateTarget("get-4k-c32", "baseline", 0.9, "ops"),
  rateTarget("put-64m-c1", "durable", 0.9, "mb", "durable"),
  rateTarget("put-64m-c1", "md5", 0.8, "mb", "fast"),
  rateTarget("get-64m-c1", "baseline", 0.9, "mb"),
  {
    scenario: "list-1000-c1",
    label: "time per LIST / fixed-document baseline <= 1.5",
    check: (s, get) => {
      const b = get("baseline");
      if (!usable(b)) return ["n/a", false];
      const r = (s.seconds / s.ops) / (b.seconds / b.ops);
      return [r.toFixed(2), r <= 1.5];
    },
  },
  rateTarget("delete-c32", "baseline", 0.5, "ops"),
  rateTarget("mpu-256m-put", "baseline", 0.7, "mb"),
  rateTarget("mpu-256m-put", "baseline", 0.7, "mb", undefined, "put-64m-c1"),
  sameServerTarget("put-4k-sse-c1", "put-4k-c1", 0.9, "ops"),
  sameServerTarget("get-4k-sse-c1", "get-4k-c1", 0.9, "ops"),
  sameServerTarget("put-64m-sse-c1", "put-64m-c1", 0.8, "mb"),
  sameServerTarget("get-64m-sse-c1", "get-64m-c1", 0.8, "mb"),
];

const pad = (s: string, n: number) => s.length >= n ? s : s + " ".repeat(n - s.length);
const lpad = (s: string, n: number) => s.length >= n ? s : " ".repeat(n - s.length) + s;
const ms = (x: number) => Number.isNaN(x) ? "-" : x < 10 ? x.toFixed(2) : x.toFixed(1);

/** The target process's CPU time per op in µs (null: not measured). */
export function cpuPerOp(r: RunResult): number | null {
  return r.cpuNs === undefined || r.ops === 0 ? null : r.cpuNs / r.ops / 1000;
}

export function formatTable(results: RunResult[]): string {
  const w = Math.max(9, ...results.map((r) => r.target.length));
  const lines: string[] = [];
  lines.push(
    [
      pad("scenario", 14),
      pad("target", w),
      lpad("ops", 7),
      lpad("ops/s", 9),
      lpad("MB/s", 9),
      lpad("p50 ms", 8),
      lpad("p95 ms", 8),
      lpad("p99 ms", 8),
      lpad("errors", 7),
      lpad("disk KB/op", 11),
      lpad("cpu µs/op", 10),
    ].join(" "),
  );
  for (const r of results) {
    if (r.skipped) {
      lines.push(`${pad(r.scenario, 14)} ${pad(r.target, w)} SKIPPED: ${r.skipped}`);
      continue;
    }
    lines.push(
      [
        pad(r.scenario, 14),
        pad(r.target, w),
        lpad(String(r.ops), 7),
        lpad(opsPerSec(r).toFixed(1), 9),
        lpad(mbPerSec(r).toFixed(1), 9),
        lpad(ms(r.p50), 8),
        lpad(ms(r.p95), 8),
        lpad(ms(r.p99), 8),
        lpad(String(r.errors), 7),
        lpad(
          r.written === undefined || r.ops === 0 ? "-" : (r.written / r.ops / 1000).toFixed(1),
          11,
        ),
        lpad(cpuPerOp(r) === null ? "-" : cpuPerOp(r)!.toFixed(0), 10),
      ].join(" ") + (r.note ? `  (${r.note})` : ""),
    );
  }
  return lines.join("\n");
}

/** Every target that applies to each server, graded; `failed` counts the misses. */
export function formatTargets(
  results: RunResult[],
  servers: ServerTarget[],
): { text: string; failed: number } {
  const all = new Map(results.map((r) => [`${r.scenario}/${r.target}`, r]));
  const w = Math.max(6, ...servers.map((s) => s.name.length));
  const lines: string[] = [];
  let failed = 0;
  for (const server of servers) {
    for (const t of TARGETS) {
      if (t.when && (t.when === "durable") !== server.durable) continue;
      const s = all.get(`${t.scenario}/${server.name}`);
      if (!s) continue;
      const head = `${pad(t.scenario, 14)} ${pad(server.name, w)} ${pad(t.label, 50)}`;
      if (s.skipped) {
        lines.push(`${head} SKIPPED (${s.skipped})`);
        continue;
      }
      const ref: Ref = (target, scenario = t.scenario) => all.get(`${scenario}/${target}`);
      const [value, met] = t.check(s, ref);
      // Failed requests make any figure meaningless (errors are fast).
      const invalid = s.errors > 0 ||
        results.some((r) => r.scenario === t.scenario && r.kind !== "server" && r.errors > 0);
      const pass = met && !invalid;
      if (!pass) failed++;
      const verdict = invalid ? "INVALID (request errors)" : met ? "ok" : "MISSED";
      lines.push(`${head} ${lpad(value, 7)}  ${verdict}`);
    }
  }
  return { text: lines.join("\n"), failed };
}

/** Each variant against the default server, scenario by scenario: rate and p95 ratios. */
export function formatVariants(results: RunResult[], main: string, variants: string[]): string {
  const all = new Map(results.map((r) => [`${r.scenario}/${r.target}`, r]));
  const scenarios = [...new Set(results.map((r) => r.scenario))];
  const lines: string[] = [];
  for (const v of variants) {
    for (const sc of scenarios) {
      const s = all.get(`${sc}/${main}`);
      const x = all.get(`${sc}/${v}`);
      if (!usable(s) || !usable(x)) continue;
      // Every op of a scenario moves the same bytes: ops/s and MB/s ratios are one.
      const rate = opsPerSec(x) / opsPerSec(s);
      const cs = cpuPerOp(s);
      const cx = cpuPerOp(x);
      const cpu = cs && cx ? `  cpu/op ${lpad((cx / cs).toFixed(3), 6)}x` : "";
      lines.push(
        `${pad(sc, 14)} ${pad(`${v}/${main}`, 24)} rate ${lpad(rate.toFixed(2), 5)}x  ` +
          `p95 ${lpad((x.p95 / s.p95).toFixed(2), 5)}x${cpu}`,
      );
    }
  }
  return lines.join("\n");
}
