/** The history recorder over a real database with an injected clock: minutes, hours, retention. */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { openDb } from "../../db/mod.ts";
import { silentLogger } from "../../log.ts";
import { HistoryRecorder } from "./recorder.ts";
import { HOUR, MINUTE } from "./store.ts";

function setup(start = Date.UTC(2026, 11, 7, 10, 0, 5)) {
  const db = openDb(":memory:");
  let now = start;
  let stored = 1000;
  const rec = new HistoryRecorder({
    db,
    clock: { now: () => now },
    log: silentLogger,
    storageUsed: () => Promise.resolve({ bytes: stored, objects: stored / 100 }),
    tickMs: 0,
  });
  return {
    db,
    rec,
    at: (t: number) => now = t,
    advance: (ms: number) => now += ms,
    setStored: (n: number) => stored = n,
  };
}

const req = (op: string, status: number, ms: number, bytesIn = 0, bytesOut = 0) => ({
  op,
  status,
  durationMs: ms,
  bytesIn,
  bytesOut,
});

Deno.test("a minute's requests become one point per operation and one for all", async () => {
  const h = setup();
  for (let i = 1; i <= 100; i++) h.rec.record(req("GetObject", 200, i, 0, 1000));
  h.rec.record(req("PutObject", 200, 5, 6000));
  h.rec.record(req("PutObject", 503, 1));
  h.rec.record(req("GetObject", 404, 1));
  const live: number[] = [];
  h.rec.onMinute((p) => live.push(p.requests));
  h.advance(MINUTE);
  await h.rec.flush();
  assertEquals(live, [103], "the dashboard hears of the minute");
  const all = h.rec.history("1h");
  assertEquals(all.points.length, 1);
  const p = all.points[0];
  assertEquals([p.requests, p.errors, p.rejected], [103, 1, 1]);
  assertEquals(p.outBps, 100 * 1000 / 60);
  assertEquals(p.inBps, 100);
  assertEquals(p.storageBytes, 1000);
  assert(p.p50! >= 50 && p.p50! < 60, `p50 ${p.p50}`);
  assertEquals(all.ops, ["GetObject", "PutObject"]);
  const puts = h.rec.history("1h", "PutObject").points[0];
  assertEquals([puts.requests, puts.errors], [2, 1]);
  assertEquals(puts.storageBytes, 1000, "per-op points carry the storage sample too");
});

Deno.test("idle minutes keep the storage sample; hours roll up with merged percentiles", async () => {
  const h = setup(Date.UTC(2026, 11, 7, 10, 0, 5));
  for (let m = 0; m < 60; m++) {
    // Half the minutes are fast, half slow: the hour's p50/p99 come from all requests.
    for (let i = 0; i < 10; i++) h.rec.record(req("GetObject", 200, m < 30 ? 2 : 200));
    h.setStored(1000 + m);
    h.advance(MINUTE);
    await h.rec.flush();
  }
  h.advance(MINUTE); // an idle minute
  await h.rec.flush();
  const minutes = h.rec.history("6h").points;
  assertEquals(minutes.length, 61);
  assertEquals(minutes.at(-1)!.requests, 0);
  assertEquals(minutes.at(-1)!.storageBytes, 1059, "sampled at the idle minute's end");
  const hours = h.rec.history("7d").points;
  assertEquals(hours.length, 1);
  assertEquals(hours[0].requests, 600);
  assertEquals(hours[0].t, Date.UTC(2026, 11, 7, 10));
  assert(hours[0].p99! >= 200 && hours[0].p99! < 240, `p99 ${hours[0].p99}`);
  assert(hours[0].p50! >= 2 && hours[0].p50! < 2.4, `p50 ${hours[0].p50}`);
  assertEquals(hours[0].rps, 600 / 3600);
});

Deno.test("minutes are kept 7 days and hours a year; a long pause rolls up once", async () => {
  const h = setup();
  h.rec.record(req("GetObject", 200, 1));
  h.advance(MINUTE);
  await h.rec.flush();
  h.advance(8 * 24 * HOUR);
  h.rec.record(req("GetObject", 200, 1));
  h.advance(MINUTE);
  await h.rec.flush();
  const rows = h.db.prepare("SELECT COUNT(*) AS n FROM metrics_minute WHERE op = '*'").get() as {
    n: number;
  };
  assertEquals(Number(rows.n), 1, "the 8-day-old minute is gone");
  assertEquals(h.rec.history("30d").points.length, 1, "its hour is kept");
  const first = Date.UTC(2026, 11, 7, 10);
  h.advance(300 * 24 * HOUR);
  await h.rec.flush();
  const year = () => h.rec.history("365d").points.filter((p) => p.requests > 0).map((p) => p.t);
  assertEquals(year().length, 2, "308 days after the first, both busy hours are kept");
  assertEquals(year()[0], first);
  h.advance(60 * 24 * HOUR);
  await h.rec.flush();
  assertEquals(year().length, 1, "368 days after the first, only the second is left");
  const old = h.db.prepare("SELECT COUNT(*) AS n FROM metrics_hour WHERE t = ?").get(first) as {
    n: number;
  };
  assertEquals(Number(old.n), 0, "pruned, not just out of range");
});
