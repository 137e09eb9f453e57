/** The alert center over a real database: dedupe, escalation, recovery, visibility, read marks. */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { openDb } from "../../db/mod.ts";
import { silentLogger } from "../../log.ts";
import { AlertCenter, type AlertNotice, type Condition } from "./center.ts";
import { AlertStore } from "./store.ts";
import {
  corruptionCondition,
  DEFAULT_THRESHOLDS,
  diskCondition,
  loginConditions,
  quotaConditions,
} from "./conditions.ts";

function setup() {
  const db = openDb(":memory:");
  let now = Date.UTC(2026, 11, 7);
  const clock = { now: () => now };
  const center = new AlertCenter(new AlertStore(db), { clock, log: silentLogger });
  const told: AlertNotice[] = [];
  center.subscribe((n) => told.push(n));
  return { db, center, told, tick: (ms: number) => now += ms, clock };
}

const GiB = 1024 ** 3;
const disk = (freeGiB: number) =>
  diskCondition({ totalBytes: 100 * GiB, freeBytes: freeGiB * GiB }, DEFAULT_THRESHOLDS);

Deno.test("a condition seen again is one alert; a new level tells once; gone, it recovers", () => {
  const { center, told, tick } = setup();
  const check = (c: Condition | null) => center.reconcile(["disk"], c ? [c] : []);
  assertEquals(check(disk(50)), [], "50% used: nothing");
  assertEquals(check(disk(15))[0].kind, "raised");
  tick(60_000);
  assertEquals(check(disk(14)), [], "86% then 86%: the same warning, nothing new to tell");
  const store = center.store;
  assertEquals(store.list()[0].title, "Data disk 86% full", "the figure is kept current");
  assertEquals(check(disk(5))[0].kind, "escalated");
  assertEquals(check(disk(12))[0].kind, "eased");
  const resolved = check(disk(40));
  assertEquals(resolved.map((n) => n.kind), ["resolved"]);
  assert(resolved[0].alert.resolvedAt !== null);
  assertEquals(told.map((n) => n.kind), ["raised", "escalated", "eased", "resolved"]);
  assertEquals(store.list({ active: true }), []);
  assertEquals(check(disk(15))[0].kind, "raised", "a new episode is a new alert");
  assertEquals(store.list().length, 2);
});

Deno.test("reconcile resolves only the sources it checks; one-off alerts stay until resolved", () => {
  const { center } = setup();
  const corrupt = corruptionCondition({
    bucket: "photos",
    tenantId: null,
    key: "a.jpg",
    versionId: "null",
    reason: "MD5 mismatch",
  });
  assertEquals(center.raise(corrupt)?.kind, "raised");
  assertEquals(center.raise(corrupt), null, "raised again: deduplicated");
  center.reconcile(["disk", "quota"], []);
  assertEquals(center.store.list({ active: true }).length, 1);
  assertEquals(center.resolve(corrupt.key)?.kind, "resolved");
  assertEquals(center.resolve(corrupt.key), null);
});

Deno.test("tenant alerts are seen by that tenant; read marks and unread counts", () => {
  const { center } = setup();
  const t = DEFAULT_THRESHOLDS;
  center.reconcile(["quota"], [
    ...quotaConditions([
      { scope: "tenant:t1", tenantId: "t1", name: "tenant one", usedBytes: 95, maxBytes: 100 },
      { scope: "tenant:t2", tenantId: "t2", name: "tenant two", usedBytes: 81, maxBytes: 100 },
      { scope: "tenant:t3", tenantId: "t3", name: "tenant three", usedBytes: 10, maxBytes: 100 },
    ], t),
  ]);
  const s = center.store;
  assertEquals(s.list().map((a) => [a.key, a.level]).sort(), [
    ["quota:tenant:t1", "critical"],
    ["quota:tenant:t2", "warning"],
  ]);
  assertEquals(s.list({ tenantId: "t1" }).map((a) => a.key), ["quota:tenant:t1"]);
  assertEquals(s.unreadCount(), 2);
  assertEquals(s.unreadCount("t2"), 1);
  assertEquals(s.markRead(null, 1, "t2"), 1, "a tenant marks only its own");
  assertEquals(s.unreadCount(), 1);
  // An escalation is news again: unread.
  center.reconcile(
    ["quota"],
    quotaConditions([
      { scope: "tenant:t2", tenantId: "t2", name: "tenant two", usedBytes: 99, maxBytes: 100 },
    ], t),
  );
  assertEquals(s.unreadCount("t2"), 1);
  assertEquals(s.list({ active: true }).map((a) => a.key), ["quota:tenant:t2"], "t1 recovered");
});

Deno.test("failed sign-ins within the hour and locked accounts", () => {
  const { db, clock } = setup();
  const now = clock.now();
  db.prepare(
    "INSERT INTO users (id, username, password_hash, role, locked_until, created_at, updated_at) VALUES (?, ?, 'x', 'global_admin', ?, 0, 0)",
  ).run("u1", "mallory-target", now + 60_000);
  const add = (t: number) =>
    db.prepare(
      "INSERT INTO audit_log (time, action, result) VALUES (?, 'login.failure', 'failure')",
    ).run(t);
  for (let i = 0; i < 20; i++) add(now - 30 * 60_000);
  add(now - 2 * 3600_000);
  const c = loginConditions(db, now, DEFAULT_THRESHOLDS);
  assertEquals(c.map((x) => x.key).sort(), ["lockout:u1", "login:failures"]);
  assertEquals(
    c.find((x) => x.key === "login:failures")!.title,
    "20 failed sign-ins in the last hour",
  );
  const later = loginConditions(db, now + 3600_000, DEFAULT_THRESHOLDS);
  assertEquals(later, [], "an hour on: the failures are old and the lock has ended");
});
