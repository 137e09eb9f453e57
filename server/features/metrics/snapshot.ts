/**
 * The figures read when a scrape asks, never on the request path: per-bucket and per-tenant
 * storage against quota, disk space, storage's commit counters, requests in flight, the
 * process's memory and event-loop lag, uptime and build. Each scrape sets these gauges anew
 * (`refresh`), so a bucket or tenant that is gone leaves no stale series behind.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, Gauge } from "prom-client";
import type { DiskSpace, StorageStats, TenantUsage } from "../../storage/types.ts";
import type { Clock } from "../../clock.ts";

/** A tenant as metrics name it, with its quota (null: none). */
export interface TenantQuotaInfo {
  /** The tenant's bucket namespace (its id). */
  ns: string;
  name: string;
  maxBytes: number | null;
  maxBuckets: number | null;
}

/** Where the scrape-time figures come from. */
export interface SnapshotSources {
  storage: StorageStats;
  /** The data dir's file system (`Backend.diskSpace`). */
  disk(): DiskSpace;
  usage: { read(ns: string): Promise<TenantUsage> };
  /** Every tenant (IAM). */
  tenants(): TenantQuotaInfo[];
  /** S3 requests being handled now. */
  inFlight(): number;
  clock: Clock;
  version: string;
  /** Event notification deliveries queued and dead per target (absent: no series). */
  notificationQueue?(): { targetNs: string; target: string; pending: number; dead: number }[];
}

/** Buckets named in the per-bucket series; the rest are summed under `_other`. */
export const TOP_BUCKETS = 20;
/** Label of the buckets past the top N, and of the global namespace (neither is a valid name). */
export const OTHER = "_other";
export const GLOBAL = "_global";

export interface BucketFigure {
  tenant: string;
  bucket: string;
  objects: number;
  bytes: number;
}

/**
 * The `top` largest buckets by bytes (then objects, then name), and one `_other` entry summing
 * the rest, so the series stay few whatever the number of buckets and their sums stay exact.
 */
export function topBuckets(all: BucketFigure[], top: number): BucketFigure[] {
  const sorted = [...all].sort((a, b) =>
    b.bytes - a.bytes || b.objects - a.objects || a.tenant.localeCompare(b.tenant) ||
    a.bucket.localeCompare(b.bucket)
  );
  if (sorted.length <= top) return sorted;
  const rest = sorted.slice(top);
  return [...sorted.slice(0, top), {
    tenant: OTHER,
    bucket: OTHER,
    objects: rest.reduce((n, b) => n + b.objects, 0),
    bytes: rest.reduce((n, b) => n + b.bytes, 0),
  }];
}

const gauge = (name: string, help: string, labelNames: string[] = []) =>
  new Gauge({ name, help, labelNames, registers: [] });

export class Snapshot {
  readonly inFlight = gauge("maxiofs_s3_requests_in_flight", "S3 requests being handled now");
  readonly bucketObjects = gauge(
    "maxiofs_bucket_objects",
    `Objects (versions and delete markers included) per bucket: the ${TOP_BUCKETS} largest, the rest summed as bucket="${OTHER}"`,
    ["tenant", "bucket"],
  );
  readonly bucketBytes = gauge(
    "maxiofs_bucket_bytes",
    `Stored bytes per bucket: the ${TOP_BUCKETS} largest, the rest summed as bucket="${OTHER}"`,
    ["tenant", "bucket"],
  );
  readonly buckets = gauge("maxiofs_buckets", "Buckets in all namespaces");
  readonly tenantBytes = gauge(
    "maxiofs_tenant_used_bytes",
    "Bytes stored by a tenant's buckets",
    ["tenant"],
  );
  readonly tenantReserved = gauge(
    "maxiofs_tenant_reserved_bytes",
    "Bytes reserved by parts of a tenant's open multipart uploads (they count against the quota)",
    ["tenant"],
  );
  readonly tenantObjects = gauge("maxiofs_tenant_objects", "Objects of a tenant", ["tenant"]);
  readonly tenantBuckets = gauge("maxiofs_tenant_buckets", "Buckets of a tenant", ["tenant"]);
  readonly tenantQuotaBytes = gauge(
    "maxiofs_tenant_quota_bytes",
    "A tenant's byte quota (only tenants that have one)",
    ["tenant"],
  );
  readonly tenantQuotaBuckets = gauge(
    "maxiofs_tenant_quota_buckets",
    "A tenant's bucket quota (only tenants that have one)",
    ["tenant"],
  );
  /** Set anew from the tenant list at each scrape. */
  readonly #tenantSeries = [
    this.tenantBytes,
    this.tenantReserved,
    this.tenantObjects,
    this.tenantBuckets,
    this.tenantQuotaBytes,
    this.tenantQuotaBuckets,
  ];
  readonly diskFree = gauge(
    "maxiofs_disk_free_bytes",
    "Bytes available to the server on the data dir's file system",
  );
  readonly diskUsed = gauge(
    "maxiofs_disk_used_bytes",
    "Bytes in use on the data dir's file system",
  );
  readonly diskTotal = gauge("maxiofs_disk_total_bytes", "Size of the data dir's file system");
  readonly kvCommits = new Counter({
    name: "maxiofs_kv_commits_total",
    help: "Deno KV transactions sent (a merged group counts once)",
    registers: [],
  });
  readonly busyCommits = new Counter({
    name: "maxiofs_kv_busy_commits_total",
    help: "KV transactions that found SQLite's write lock held by another handle",
    registers: [],
  });
  readonly lockRetries = new Counter({
    name: "maxiofs_kv_lock_retries_total",
    help: "Times a KV transaction waited for SQLite's write lock and was sent again",
    registers: [],
  });
  readonly memory = gauge(
    "maxiofs_process_memory_bytes",
    "Memory of the server process: rss, heap_total, heap_used, external",
    ["kind"],
  );
  readonly loopLag = gauge(
    "maxiofs_event_loop_lag_seconds",
    "Event-loop delay since the previous scrape: mean, p50, p99 and max",
    ["stat"],
  );
  readonly uptime = gauge("maxiofs_uptime_seconds", "Seconds since the server started");
  readonly startTime = gauge("maxiofs_start_time_seconds", "When the server started (Unix time)");
  readonly build = gauge(
    "maxiofs_build_info",
    "The server's version and runtime (always 1)",
    ["version", "deno", "v8", "typescript"],
  );
  readonly notificationQueue = gauge(
    "maxiofs_notification_queue_depth",
    "Event notifications waiting for delivery (state pending) or dead letters (state dead), per webhook target",
    ["tenant", "target", "state"],
  );
  readonly #lag = monitorEventLoopDelay({ resolution: 10 });
  readonly #started: number;

  constructor(private readonly src: SnapshotSources) {
    this.#started = src.clock.now();
    this.#lag.enable();
    this.startTime.set(this.#started / 1000);
    this.build.set({
      version: src.version,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
    }, 1);
  }

  /** Reads every figure anew. */
  async refresh(): Promise<void> {
    const src = this.src;
    this.inFlight.set(src.inFlight());
    const tenants = src.tenants();
    const names = new Map(tenants.map((t) => [t.ns, t.name]));
    const nameOf = (ns: string) => ns === "" ? GLOBAL : names.get(ns) ?? ns;
    const totals = await src.storage.bucketTotals();
    this.buckets.set(totals.length);
    this.bucketObjects.reset();
    this.bucketBytes.reset();
    const figures = totals.map((b) => ({ ...b, tenant: nameOf(b.ns), bucket: b.name }));
    for (const b of topBuckets(figures, TOP_BUCKETS)) {
      const labels = { tenant: b.tenant, bucket: b.bucket };
      this.bucketObjects.set(labels, b.objects);
      this.bucketBytes.set(labels, b.bytes);
    }
    await this.#tenants(tenants);
    this.notificationQueue.reset();
    for (const q of src.notificationQueue?.() ?? []) {
      const labels = { tenant: nameOf(q.targetNs), target: q.target };
      this.notificationQueue.set({ ...labels, state: "pending" }, q.pending);
      this.notificationQueue.set({ ...labels, state: "dead" }, q.dead);
    }
    const disk = src.disk();
    this.diskFree.set(disk.freeBytes);
    this.diskUsed.set(disk.usedBytes);
    this.diskTotal.set(disk.totalBytes);
    const c = src.storage.counters();
    setCounter(this.kvCommits, c.kvCommits);
    setCounter(this.busyCommits, c.busyCommits);
    setCounter(this.lockRetries, c.lockRetries);
    const mem = Deno.memoryUsage();
    this.memory.set({ kind: "rss" }, mem.rss);
    this.memory.set({ kind: "heap_total" }, mem.heapTotal);
    this.memory.set({ kind: "heap_used" }, mem.heapUsed);
    this.memory.set({ kind: "external" }, mem.external);
    // The monitor reports nanoseconds; it starts over after each scrape.
    const lag = this.#lag;
    const s = (ns: number) => Number.isFinite(ns) ? ns / 1e9 : 0;
    this.loopLag.set({ stat: "mean" }, s(lag.mean));
    this.loopLag.set({ stat: "p50" }, s(lag.percentile(50)));
    this.loopLag.set({ stat: "p99" }, s(lag.percentile(99)));
    this.loopLag.set({ stat: "max" }, s(lag.max));
    lag.reset();
    this.uptime.set(Math.max(0, (src.clock.now() - this.#started) / 1000));
  }

  async #tenants(tenants: TenantQuotaInfo[]): Promise<void> {
    for (const g of this.#tenantSeries) g.reset();
    const all = [{ ns: "", name: GLOBAL, maxBytes: null, maxBuckets: null }, ...tenants];
    const usages = await Promise.all(all.map((t) => this.src.usage.read(t.ns)));
    all.forEach((t, i) => {
      const u = usages[i];
      const labels = { tenant: t.name };
      this.tenantBytes.set(labels, u.bytes);
      this.tenantReserved.set(labels, u.reserved);
      this.tenantObjects.set(labels, u.objects);
      this.tenantBuckets.set(labels, u.buckets);
      if (t.maxBytes !== null) this.tenantQuotaBytes.set(labels, t.maxBytes);
      if (t.maxBuckets !== null) this.tenantQuotaBuckets.set(labels, t.maxBuckets);
    });
  }

  /** Stops the event-loop monitor. */
  close(): void {
    this.#lag.disable();
  }

  /** Every series of the snapshot (the fields that are metrics). */
  all(): (Gauge | Counter)[] {
    return Object.values(this).filter((v) => v instanceof Gauge || v instanceof Counter);
  }
}

/** A counter kept by someone else (storage), shown as the counter it is. */
function setCounter(c: Counter, value: number): void {
  c.reset();
  c.inc(value);
}
