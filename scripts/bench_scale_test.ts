/**
 * Keeps `deno task bench:scale` working: a small run (1,500 objects per bucket, two checkpoints,
 * 50 buckets) against the real server must print every row with a figure in each column, no
 * failed request, and a verdict for every target (PASS or MISS: the figures of a run this small
 * say nothing about the targets, but INVALID would mean failed requests).
 */
import { assert, assertEquals } from "../tests/_helpers/assert.ts";
import { parseOptions } from "./bench_scale.ts";
import { LABEL_WIDTH, ROWS } from "./bench_scale/report.ts";

const SCRIPT = new URL("./bench_scale.ts", import.meta.url).pathname;

Deno.test("flags: --max bounds the checkpoints and is always the last one", () => {
  assertEquals(parseOptions([]).checkpoints, [10000, 100000, 1000000]);
  assertEquals(parseOptions(["--max", "100000"]).checkpoints, [10000, 100000]);
  assertEquals(parseOptions(["--quick"]).checkpoints, [10000, 20000]);
  assertEquals(parseOptions(["--quick"]).buckets, 1000);
  assertEquals(
    parseOptions(["--max", "3000", "--checkpoints", "1000,5000"]).checkpoints,
    [1000, 3000],
  );
  let message = "";
  try {
    parseOptions(["--max", "1e3x"]);
  } catch (e) {
    message = (e as Error).message;
  }
  assertEquals(message, 'Cannot parse --max "1e3x": expected a positive integer');
});

Deno.test("a small scale run prints every row and a verdict for every target", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unstable-kv",
      SCRIPT,
      "--max",
      "1500",
      "--checkpoints",
      "1000",
      "--buckets",
      "50",
      "--seconds",
      "1",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const log = new TextDecoder().decode(out.stderr);
  assert(out.success, `exit ${out.code}\n${text}\n${log}`);
  const lines = text.split("\n");
  for (const row of ROWS) {
    const line = lines.find((l) => l.startsWith(row.label.padEnd(LABEL_WIDTH)));
    assert(line, `row "${row.label}" missing:\n${text}`);
    const cells = line.slice(LABEL_WIDTH).trim().split(/\s+/);
    assertEquals(cells.length, 2, line);
    assert(cells.every((c) => /^-?[\d,]+(\.\d+)?$/.test(c)), line);
  }
  const failed = lines.find((l) => l.startsWith("failed requests"))!;
  assertEquals(failed.slice(LABEL_WIDTH).trim().split(/\s+/), ["0", "0"], text);
  const targets = lines.slice(lines.indexOf("Targets:") + 1).filter((l) =>
    /\s(PASS|MISS)$/.test(l)
  );
  assertEquals(targets.length, 13, text);
  assert(!text.includes("INVALID"), text);
  assert(text.includes("space reuse at 1500"), text);
});
