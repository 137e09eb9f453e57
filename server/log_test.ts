import { assertEquals } from "../tests/_helpers/assert.ts";
import { createLogger, formatLine } from "./log.ts";

Deno.test("log lines: text with fields, or one JSON object per line", () => {
  const t = new Date("2026-12-07T15:00:00.000Z");
  assertEquals(
    formatLine("text", t, "warn", "disk low", { freeMiB: 12 }),
    '2026-12-07T15:00:00.000Z WARN disk low {"freeMiB":12}',
  );
  assertEquals(formatLine("text", t, "info", "started"), "2026-12-07T15:00:00.000Z INFO started");
  assertEquals(JSON.parse(formatLine("json", t, "error", "failed", { op: "PutObject" })), {
    time: "2026-12-07T15:00:00.000Z",
    level: "error",
    msg: "failed",
    op: "PutObject",
  });
  const lines: string[] = [];
  const log = createLogger("warn", (l) => lines.push(l), "json");
  log.info("below the level");
  log.warn("kept", { n: 1 });
  assertEquals(lines.length, 1);
  assertEquals(JSON.parse(lines[0]).msg, "kept");
});
