import { assert, assertEquals } from "../../tests/_helpers/assert.ts";
import { metricsOnly, metricsResponse } from "./metrics_endpoint.ts";
import type { Metrics } from "../features/metrics/mod.ts";

/** A registry stand-in that counts renders (a refused scrape must not render). */
function fakeMetrics() {
  const m = {
    renders: 0,
    contentType: "text/plain; version=0.0.4; charset=utf-8",
    render() {
      m.renders++;
      return Promise.resolve("up 1\n");
    },
    close() {},
  };
  return m satisfies Metrics;
}

const TOKEN = "0123456789abcdef-token";
const get = (path: string, headers: HeadersInit = {}, method = "GET") =>
  new Request(`http://127.0.0.1:9${path}`, { method, headers });

Deno.test("/metrics: open without a token; other paths are not its business", async () => {
  const metrics = fakeMetrics();
  const ep = { metrics, token: null };
  const res = await metricsResponse(get("/metrics"), ep)!;
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), metrics.contentType);
  assertEquals(await res.text(), "up 1\n");
  assertEquals(metricsResponse(get("/metricsx"), ep), null);
  assertEquals(metricsResponse(get("/api/v1/metrics"), ep), null);
  const head = await metricsResponse(get("/metrics?x=1", {}, "HEAD"), ep)!;
  assertEquals([head.status, await head.text()], [200, ""]);
  const post = await metricsResponse(get("/metrics", {}, "POST"), ep)!;
  assertEquals([post.status, post.headers.get("allow")], [405, "GET, HEAD"]);
  await post.body?.cancel();
});

Deno.test("/metrics with a token: 401 without it or with another one, naming which; 200 with it", async () => {
  const metrics = fakeMetrics();
  const ep = { metrics, token: TOKEN };
  const none = await metricsResponse(get("/metrics"), ep)!;
  assertEquals(none.status, 401);
  assertEquals(none.headers.get("www-authenticate"), 'Bearer realm="maxiofs metrics"');
  assert((await none.text()).includes("Authorization: Bearer <token>"));
  const basic = await metricsResponse(get("/metrics", { authorization: "Basic eDp5" }), ep)!;
  assertEquals(basic.status, 401);
  await basic.body?.cancel();
  const wrong = await metricsResponse(get("/metrics", { authorization: `Bearer ${TOKEN}x` }), ep)!;
  assertEquals(wrong.status, 401);
  assert((await wrong.text()).includes("does not match"));
  assertEquals(metrics.renders, 0);
  const ok = await metricsResponse(get("/metrics", { authorization: `bearer  ${TOKEN}` }), ep)!;
  assertEquals([ok.status, await ok.text()], [200, "up 1\n"]);
  assertEquals(metrics.renders, 1);
});

Deno.test("the metrics listener answers /metrics and 404 for anything else", async () => {
  const handler = metricsOnly({ metrics: fakeMetrics(), token: null });
  const res = await handler(get("/"));
  assertEquals(res.status, 404);
  await res.body?.cancel();
  assertEquals((await handler(get("/metrics"))).status, 200);
});
