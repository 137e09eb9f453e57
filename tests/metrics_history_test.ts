/**
 * The metrics history: S3 requests of a minute become a point with their counts, statuses,
 * latency and the storage used (an injected clock ends the minute); the console API serves the
 * ranges to global administrators only and refuses an unknown range.
 */
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startApp } from "./_helpers/app.ts";
import { makeTenant, startIamServer } from "./iam_fixture.ts";

Deno.test("metrics history: a minute of S3 requests becomes one point", async () => {
  let offset = 0;
  const t = await startApp({ clock: { now: () => Date.now() + offset } });
  try {
    await t.s3.send(new CreateBucketCommand({ Bucket: "hist" }));
    for (const k of ["a", "b", "c"]) {
      await t.s3.send(new PutObjectCommand({ Bucket: "hist", Key: k, Body: "x".repeat(1000) }));
    }
    for (const k of ["a", "b"]) {
      const r = await t.s3.send(new GetObjectCommand({ Bucket: "hist", Key: k }));
      await r.Body!.transformToString();
    }
    const missing = await t.s3.send(new GetObjectCommand({ Bucket: "hist", Key: "nope" }))
      .then(() => "found", (e) => e.name);
    assertEquals(missing, "NoSuchKey");
    offset += 61_000;
    await t.app.history.flush();
    const h = t.app.history.history("1h");
    const busy = h.points.filter((p) => p.requests > 0);
    assertEquals(busy.length, 1, JSON.stringify(h.points));
    const p = busy[0];
    assertEquals(p.requests, 7);
    assertEquals([p.errors, p.rejected], [0, 1]);
    assertEquals(p.storageBytes, 3000);
    assert(p.p50 !== null && p.p99! >= p.p50, "latency percentiles");
    assertEquals(p.inBps, 3000 / 60);
    assertEquals(h.ops.slice().sort(), ["CreateBucket", "GetObject", "PutObject"]);
    const gets = t.app.history.history("1h", "GetObject").points.filter((x) => x.requests);
    assertEquals(gets[0].requests, 3);
    assertEquals(gets[0].outBps, 2000 / 60);
  } finally {
    await t.stop();
  }
});

Deno.test("metrics history API: global administrators, known ranges", async () => {
  const s = await startIamServer();
  try {
    const r = await s.api("/metrics/history?range=24h", { token: s.adminToken });
    assertEquals(r.status, 200, JSON.stringify(r.body));
    assertEquals([r.body.range, r.body.op, r.body.step], ["24h", "*", 60_000]);
    assert(Array.isArray(r.body.points));
    const hours = await s.api("/metrics/history?range=30d&op=GetObject", { token: s.adminToken });
    assertEquals(hours.body.step, 3600_000);
    const bad = await s.api("/metrics/history?range=2d", { token: s.adminToken });
    assertEquals(bad.status, 400);
    assert(bad.body.error.message.includes("1h, 6h, 24h, 7d, 30d, 365d"));
    const badOp = await s.api("/metrics/history?op=%3Cx%3E", { token: s.adminToken });
    assertEquals(badOp.status, 400);
    const ta = await makeTenant(s, "hist-t");
    const denied = await s.api("/metrics/history", { token: ta.admin.token });
    assertEquals(denied.status, 403);
  } finally {
    await s.stop();
  }
});
