import assert from "node:assert/strict";
import { MECHANISMS, Tuning } from "./tuning.ts";
import { ConfigError, loadConfig, tuningOf } from "./config.ts";

Deno.test("Tuning: every mechanism is on unless named in --without; unknown names are refused", () => {
  const all = new Tuning();
  for (const m of Object.keys(MECHANISMS)) assert.equal(all.on(m as keyof typeof MECHANISMS), true);
  const t = Tuning.parse(" group-commit, latest-cache ,");
  assert.equal(t.on("group-commit"), false);
  assert.equal(t.on("latest-cache"), false);
  assert.equal(t.on("read-handle"), true);
  assert.throws(() => Tuning.parse("group-commit,turbo"), /Cannot parse "turbo"/);
  const cfg = loadConfig({ args: ["--without", "inline-small"], env: {} });
  assert.equal(tuningOf(cfg).on("inline-small"), false);
  assert.throws(
    () => loadConfig({ args: [], env: { MAXIOFS_WITHOUT: "nope" } }),
    (e) => e instanceof ConfigError && /--without: Cannot parse "nope"/.test(e.message),
  );
});
