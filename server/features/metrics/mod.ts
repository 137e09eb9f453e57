/**
 * Prometheus metrics. The recorders (`recorders.ts`) are built first, before the parts that feed
 * them: storage gets `storage` as its observer, the S3 handler's request hook calls
 * `requests.observe`, background jobs run through `jobs`. Once those parts exist,
 * `metricsRegistry` puts the recorders and the scrape-time figures (`snapshot.ts`) into one
 * registry, which `render` writes in Prometheus's text format (`/metrics`,
 * server/http/metrics_endpoint.ts). Series and their meaning: docs/operations.md, "Monitoring".
 *
 * @example
 * ```ts
 * const recorders = createRecorders(clock);
 * // ... openStorage({ observer: recorders.storage }), onRequest: recorders.requests.observe ...
 * const metrics = metricsRegistry(recorders, { storage, usage, tenants, inFlight, clock, version });
 * const text = await metrics.render();
 * ```
 */
import { type Metric, Registry } from "prom-client";
import type { Clock } from "../../clock.ts";
import { JobMetrics, NotificationMetrics, RequestMetrics, StorageMetrics } from "./recorders.ts";
import { Snapshot, type SnapshotSources } from "./snapshot.ts";

export {
  type JobRecorder,
  type NotificationRecorder,
  UNRECORDED_JOBS,
  UNRECORDED_NOTIFICATIONS,
} from "./recorders.ts";
export type { SnapshotSources, TenantQuotaInfo } from "./snapshot.ts";

export interface Recorders {
  requests: RequestMetrics;
  storage: StorageMetrics;
  jobs: JobMetrics;
  notifications: NotificationMetrics;
}

/**
 * The background jobs the server runs (server/app.ts, the lifecycle worker), whose series exist
 * from the start.
 */
export const JOBS = [
  "orphan_sweep",
  "multipart_maintenance",
  "iam_maintenance",
  "lifecycle",
  "integrity_scrub",
];

export function createRecorders(clock: Clock, jobs: readonly string[] = JOBS): Recorders {
  return {
    requests: new RequestMetrics(),
    storage: new StorageMetrics(),
    jobs: new JobMetrics(clock, jobs),
    notifications: new NotificationMetrics(),
  };
}

export interface Metrics {
  /** The Content-Type of `render`'s text. */
  readonly contentType: string;
  /** Every series, in Prometheus's text exposition format. */
  render(): Promise<string>;
  close(): void;
}

/** `extra`: series of features that keep their own (replication). */
export function metricsRegistry(
  rec: Recorders,
  sources: SnapshotSources,
  extra: Metric[] = [],
): Metrics {
  const registry = new Registry();
  const snapshot = new Snapshot(sources);
  for (
    const m of [
      ...rec.requests.all(),
      ...rec.storage.all(),
      ...rec.jobs.all(),
      ...rec.notifications.all(),
      ...snapshot.all(),
      ...extra,
    ]
  ) registry.registerMetric(m);
  /** Scrapes one at a time: a refresh resets the gauges another scrape would be reading. */
  let last: Promise<unknown> = Promise.resolve();
  return {
    contentType: registry.contentType,
    render() {
      const text = last.catch(() => {}).then(async () => {
        await snapshot.refresh();
        return await registry.metrics();
      });
      last = text;
      return text;
    },
    close: () => snapshot.close(),
  };
}
