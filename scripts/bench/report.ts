/** Formats load-generator results: one row per scenario and target, ratios against targets. */
import type { RunResult } from "./loadgen.ts";

export interface Target {
  scenario: string;
  label: string;
  /** Returns [measured value, pass] from the baseline and server runs of the same scenario. */
  check(
    base: RunResult | undefined,
    srv: RunResult,
    all: Map<string, RunResult>,
  ): [string, boolean];
}

const opsPerSec = (r: RunResult) => r.ops / r.seconds;
const mbPerSec = (r: RunResult) => r.bytes / r.seconds / 1e6;

function ratioTarget(scenario: string, min: number, by: "ops" | "mb"): Target {
  const f = by === "ops" ? opsPerSec : mbPerSec;
  return {
    scenario,
    label: `server/baseline ${by === "ops" ? "ops/s" : "MB/s"} >= ${min}`,
    check: (b, s) => {
      if (!b || !b.ops) return ["n/a", false];
      const r = f(s) / f(b);
      return [r.toFixed(2), r >= min];
    },
  };
}

export const TARGETS: Target[] = [
  ratioTarget("put-4k-c1", 0.6, "ops"),
  ratioTarget("put-4k-c32", 0.6, "ops"),
  ratioTarget("get-4k-c1", 0.6, "ops"),
  ratioTarget("get-4k-c32", 0.6, "ops"),
  {
    scenario: "put-4k-c32",
    label: "server p95 <= 10 ms",
    check: (_b, s) => [`${s.p95.toFixed(1)} ms`, s.p95 <= 10],
  },
  {
    scenario: "get-4k-c32",
    label: "server p95 <= 10 ms",
    check: (_b, s) => [`${s.p95.toFixed(1)} ms`, s.p95 <= 10],
  },
  ratioTarget("put-64m-c1", 0.5, "mb"),
  ratioTarget("get-64m-c1", 0.8, "mb"),
  {
    scenario: "list-1000-c1",
    label: "server/baseline time per LIST <= 2",
    check: (b, s) => {
      if (!b || !b.ops) return ["n/a", false];
      const r = (s.seconds / s.ops) / (b.seconds / b.ops);
      return [r.toFixed(2), r <= 2];
    },
  },
  {
    scenario: "mpu-256m-put",
    label: "server multipart MB/s / baseline 256 MiB PUT MB/s >= 0.7",
    check: (b, s) => {
      if (!b || !b.ops) return ["n/a", false];
      const r = mbPerSec(s) / mbPerSec(b);
      return [r.toFixed(2), r >= 0.7];
    },
  },
  {
    scenario: "mpu-256m-put",
    label: "server multipart MB/s / baseline 64 MiB PUT MB/s >= 0.7",
    check: (_b, s, all) => {
      const b = all.get("put-64m-c1/baseline");
      if (!b || !b.ops) return ["n/a", false];
      const r = mbPerSec(s) / mbPerSec(b);
      return [r.toFixed(2), r >= 0.7];
    },
  },
];

const pad = (s: string, n: number) => s.length >= n ? s : s + " ".repeat(n - s.length);
const lpad = (s: string, n: number) => s.length >= n ? s : " ".repeat(n - s.length) + s;
const ms = (x: number) => Number.isNaN(x) ? "-" : x < 10 ? x.toFixed(2) : x.toFixed(1);

export function formatTable(results: RunResult[]): string {
  const lines: string[] = [];
  lines.push(
    [
      pad("scenario", 14),
      pad("target", 9),
      lpad("ops", 7),
      lpad("ops/s", 9),
      lpad("MB/s", 9),
      lpad("p50 ms", 8),
      lpad("p95 ms", 8),
      lpad("p99 ms", 8),
      lpad("errors", 7),
    ].join(" "),
  );
  for (const r of results) {
    if (r.skipped) {
      lines.push(`${pad(r.scenario, 14)} ${pad(r.target, 9)} SKIPPED: ${r.skipped}`);
      continue;
    }
    lines.push(
      [
        pad(r.scenario, 14),
        pad(r.target, 9),
        lpad(String(r.ops), 7),
        lpad(opsPerSec(r).toFixed(1), 9),
        lpad(mbPerSec(r).toFixed(1), 9),
        lpad(ms(r.p50), 8),
        lpad(ms(r.p95), 8),
        lpad(ms(r.p99), 8),
        lpad(String(r.errors), 7),
      ].join(" ") + (r.note ? `  (${r.note})` : ""),
    );
  }
  return lines.join("\n");
}

export function formatTargets(results: RunResult[]): { text: string; failed: number } {
  const all = new Map(results.map((r) => [`${r.scenario}/${r.target}`, r]));
  const lines: string[] = [];
  let failed = 0;
  for (const t of TARGETS) {
    const s = all.get(`${t.scenario}/server`);
    if (!s) continue;
    if (s.skipped) {
      lines.push(`${pad(t.scenario, 14)} ${pad(t.label, 58)} SKIPPED (${s.skipped})`);
      continue;
    }
    const base = all.get(`${t.scenario}/baseline`);
    const [value, met] = t.check(base, s, all);
    // Failed requests make any figure meaningless (errors are fast).
    const invalid = s.errors > 0 || (base?.errors ?? 0) > 0;
    const pass = met && !invalid;
    if (!pass) failed++;
    const verdict = invalid ? "INVALID (request errors)" : met ? "ok" : "MISSED";
    lines.push(`${pad(t.scenario, 14)} ${pad(t.label, 58)} ${lpad(value, 9)}  ${verdict}`);
  }
  return { text: lines.join("\n"), failed };
}
