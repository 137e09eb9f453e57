/**
 * The metrics history recorder: each S3 request adds to the current minute's figures in memory
 * (a map lookup and a few additions); when the minute is over they are written as one SQLite
 * transaction with a sample of the storage used, each finished hour is rolled up, and old rows
 * are pruned. `RANGES` says what the console's charts ask for and where it is read from.
 */
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import type { Db } from "../../db/mod.ts";
import { add } from "./histogram.ts";
import {
  type Bucketed,
  emptyBucket,
  type HistoryPoint,
  HistoryStore,
  HOUR,
  MINUTE,
  type StorageSample,
} from "./store.ts";

/** What the recorder needs of a finished request (the S3 handler's RequestInfo has it). */
export interface RequestFigures {
  op: string;
  status: number;
  durationMs: number;
  bytesIn: number | null;
  bytesOut: number | null;
}

/** The chart ranges: their span and the table they read (minutes up to a day, hours beyond). */
export const RANGES = {
  "1h": { span: HOUR, table: "metrics_minute" },
  "6h": { span: 6 * HOUR, table: "metrics_minute" },
  "24h": { span: 24 * HOUR, table: "metrics_minute" },
  "7d": { span: 7 * 24 * HOUR, table: "metrics_hour" },
  "30d": { span: 30 * 24 * HOUR, table: "metrics_hour" },
  "365d": { span: 365 * 24 * HOUR, table: "metrics_hour" },
} as const;

export type HistoryRange = keyof typeof RANGES;

export interface HistoryOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  /** What is stored now (sampled once a minute). */
  storageUsed(): Promise<StorageSample>;
  /** How often to look whether the minute is over (ms; 0: only `flush`, for tests). */
  tickMs?: number;
}

export class HistoryRecorder {
  readonly store: HistoryStore;
  #minute: number;
  #ops = new Map<string, Bucketed>();
  #timer: ReturnType<typeof setInterval> | null = null;
  /** The start of the first hour not rolled up yet (null: from the first minute written). */
  #rollFrom: number | null;
  #flushing: Promise<void> = Promise.resolve();
  #listeners = new Set<(p: HistoryPoint) => void>();

  constructor(readonly opts: HistoryOptions) {
    this.store = new HistoryStore(opts.db);
    this.#minute = minuteOf(opts.clock.now());
    const last = this.store.lastHour();
    this.#rollFrom = last === null ? null : last + HOUR;
    const tick = opts.tickMs ?? 5000;
    if (tick > 0) {
      this.#timer = setInterval(() => {
        this.flush().catch((e) => opts.log.warn("metrics history", { error: String(e) }));
      }, tick);
    }
  }

  /** Counts one finished request in the current minute. */
  record(r: RequestFigures): void {
    const now = this.opts.clock.now();
    if (now - this.#minute >= MINUTE) this.flush(now);
    let b = this.#ops.get(r.op);
    if (!b) this.#ops.set(r.op, b = emptyBucket());
    b.requests++;
    if (r.status >= 500) b.errors++;
    else if (r.status >= 400) b.rejected++;
    b.bytesIn += r.bytesIn ?? 0;
    b.bytesOut += r.bytesOut ?? 0;
    add(b.hist, r.durationMs);
  }

  /** Each finished minute's total (the dashboard's live figures); returns the unsubscribe. */
  onMinute(fn: (p: HistoryPoint) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Writes the minute in memory if it is over by `now` (and rolls up finished hours). Minutes
   * without a request still get their `*` row with the storage sample, so charts show idle time.
   */
  flush(now = this.opts.clock.now()): Promise<void> {
    if (now - this.#minute < MINUTE) return this.#flushing;
    const t = this.#minute;
    const ops = this.#ops;
    this.#minute = minuteOf(now);
    this.#ops = new Map();
    this.#flushing = this.#flushing.then(async () => {
      const storage = await this.opts.storageUsed().catch(() => null);
      this.store.writeMinute(t, ops, storage);
      let h = this.#rollFrom ?? hourOf(t);
      for (; h + HOUR <= this.#minute; h += HOUR) this.store.rollUpHour(h);
      this.#rollFrom = h;
      this.store.prune(now);
      const [p] = this.store.series("metrics_minute", "*", t, t + MINUTE);
      if (p) { for (const fn of this.#listeners) fn(p); }
    });
    return this.#flushing;
  }

  /** The points of a range ending now, for one operation or all (`*`), and the ops seen. */
  history(range: HistoryRange, op = "*"): { step: number; points: HistoryPoint[]; ops: string[] } {
    const r = RANGES[range];
    const now = this.opts.clock.now();
    const step = r.table === "metrics_minute" ? MINUTE : HOUR;
    const from = now - r.span;
    return {
      step,
      points: this.store.series(r.table, op, from, now),
      ops: this.store.ops(r.table, from, now),
    };
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.#flushing.catch(() => {});
  }
}

const minuteOf = (t: number) => Math.floor(t / MINUTE) * MINUTE;
const hourOf = (t: number) => Math.floor(t / HOUR) * HOUR;
