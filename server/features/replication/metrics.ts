/**
 * Replication series for `/metrics` (docs/operations.md, "Monitoring"): tasks and bytes copied,
 * failures, the lag from queueing to done, and at scrape time the queue depth, the dead-letter
 * count and the age of the oldest queued task. Also kept as plain totals for the console.
 */
import { Counter, Gauge, Histogram, type Metric } from "prom-client";
import type { Clock } from "../../clock.ts";
import type { ReplicationQueue, Task } from "./queue.ts";

const LAG_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export class ReplicationMetrics {
  readonly tasks = new Counter({
    name: "maxiofs_replication_tasks_total",
    help: "Replication tasks finished, by outcome (done, retry, dead)",
    labelNames: ["outcome"],
    registers: [],
  });
  readonly bytes = new Counter({
    name: "maxiofs_replication_bytes_total",
    help: "Object bytes copied to replication destinations",
    registers: [],
  });
  readonly lag = new Histogram({
    name: "maxiofs_replication_lag_seconds",
    help: "Time from a change being queued to its copy or delete at the destination",
    buckets: LAG_SECONDS,
    registers: [],
  });
  readonly depth: Gauge;
  readonly dead: Gauge;
  readonly oldest: Gauge;
  /** Totals since start (the console's figures). */
  readonly totals = { done: 0, failed: 0, bytes: 0 };

  constructor(readonly queue: ReplicationQueue, readonly clock: Clock) {
    const counts = () => this.queue.counts();
    this.depth = new Gauge({
      name: "maxiofs_replication_queue_depth",
      help: "Replication tasks queued (not dead-lettered)",
      registers: [],
      collect() {
        this.set(counts().reduce((n, c) => n + c.queued, 0));
      },
    });
    this.dead = new Gauge({
      name: "maxiofs_replication_dead_letters",
      help: "Replication tasks that gave up (the failure list), until retried",
      registers: [],
      collect() {
        this.set(counts().reduce((n, c) => n + c.dead, 0));
      },
    });
    const now = () => this.clock.now();
    this.oldest = new Gauge({
      name: "maxiofs_replication_oldest_pending_seconds",
      help: "Age of the oldest queued replication task (0 when none)",
      registers: [],
      collect() {
        const o = counts().reduce<number | null>(
          (m, c) => c.oldest === null ? m : m === null ? c.oldest : Math.min(m, c.oldest),
          null,
        );
        this.set(o === null ? 0 : Math.max(0, now() - o) / 1000);
      },
    });
  }

  task(t: Task, outcome: "done" | "retry" | "dead", bytes: number): void {
    this.tasks.inc({ outcome });
    if (outcome === "done") {
      this.totals.done++;
      this.totals.bytes += bytes;
      this.bytes.inc(bytes);
      this.lag.observe(Math.max(0, this.clock.now() - t.queuedAt) / 1000);
    } else this.totals.failed++;
  }

  all(): Metric[] {
    return [this.tasks, this.bytes, this.lag, this.depth, this.dead, this.oldest];
  }
}
