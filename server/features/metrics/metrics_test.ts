import { assert, assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import { createRecorders, metricsRegistry, type SnapshotSources } from "./mod.ts";
import { OTHER, topBuckets } from "./snapshot.ts";
import type { RequestInfo } from "../../s3/context.ts";
import { NO_CLIENT } from "../../iam/net.ts";
import type { BucketTotals, TenantUsage } from "../../storage/types.ts";

const clock = { now: () => 1_700_000_000_000 };

function info(over: Partial<RequestInfo>): RequestInfo {
  return {
    op: "GetObject",
    status: 200,
    durationMs: 3,
    bucket: "b",
    key: "k",
    principal: null,
    requestId: "R",
    bytesIn: null,
    bytesOut: null,
    errorCode: null,
    authFailed: false,
    req: new Request("http://x/b/k"),
    client: NO_CLIENT,
    ...over,
  };
}

function sources(over: Partial<SnapshotSources> = {}): SnapshotSources {
  const usage: Record<string, TenantUsage> = {
    "": { bytes: 10, objects: 1, buckets: 1, reserved: 0 },
    t1: { bytes: 900, objects: 9, buckets: 2, reserved: 50 },
  };
  return {
    storage: {
      bucketTotals: () => Promise.resolve([]),
      counters: () => ({ kvCommits: 7, busyCommits: 1, lockRetries: 3 }),
    },
    disk: () => ({ freeBytes: 100, usedBytes: 400, totalBytes: 500 }),
    usage: {
      read: (ns) => Promise.resolve(usage[ns] ?? { bytes: 0, objects: 0, buckets: 0, reserved: 0 }),
    },
    tenants: () => [{ ns: "t1", name: "acme", maxBytes: 1000, maxBuckets: null }],
    inFlight: () => 2,
    clock,
    version: "9.9.9",
    ...over,
  };
}

/** The value of the one sample `line` starts with, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("metrics: requests are counted per operation and status class, with bytes, latency and auth failures", async () => {
  const rec = createRecorders(clock);
  const m = metricsRegistry(rec, sources());
  try {
    rec.requests.observe(info({ op: "PutObject", bytesIn: 1000, durationMs: 2 }));
    rec.requests.observe(info({ op: "PutObject", bytesIn: 24, durationMs: 40 }));
    rec.requests.observe(info({ op: "GetObject", bytesOut: 500 }));
    rec.requests.observe(info({ op: "GetObject", status: 404, errorCode: "NoSuchKey" }));
    rec.requests.observe(
      info({ status: 403, errorCode: "SignatureDoesNotMatch", authFailed: true }),
    );
    rec.requests.observe(info({ status: 403, errorCode: "AccessDenied" }));
    const text = await m.render();
    assertEquals(sample(text, 'maxiofs_s3_requests_total{op="PutObject",status_class="2xx"}'), 2);
    assertEquals(sample(text, 'maxiofs_s3_requests_total{op="GetObject",status_class="4xx"}'), 3);
    assertEquals(sample(text, 'maxiofs_s3_received_bytes_total{op="PutObject"}'), 1024);
    assertEquals(sample(text, 'maxiofs_s3_sent_bytes_total{op="GetObject"}'), 500);
    assertEquals(
      sample(text, 'maxiofs_s3_request_duration_seconds_bucket{le="0.0025",op="PutObject"}'),
      1,
    );
    assertEquals(
      sample(text, 'maxiofs_s3_request_duration_seconds_bucket{le="0.05",op="PutObject"}'),
      2,
    );
    // Only the failed authentication counts; an authorization denial is no auth failure.
    assertEquals(
      sample(text, 'maxiofs_s3_auth_failures_total{reason="SignatureDoesNotMatch"}'),
      1,
    );
    assert(!text.includes('reason="AccessDenied"'));
    assertEquals(sample(text, "maxiofs_s3_requests_in_flight"), 2);
  } finally {
    m.close();
  }
});

Deno.test("metrics: tenants against their quota, disk, storage counters, build and uptime", async () => {
  const m = metricsRegistry(createRecorders(clock), sources());
  try {
    const text = await m.render();
    assertEquals(sample(text, 'maxiofs_tenant_used_bytes{tenant="acme"}'), 900);
    assertEquals(sample(text, 'maxiofs_tenant_reserved_bytes{tenant="acme"}'), 50);
    assertEquals(sample(text, 'maxiofs_tenant_quota_bytes{tenant="acme"}'), 1000);
    assertEquals(sample(text, 'maxiofs_tenant_used_bytes{tenant="_global"}'), 10);
    // No quota, no quota series (an alert on used/quota then has nothing to divide by).
    assert(!text.includes('maxiofs_tenant_quota_bytes{tenant="_global"}'));
    assert(!text.includes("maxiofs_tenant_quota_buckets{"));
    assertEquals(sample(text, "maxiofs_disk_free_bytes"), 100);
    assertEquals(sample(text, "maxiofs_disk_used_bytes"), 400);
    assertEquals(sample(text, "maxiofs_kv_commits_total"), 7);
    assertEquals(sample(text, "maxiofs_kv_lock_retries_total"), 3);
    assertEquals(sample(text, "maxiofs_uptime_seconds"), 0);
    assert(text.includes(`maxiofs_build_info{version="9.9.9",deno="${Deno.version.deno}"`));
    assert((sample(text, 'maxiofs_process_memory_bytes{kind="rss"}') ?? 0) > 0);
    assert(sample(text, 'maxiofs_event_loop_lag_seconds{stat="p99"}') !== undefined);
  } finally {
    m.close();
  }
});

Deno.test("metrics: the largest buckets by name, the rest summed as _other; gone buckets vanish", async () => {
  let totals: BucketTotals[] = Array.from({ length: 25 }, (_, i) => ({
    ns: i % 2 ? "t1" : "",
    name: `bucket-${String(i).padStart(2, "0")}`,
    objects: i,
    bytes: i * 100,
  }));
  const m = metricsRegistry(
    createRecorders(clock),
    sources({
      storage: { ...sources().storage, bucketTotals: () => Promise.resolve(totals) },
    }),
  );
  try {
    let text = await m.render();
    assertEquals(sample(text, "maxiofs_buckets"), 25);
    assertEquals(sample(text, 'maxiofs_bucket_bytes{tenant="acme",bucket="bucket-23"}'), 2300);
    assertEquals(sample(text, 'maxiofs_bucket_bytes{tenant="_global",bucket="bucket-24"}'), 2400);
    // 0..4 are past the top 20: 0+1+2+3+4 objects, 100 times that in bytes.
    assertEquals(sample(text, `maxiofs_bucket_objects{tenant="${OTHER}",bucket="${OTHER}"}`), 10);
    assertEquals(sample(text, `maxiofs_bucket_bytes{tenant="${OTHER}",bucket="${OTHER}"}`), 1000);
    assertEquals(text.split("\n").filter((l) => l.startsWith("maxiofs_bucket_bytes{")).length, 21);
    totals = totals.slice(0, 1);
    text = await m.render();
    assertEquals(text.split("\n").filter((l) => l.startsWith("maxiofs_bucket_bytes{")).length, 1);
    assertEquals(
      sample(text, `maxiofs_bucket_bytes{tenant="${OTHER}",bucket="${OTHER}"}`),
      undefined,
    );
  } finally {
    m.close();
  }
});

Deno.test("topBuckets keeps every bucket when there are few, and the sums exact", () => {
  const all = [
    { tenant: "a", bucket: "x", objects: 1, bytes: 5 },
    { tenant: "a", bucket: "y", objects: 2, bytes: 5 },
    { tenant: "b", bucket: "z", objects: 3, bytes: 1 },
  ];
  assertEquals(topBuckets(all, 3).map((b) => b.bucket), ["y", "x", "z"]);
  assertEquals(topBuckets(all, 1), [
    { tenant: "a", bucket: "y", objects: 2, bytes: 5 },
    { tenant: OTHER, bucket: OTHER, objects: 4, bytes: 6 },
  ]);
});

Deno.test("metrics: job passes are counted, timed and their errors told apart; known jobs start at 0", async () => {
  const rec = createRecorders(clock, ["orphan_sweep", "lifecycle"]);
  const m = metricsRegistry(rec, sources());
  try {
    let text = await m.render();
    assertEquals(sample(text, 'maxiofs_job_runs_total{name="orphan_sweep"}'), 0);
    assertEquals(sample(text, 'maxiofs_job_errors_total{name="lifecycle"}'), 0);
    assertEquals(await rec.jobs.run("orphan_sweep", () => Promise.resolve(42)), 42);
    await assertRejects(() => rec.jobs.run("lifecycle", () => Promise.reject(new Error("boom"))));
    text = await m.render();
    assertEquals(sample(text, 'maxiofs_job_runs_total{name="orphan_sweep"}'), 1);
    assertEquals(sample(text, 'maxiofs_job_errors_total{name="orphan_sweep"}'), 0);
    assertEquals(sample(text, 'maxiofs_job_runs_total{name="lifecycle"}'), 1);
    assertEquals(sample(text, 'maxiofs_job_errors_total{name="lifecycle"}'), 1);
    assertEquals(sample(text, 'maxiofs_job_duration_seconds_count{name="lifecycle"}'), 1);
    assertEquals(
      sample(text, 'maxiofs_job_last_success_timestamp_seconds{name="orphan_sweep"}'),
      clock.now() / 1000,
    );
    assert(!text.includes('maxiofs_job_last_success_timestamp_seconds{name="lifecycle"}'));
  } finally {
    m.close();
  }
});

Deno.test("metrics: KV commits are timed and their group sizes kept", async () => {
  const rec = createRecorders(clock);
  const m = metricsRegistry(rec, sources());
  try {
    rec.storage.kvCommit(1, 0.0004);
    rec.storage.kvCommit(12, 0.002);
    const text = await m.render();
    assertEquals(sample(text, "maxiofs_kv_commit_writes_sum"), 13);
    assertEquals(sample(text, 'maxiofs_kv_commit_writes_bucket{le="8"}'), 1);
    assertEquals(sample(text, 'maxiofs_kv_commit_duration_seconds_bucket{le="0.0005"}'), 1);
    assertEquals(sample(text, "maxiofs_kv_commit_duration_seconds_count"), 2);
  } finally {
    m.close();
  }
});
