/**
 * Settings categories: validation of every category (the field and the cause named, nothing
 * stored on a refusal), merging of partial category changes, sealed secrets never answered, and
 * the live copy telling its listeners.
 */
import { Buffer } from "node:buffer";
import { assert, assertEquals } from "../../tests/_helpers/assert.ts";
import { openDb } from "../db/mod.ts";
import { SecretBox } from "./secrets.ts";
import {
  DEFAULT_SETTINGS,
  getSettings,
  isSettingsProblem,
  LiveSettings,
  openSecret,
  settingsView,
  updateSettings,
} from "./settings.ts";

function testCore() {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
  return { db: openDb(":memory:"), box: new SecretBox(key) };
}

Deno.test("each category refuses invalid values naming the field, and stores nothing", async () => {
  const core = testCore();
  const cases: [Record<string, unknown>, string][] = [
    [{ email: { port: 0 } }, "email.port"],
    [{ email: { port: "25" } }, "email.port"],
    [{ email: { security: "ssl" } }, "email.security"],
    [{ email: { to: ["not an address"] } }, "email.to"],
    [{ email: { enabled: true } }, "email.host"],
    [{ email: { nope: 1 } }, "email.nope"],
    [{ alerts: { diskWarnPercent: 95 } }, "alerts.diskWarnPercent"],
    [{ alerts: { quotaCriticalPercent: 101 } }, "alerts.quotaCriticalPercent"],
    [{ alerts: { failedLoginsPerHour: 0 } }, "alerts.failedLoginsPerHour"],
    [{ system: { maintenanceMode: "yes" } }, "system.maintenanceMode"],
    [{ security: { s3RequestsPerSecondPerKey: -1 } }, "security.s3RequestsPerSecondPerKey"],
    [{ storage: { defaultBucketMaxBytes: 1.5 } }, "storage.defaultBucketMaxBytes"],
    [{ audit: { s3ObjectEvents: 1 } }, "audit.s3ObjectEvents"],
    [{ metrics: { token: 5 } }, "metrics.token"],
    [{ system: true }, "system"],
  ];
  for (const [patch, field] of cases) {
    // A valid change in the same patch is not stored either.
    const out = await updateSettings(core, { sessionHours: 3, ...patch });
    assert(isSettingsProblem(out), JSON.stringify(patch));
    assertEquals(out.field, field);
    assert(out.message.includes(field), out.message);
  }
  assertEquals(getSettings(core), DEFAULT_SETTINGS);
  core.db.close();
});

Deno.test("a category change merges with what is stored; warn must stay below critical", async () => {
  const core = testCore();
  let out = await updateSettings(core, {
    email: { host: "smtp.example.com", from: "maxiofs@example.com", to: ["ops@example.com"] },
  });
  assertEquals(out, { changed: ["email.host", "email.from", "email.to"] });
  out = await updateSettings(core, { email: { enabled: true, port: 465, security: "tls" } });
  assert(!isSettingsProblem(out));
  const e = getSettings(core).email;
  assertEquals([e.enabled, e.host, e.port, e.security], [true, "smtp.example.com", 465, "tls"]);
  // Lowering critical under the stored warn is refused against the merged result.
  out = await updateSettings(core, { alerts: { diskCriticalPercent: 70 } });
  assert(isSettingsProblem(out));
  assertEquals(out.field, "alerts.diskWarnPercent");
  out = await updateSettings(core, { alerts: { diskWarnPercent: 60, diskCriticalPercent: 70 } });
  assert(!isSettingsProblem(out));
  assertEquals(getSettings(core).alerts.diskCriticalPercent, 70);
  assertEquals(getSettings(core).alerts.quotaWarnPercent, 80);
  core.db.close();
});

Deno.test("secrets are sealed at rest and answered only as set or not", async () => {
  const core = testCore();
  await updateSettings(core, { email: { password: "hunter2" }, metrics: { token: "t0k3n" } });
  const row = core.db.prepare("SELECT value FROM settings WHERE key = 'email'").get() as {
    value: string;
  };
  assert(!row.value.includes("hunter2"), "the password is not stored in plain text");
  const s = getSettings(core);
  assertEquals(await openSecret(core, s.email.password), "hunter2");
  assertEquals(await openSecret(core, s.metrics.token), "t0k3n");
  const view = settingsView(s);
  assertEquals(view.email.passwordSet, true);
  assertEquals(view.metrics, { tokenSet: true });
  assert(!JSON.stringify(view).includes(s.email.password));
  assert(!("password" in view.email));
  // Another field of the category keeps the password; "" removes it.
  await updateSettings(core, { email: { port: 25 } });
  assertEquals(await openSecret(core, getSettings(core).email.password), "hunter2");
  await updateSettings(core, { email: { password: "" } });
  assertEquals(settingsView(getSettings(core)).email.passwordSet, false);
  core.db.close();
});

Deno.test("the live settings are read again after a change and tell their listeners", async () => {
  const core = testCore();
  const live = new LiveSettings(core);
  const seen: string[][] = [];
  const off = live.onChange((s, changed) => {
    assertEquals(s.system.maintenanceMode, true);
    seen.push(changed);
  });
  assert(isSettingsProblem(await live.update({ system: { maintenanceMode: "on" } })));
  assertEquals(seen, []);
  await live.update({ system: { maintenanceMode: true, maintenanceMessage: "upgrade" } });
  assertEquals(live.current().system, { maintenanceMode: true, maintenanceMessage: "upgrade" });
  assertEquals(seen, [["system.maintenanceMode", "system.maintenanceMessage"]]);
  off();
  await live.update({ system: { maintenanceMode: false } });
  assertEquals(seen.length, 1);
  assertEquals(live.current().system.maintenanceMode, false);
  core.db.close();
});
