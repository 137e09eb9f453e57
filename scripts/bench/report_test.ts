import { assert, assertEquals } from "../../tests/_helpers/assert.ts";
import type { RunResult } from "./loadgen.ts";
import { cpuPerOp, formatTargets, formatVariants } from "./report.ts";

function run(scenario: string, target: string, ops: number, bytes = 0, p95 = 1): RunResult {
  const kind = target === "baseline"
    ? "plain"
    : target === "durable" || target === "md5"
    ? target
    : "server";
  return { scenario, target, kind, ops, bytes, seconds: 1, p50: p95, p95, p99: p95, errors: 0 };
}

const MiB = 1 << 20;
const results: RunResult[] = [
  run("put-4k-c1", "baseline", 1000),
  run("put-4k-c1", "durable", 400),
  run("put-4k-c1", "server", 380),
  run("put-4k-c1", "nosync", 900),
  run("put-64m-c1", "baseline", 4, 4 * 64 * MiB),
  run("put-64m-c1", "durable", 2, 2 * 64 * MiB),
  run("put-64m-c1", "md5", 8, 8 * 64 * MiB),
  run("put-64m-c1", "server", 2, 2 * 64 * MiB),
  run("put-64m-c1", "nosync", 4, 4 * 64 * MiB),
];

Deno.test("bench targets: each server is graded against the references its sync mode calls for", () => {
  const { text, failed } = formatTargets(results, [
    { name: "server", durable: true },
    { name: "nosync", durable: false },
  ]);
  const rows = text.split("\n").map((l) => l.replace(/\s+/g, " ").trim());
  assertEquals(rows, [
    "put-4k-c1 server ops/s / durable >= 0.9 0.95 ok",
    "put-64m-c1 server MB/s / durable >= 0.9 1.00 ok",
    // Half the one-core MD5 rate: below 0.8 of it.
    "put-64m-c1 nosync MB/s / md5 >= 0.8 0.50 MISSED",
  ]);
  assertEquals(failed, 1);
});

Deno.test("bench targets: request errors on a reference make the row invalid", () => {
  const bad = results.map((r) => r.target === "durable" ? { ...r, errors: 1 } : r);
  const { text, failed } = formatTargets(bad, [{ name: "server", durable: true }]);
  assert(text.includes("INVALID"), text);
  assertEquals(failed, 2);
});

Deno.test("bench variants: rate and p95 against the server, scenario by scenario", () => {
  const rows = formatVariants(results, "server", ["nosync"]).split("\n")
    .map((l) => l.replace(/\s+/g, " ").trim());
  assertEquals(rows, [
    "put-4k-c1 nosync/server rate 2.37x p95 1.00x",
    "put-64m-c1 nosync/server rate 2.00x p95 1.00x",
  ]);
});

Deno.test("bench targets: SSE-S3 rows are graded against the same server's plain rows", () => {
  const sse = [
    run("put-4k-c1", "server", 400),
    run("put-4k-sse-c1", "server", 380),
    run("get-64m-c1", "server", 10, 10 * 64 * MiB),
    run("get-64m-sse-c1", "server", 7, 7 * 64 * MiB),
    run("get-64m-c1", "nosync", 10, 10 * 64 * MiB),
    run("get-64m-sse-c1", "nosync", 9, 9 * 64 * MiB),
  ];
  const { text, failed } = formatTargets(sse, [
    { name: "server", durable: true },
    { name: "nosync", durable: false },
  ]);
  const rows = text.split("\n").map((l) => l.replace(/\s+/g, " ").trim());
  assertEquals(rows.filter((r) => r.includes("sse")), [
    "put-4k-sse-c1 server ops/s / own put-4k-c1 >= 0.9 0.95 ok",
    "get-64m-sse-c1 server MB/s / own get-64m-c1 >= 0.8 0.70 MISSED",
    "get-64m-sse-c1 nosync MB/s / own get-64m-c1 >= 0.8 0.90 ok",
  ]);
  assertEquals(failed, 1 + rows.filter((r) => r.includes("MISSED") && !r.includes("sse")).length);
});

Deno.test("bench variants: server CPU per op, when both sides measured it", () => {
  const withCpu = [
    { ...run("get-4k-c1", "server", 1000), cpuNs: 200_000_000 },
    { ...run("get-4k-c1", "nometrics", 1100), cpuNs: 198_000_000 },
  ];
  const rows = formatVariants(withCpu, "server", ["nometrics"]).split("\n")
    .map((l) => l.replace(/\s+/g, " ").trim());
  // 180 µs against 200 µs per op.
  assertEquals(rows, ["get-4k-c1 nometrics/server rate 1.10x p95 1.00x cpu/op 0.900x"]);
  assertEquals(cpuPerOp(withCpu[0]), 200);
  assertEquals(cpuPerOp(results[0]), null);
});
