/**
 * Health probes: `/minio/health/live` and `/minio/health/ready` on the S3 listener, `/health` and
 * `/ready` on the console listener, unauthenticated; readiness fails (503, saying why) when free
 * space is below the threshold; the bucket name `minio` is reserved.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";

Deno.test("health probes on both listeners, and what readiness checks", async (t) => {
  const srv = await startServer();
  try {
    await t.step("liveness and readiness answer without credentials", async () => {
      for (const base of [`${srv.endpoint}/minio/health`, srv.consoleUrl]) {
        const live = await fetch(`${base}/${base === srv.consoleUrl ? "health" : "live"}`);
        assertEquals([live.status, await live.text()], [200, "ok\n"]);
        const ready = await fetch(`${base}/ready`);
        assertEquals(ready.status, 200);
        const report = await ready.json();
        assertEquals(
          [report.ready, report.kv, report.database, report.dataDir],
          [true, "ok", "ok", "ok"],
        );
        assert(report.freeBytes > 0, JSON.stringify(report));
        const head = await fetch(`${base}/ready`, { method: "HEAD" });
        assertEquals([head.status, await head.text()], [200, ""]);
      }
      // With a query string too; other methods are S3 requests (a POST there is no S3 operation).
      assertEquals(await (await fetch(`${srv.endpoint}/minio/health/live?x=1`)).text(), "ok\n");
      const post = await fetch(`${srv.endpoint}/minio/health/live`, { method: "POST" });
      assertEquals(post.status, 405);
      await post.body?.cancel();
    });

    await t.step("the bucket name minio is reserved", async () => {
      const res = await signedFetch(srv, { method: "PUT", path: "/minio" });
      assertEquals([res.status, await errorCode(res)], [400, "InvalidBucketName"]);
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("readiness fails with 503 when free space is below the threshold", async () => {
  // A threshold no disk meets: 1 PiB.
  const srv = await startServer({ args: ["--ready-min-free", String(2 ** 30)] });
  try {
    const ready = await fetch(`${srv.endpoint}/minio/health/ready`);
    assertEquals(ready.status, 503);
    const report = await ready.json();
    assertEquals([report.ready, report.kv, report.dataDir], [false, "ok", "ok"]);
    assert(/below the 1073741824 MiB threshold/.test(report.space), report.space);
    const live = await fetch(`${srv.consoleUrl}/health`);
    assertEquals(live.status, 200, "liveness does not depend on readiness");
    await live.body?.cancel();
    const consoleReady = await fetch(`${srv.consoleUrl}/ready`);
    assertEquals(consoleReady.status, 503);
    await consoleReady.body?.cancel();
  } finally {
    await srv.stop();
  }
});
