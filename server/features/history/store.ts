/**
 * The history of request figures in SQLite: one row per minute per S3 operation (and `*` for
 * all of them, which also carries the storage sample), rolled up into hours. Minutes are kept 7
 * days, hours 365 days. Latency percentiles come from merged histograms, so an hour's p99 is the
 * p99 of its requests, not an average of minutes.
 */
import type { Db } from "../../db/mod.ts";
import { type Histogram, merge, quantile } from "./histogram.ts";

export const MINUTE = 60_000;
export const HOUR = 3600_000;
export const MINUTE_RETENTION_MS = 7 * 24 * HOUR;
export const HOUR_RETENTION_MS = 365 * 24 * HOUR;

/** The figures of one operation (or `*`) over one minute or hour. */
export interface Bucketed {
  requests: number;
  /** Answers with a 5xx status. */
  errors: number;
  /** Answers with a 4xx status. */
  rejected: number;
  bytesIn: number;
  bytesOut: number;
  hist: Histogram;
}

export interface StorageSample {
  bytes: number;
  objects: number;
}

export function emptyBucket(): Bucketed {
  return { requests: 0, errors: 0, rejected: 0, bytesIn: 0, bytesOut: 0, hist: {} };
}

export function addInto(into: Bucketed, b: Bucketed): Bucketed {
  into.requests += b.requests;
  into.errors += b.errors;
  into.rejected += b.rejected;
  into.bytesIn += b.bytesIn;
  into.bytesOut += b.bytesOut;
  merge(into.hist, b.hist);
  return into;
}

/** One point of a chart. */
export interface HistoryPoint {
  t: number;
  requests: number;
  /** Requests per second over the point's span. */
  rps: number;
  errors: number;
  rejected: number;
  /** Bytes per second received and sent. */
  inBps: number;
  outBps: number;
  /** Latency percentiles in milliseconds (null: no request). */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  storageBytes: number | null;
  storageObjects: number | null;
}

type Row = Record<string, unknown>;
type Table = "metrics_minute" | "metrics_hour";

function toBucketed(r: Row): Bucketed {
  return {
    requests: Number(r.requests),
    errors: Number(r.errors),
    rejected: Number(r.rejected),
    bytesIn: Number(r.bytes_in),
    bytesOut: Number(r.bytes_out),
    hist: JSON.parse(String(r.hist)),
  };
}

export class HistoryStore {
  constructor(readonly db: Db) {}

  /** Writes one minute: a row per operation and the `*` row with the storage sample. */
  writeMinute(t: number, ops: Map<string, Bucketed>, storage: StorageSample | null): void {
    const all = emptyBucket();
    for (const b of ops.values()) addInto(all, b);
    this.#write("metrics_minute", t, ops, all, storage);
  }

  #write(
    table: Table,
    t: number,
    ops: Map<string, Bucketed>,
    all: Bucketed,
    storage: StorageSample | null,
  ): void {
    const st = this.db.prepare(
      `INSERT OR REPLACE INTO ${table} (t, op, requests, errors, rejected, bytes_in, bytes_out,
       hist, storage_bytes, storage_objects) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.exec("BEGIN");
    try {
      const row = (op: string, b: Bucketed, s: StorageSample | null) =>
        st.run(
          t,
          op,
          b.requests,
          b.errors,
          b.rejected,
          b.bytesIn,
          b.bytesOut,
          JSON.stringify(b.hist),
          s?.bytes ?? null,
          s?.objects ?? null,
        );
      for (const [op, b] of ops) row(op, b, null);
      row("*", all, storage);
      this.db.exec("COMMIT");
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  /** Sums the minutes of hour `h` (its start) into an hour row per operation. */
  rollUpHour(h: number): void {
    const rows = this.db.prepare(
      "SELECT * FROM metrics_minute WHERE t >= ? AND t < ? ORDER BY t",
    ).all(h, h + HOUR) as Row[];
    if (!rows.length) return;
    const ops = new Map<string, Bucketed>();
    let storage: StorageSample | null = null;
    for (const r of rows) {
      const op = String(r.op);
      if (op === "*") {
        if (r.storage_bytes !== null) {
          storage = { bytes: Number(r.storage_bytes), objects: Number(r.storage_objects) };
        }
        continue;
      }
      addInto(ops.get(op) ?? ops.set(op, emptyBucket()).get(op)!, toBucketed(r));
    }
    const all = emptyBucket();
    for (const b of ops.values()) addInto(all, b);
    this.#write("metrics_hour", h, ops, all, storage);
  }

  prune(now: number): void {
    this.db.prepare("DELETE FROM metrics_minute WHERE t < ?").run(now - MINUTE_RETENTION_MS);
    this.db.prepare("DELETE FROM metrics_hour WHERE t < ?").run(now - HOUR_RETENTION_MS);
  }

  /** The newest hour rolled up (its start), or null. */
  lastHour(): number | null {
    const r = this.db.prepare("SELECT MAX(t) AS t FROM metrics_hour").get() as Row;
    return r.t === null ? null : Number(r.t);
  }

  /**
   * The points of `[from, to)` at the table's step for operation `op` ("*": all), oldest first;
   * spans without a row are absent (no request and no sample then: the server was down).
   */
  series(table: Table, op: string, from: number, to: number): HistoryPoint[] {
    const step = table === "metrics_minute" ? MINUTE : HOUR;
    const rows = this.db.prepare(
      `SELECT * FROM ${table} WHERE op = ? AND t >= ? AND t < ? ORDER BY t`,
    ).all(op, from, to) as Row[];
    const storageOf = op === "*" ? null : new Map(
      (this.db.prepare(
        `SELECT t, storage_bytes, storage_objects FROM ${table} WHERE op = '*' AND t >= ? AND t < ?`,
      ).all(from, to) as Row[]).map((r) => [Number(r.t), r]),
    );
    return rows.map((r) => {
      const b = toBucketed(r);
      const s = storageOf ? storageOf.get(Number(r.t)) ?? r : r;
      return {
        t: Number(r.t),
        requests: b.requests,
        rps: b.requests / (step / 1000),
        errors: b.errors,
        rejected: b.rejected,
        inBps: b.bytesIn / (step / 1000),
        outBps: b.bytesOut / (step / 1000),
        p50: quantile(b.hist, 0.5),
        p95: quantile(b.hist, 0.95),
        p99: quantile(b.hist, 0.99),
        storageBytes: s.storage_bytes === null || s.storage_bytes === undefined
          ? null
          : Number(s.storage_bytes),
        storageObjects: s.storage_objects === null || s.storage_objects === undefined
          ? null
          : Number(s.storage_objects),
      };
    });
  }

  /** The operations seen in `[from, to)`, busiest first. */
  ops(table: Table, from: number, to: number): string[] {
    return (this.db.prepare(
      `SELECT op, SUM(requests) AS n FROM ${table} WHERE op != '*' AND t >= ? AND t < ?
       GROUP BY op ORDER BY n DESC`,
    ).all(from, to) as Row[]).map((r) => String(r.op));
  }
}
