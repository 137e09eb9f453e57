/**
 * What a request's observations cost: `RequestMetrics.observe` (prom-client) against the same
 * figures kept by hand-written maps and a fixed-bucket histogram, the cheapest way there is.
 * `deno bench -A server/features/metrics/metrics_bench.ts`; the figures and the choice they
 * support are in recorders.ts.
 */
import { RequestMetrics } from "./recorders.ts";
import type { RequestInfo } from "../../s3/context.ts";
import { NO_CLIENT } from "../../iam/net.ts";

const OPS = ["GetObject", "PutObject", "HeadObject", "ListObjectsV2"];
const infos: RequestInfo[] = OPS.map((op, i) => ({
  op,
  status: i === 3 ? 404 : 200,
  durationMs: 0.4 + i,
  bucket: "b",
  key: "k",
  principal: null,
  requestId: "R",
  bytesIn: op === "PutObject" ? 4096 : null,
  bytesOut: op === "GetObject" ? 4096 : null,
  errorCode: i === 3 ? "NoSuchKey" : null,
  authFailed: false,
  req: new Request("http://x/b/k"),
  client: NO_CLIENT,
}));

const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The same figures by hand: counts by op and status class, bytes by op, a histogram per op. */
class HandWritten {
  readonly counts = new Map<string, number>();
  readonly bytes = new Map<string, number>();
  readonly histograms = new Map<string, { buckets: Float64Array; sum: number }>();

  observe(info: RequestInfo): void {
    const key = `${info.op}\n${Math.floor(info.status / 100)}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (info.bytesIn) this.bytes.set(info.op, (this.bytes.get(info.op) ?? 0) + info.bytesIn);
    let h = this.histograms.get(info.op);
    if (!h) {
      this.histograms.set(info.op, h = { buckets: new Float64Array(BOUNDS.length + 1), sum: 0 });
    }
    const s = info.durationMs / 1000;
    let i = 0;
    while (i < BOUNDS.length && s > BOUNDS[i]) i++;
    h.buckets[i]++;
    h.sum += s;
  }
}

const prom = new RequestMetrics();
const hand = new HandWritten();
let n = 0;

Deno.bench("one request's observations: prom-client", { group: "observe", baseline: true }, () => {
  prom.observe(infos[n++ & 3]);
});

Deno.bench("one request's observations: hand-written maps", { group: "observe" }, () => {
  hand.observe(infos[n++ & 3]);
});
