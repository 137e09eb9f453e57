/**
 * Prometheus metrics end to end: the real server with `--metrics-listen` and a token, S3 traffic
 * from the SDK, then a scrape that promtool accepts, the token refused on both listeners, a real
 * Prometheus (Debian's) scraping the server on loopback and answering a query with the series,
 * and the shipped dashboard and alert rules: `promtool check rules` passes and every series they
 * use is in a live scrape.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { bodyBytes, REGION, startServer, type TestServer } from "./_helpers/server.ts";
import { findProgram, needs } from "./_helpers/programs.ts";
import { cli } from "./_helpers/admin_cli.ts";

const prometheus = await findProgram("prometheus");
const promtool = await findProgram("promtool");
const TOKEN = "metrics-test-token-0123456789";
const ROOT = new URL("..", import.meta.url).pathname;
const RULES = `${ROOT}docs/monitoring/alerts.yml`;
const DASHBOARD = `${ROOT}docs/monitoring/grafana-dashboard.json`;

/** Waits until `check` returns a value (an event of another process), at most `ms`. */
async function until<T>(what: string, check: () => Promise<T | null>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== null) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not happen in ${ms} ms${last ? `: ${last}` : ""}`);
}

/** The `--metrics-listen` URL the server printed. */
function metricsUrl(server: TestServer): Promise<string> {
  return until("the metrics listener", () => {
    for (const l of server.output) {
      const m = /Metrics listening on (http:\/\/\S+)/.exec(l);
      if (m) return Promise.resolve(m[1]);
    }
    return Promise.resolve(null);
  }, 10_000);
}

async function scrape(url: string, token: string | null): Promise<Response> {
  return await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

/** Sample lines of a scrape: `name{labels} value`. */
function samples(text: string): string[] {
  return text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}

/** S3 traffic whose series the test then looks for. */
async function traffic(server: TestServer): Promise<void> {
  const s3 = server.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "metrics" }));
    for (let i = 0; i < 3; i++) {
      await s3.send(
        new PutObjectCommand({ Bucket: "metrics", Key: `k${i}`, Body: "x".repeat(100) }),
      );
    }
    const got = await s3.send(new GetObjectCommand({ Bucket: "metrics", Key: "k0" }));
    assertEquals((await bodyBytes(got.Body)).length, 100);
    await assertS3Error(
      () => s3.send(new GetObjectCommand({ Bucket: "metrics", Key: "no" })),
      "NoSuchKey",
    );
  } finally {
    s3.destroy();
  }
  const wrong = new S3Client({
    endpoint: server.endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: {
      accessKeyId: server.accessKey,
      secretAccessKey: "not-the-secret-key-000000000000000000000",
    },
    maxAttempts: 1,
  });
  try {
    await assertS3Error(
      () => wrong.send(new ListObjectsV2Command({ Bucket: "metrics" })),
      "SignatureDoesNotMatch",
      403,
    );
  } finally {
    wrong.destroy();
  }
}

/** A free loopback port (Prometheus prints the address it was given, not the one it bound). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

interface PromQueryResult {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

Deno.test(needs([prometheus, promtool], {
  name: "metrics: a token-guarded scrape passes promtool, and a real Prometheus queries the series",
  fn: async (t) => {
    // A tenant with quotas, made offline before the start, for the per-tenant series.
    const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-metrics-" });
    const made = await cli(
      "tenant",
      "create",
      "acme",
      "--max-bytes",
      "1000000",
      "--max-buckets",
      "5",
      "--data-dir",
      dataDir,
    );
    assertEquals(made.code, 0, made.stderr);
    const server = await startServer({
      dataDir,
      args: ["--metrics-listen", "127.0.0.1:0"],
      env: { MAXIOFS_METRICS_TOKEN: TOKEN },
    });
    const dir = await Deno.makeTempDir({ prefix: "maxiofs-prometheus-" });
    let prom: Deno.ChildProcess | null = null;
    try {
      const url = await metricsUrl(server);
      await traffic(server);

      await t.step("the token is refused when missing or wrong, on both listeners", async () => {
        for (const base of [url, `${server.consoleUrl}/metrics`]) {
          const none = await scrape(base, null);
          assertEquals(none.status, 401);
          assert((await none.text()).includes("Authorization: Bearer"));
          const wrong = await scrape(base, TOKEN + "x");
          assertEquals(wrong.status, 401);
          assert((await wrong.text()).includes("does not match"));
        }
        const other = await fetch(url.replace("/metrics", "/"));
        assertEquals(other.status, 404);
        await other.body?.cancel();
      });

      const res = await scrape(url, TOKEN);
      assertEquals(res.status, 200);
      const text = await res.text();

      await t.step("the scrape has the request, storage and process series", () => {
        const lines = samples(text);
        const has = (prefix: string) => lines.some((l) => l.startsWith(prefix));
        assert(has('maxiofs_s3_requests_total{op="PutObject",status_class="2xx"} 3'), text);
        assert(has('maxiofs_s3_requests_total{op="GetObject",status_class="4xx"} 1'));
        assert(has('maxiofs_s3_received_bytes_total{op="PutObject"} 300'));
        assert(has('maxiofs_s3_auth_failures_total{reason="SignatureDoesNotMatch"} 1'));
        assert(has('maxiofs_bucket_objects{tenant="_global",bucket="metrics"} 3'));
        assert(has('maxiofs_bucket_bytes{tenant="_global",bucket="metrics"} 300'));
        assert(has('maxiofs_tenant_used_bytes{tenant="_global"} 300'));
        assert(has('maxiofs_tenant_quota_bytes{tenant="acme"} 1000000'));
        assert(has('maxiofs_tenant_quota_buckets{tenant="acme"} 5'));
        assert(has("maxiofs_kv_commit_duration_seconds_count"));
        assert(has('maxiofs_job_runs_total{name="orphan_sweep"} 0'));
        assert(has("maxiofs_disk_free_bytes"));
        assert(has("maxiofs_build_info{"));
      });

      await t.step("promtool check metrics accepts the scrape", async () => {
        const p = new Deno.Command(promtool.path, {
          args: ["check", "metrics"],
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const w = p.stdin.getWriter();
        await w.write(new TextEncoder().encode(text));
        await w.close();
        const out = await p.output();
        const dec = new TextDecoder();
        assert(out.success, dec.decode(out.stdout) + dec.decode(out.stderr));
      });

      await t.step(
        "a real Prometheus scrapes it, and refuses nothing but the tokenless job",
        async () => {
          const target = new URL(url).host;
          const port = freePort();
          await Deno.writeTextFile(
            `${dir}/prometheus.yml`,
            [
              "global:",
              "  scrape_interval: 1s",
              "  scrape_timeout: 1s",
              "scrape_configs:",
              "  - job_name: maxiofs",
              "    authorization:",
              "      type: Bearer",
              `      credentials: ${TOKEN}`,
              "    static_configs:",
              `      - targets: ["${target}"]`,
              "  - job_name: no-token",
              "    static_configs:",
              `      - targets: ["${target}"]`,
              "",
            ].join("\n"),
          );
          prom = new Deno.Command(prometheus.path, {
            args: [
              `--config.file=${dir}/prometheus.yml`,
              `--storage.tsdb.path=${dir}/data`,
              `--web.listen-address=127.0.0.1:${port}`,
              "--log.level=warn",
            ],
            stdout: "null",
            stderr: "null",
            stdin: "null",
          }).spawn();
          const api = `http://127.0.0.1:${port}`;
          const query = async (q: string) => {
            const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
            return await r.json() as PromQueryResult;
          };
          const put = await until("Prometheus's first scrape", async () => {
            const r = await query('maxiofs_s3_requests_total{job="maxiofs",op="PutObject"}');
            return r.data?.result?.length ? r.data.result : null;
          });
          assertEquals(put[0].metric.status_class, "2xx");
          assertEquals(put[0].value[1], "3");
          // Up in some scrape (one on a loaded machine may time out now and then).
          await until("the maxiofs job up", async () => {
            const r = await query('max_over_time(up{job="maxiofs"}[1m])');
            return r.data?.result?.[0]?.value[1] === "1" ? true : null;
          });
          // The job without the token is refused: down, with the 401 as its error.
          const down = await until("the tokenless job's refusal", async () => {
            const r = await fetch(`${api}/api/v1/targets`);
            const body = await r.json() as {
              data: {
                activeTargets: { labels: { job: string }; health: string; lastError: string }[];
              };
            };
            const t = body.data.activeTargets.find((a) => a.labels.job === "no-token");
            return t && t.health === "down" ? t : null;
          });
          assert(down.lastError.includes("401"), down.lastError);
        },
      );

      await t.step(
        "the alert rules pass promtool; the dashboard and rules use only exported series",
        async () => {
          const out = await new Deno.Command(promtool.path, {
            args: ["check", "rules", RULES],
            stdout: "piped",
            stderr: "piped",
          }).output();
          const dec = new TextDecoder();
          assert(out.success, dec.decode(out.stdout) + dec.decode(out.stderr));
          const lines = samples(text);
          const used = new Set<string>();
          const exprs = [
            ...[
              ...(await Deno.readTextFile(RULES)).matchAll(/expr:\s*(\|[\s\S]*?(?=\n\s+\w+:)|.*)/g),
            ]
              .map((m) => m[1]),
            ...dashboardExprs(JSON.parse(await Deno.readTextFile(DASHBOARD))),
          ];
          assert(exprs.length > 20, `found ${exprs.length} expressions`);
          for (const e of exprs) {
            const names = e.match(/\bmaxiofs_[a-z0-9_]+/g) ?? [];
            // Every expression is about MaxIOFS, or is Prometheus's own `up` of its job.
            assert(names.length > 0 || /\bup\{job="maxiofs"\}/.test(e), e);
            for (const n of names) used.add(n);
          }
          const missing = [...used].filter((n) =>
            !lines.some((l) => l.startsWith(`${n}{`) || l.startsWith(`${n} `))
          );
          assertEquals(missing, [], `series used but not exported: ${missing.join(", ")}`);
        },
      );
    } finally {
      if (prom !== null) {
        const p = prom as Deno.ChildProcess;
        try {
          p.kill("SIGTERM");
        } catch { /* gone */ }
        await p.status;
      }
      await server.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
}));

/** Every PromQL expression of a Grafana dashboard (panels, rows, and template queries). */
function dashboardExprs(d: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if ((k === "expr" || k === "definition") && typeof x === "string") out.push(x);
        else walk(x);
      }
    }
  };
  walk(d);
  return out;
}
