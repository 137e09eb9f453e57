/** The report history of bucket inventories (`inventory_runs`, migration 9). */
import type { Db } from "../../db/mod.ts";

export interface InventoryRun {
  id: number;
  bucketId: string;
  configId: string;
  startedAt: number;
  finishedAt: number | null;
  status: "running" | "done" | "failed";
  /** Rows written (versions or objects listed). */
  objects: number;
  /** Bytes of the objects listed (not of the report). */
  bytes: number;
  /** Data files written. */
  files: number;
  /** The destination bucket's ARN. */
  destination: string;
  /** The report's manifest.json key in the destination (null until written). */
  manifestKey: string | null;
  error: string | null;
}

interface Row {
  id: number;
  bucket_id: string;
  config_id: string;
  started_at: number;
  finished_at: number | null;
  status: InventoryRun["status"];
  objects: number;
  bytes: number;
  files: number;
  destination: string;
  manifest_key: string | null;
  error: string | null;
}

function runOf(r: Row): InventoryRun {
  return {
    id: r.id,
    bucketId: r.bucket_id,
    configId: r.config_id,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status,
    objects: r.objects,
    bytes: r.bytes,
    files: r.files,
    destination: r.destination,
    manifestKey: r.manifest_key,
    error: r.error,
  };
}

export class InventoryRuns {
  constructor(private readonly db: Db) {}

  /** Records a report as started; returns its id. */
  begin(bucketId: string, configId: string, startedAt: number, destination: string): number {
    const r = this.db.prepare(
      `INSERT INTO inventory_runs (bucket_id, config_id, started_at, status, destination)
       VALUES (?, ?, ?, 'running', ?)`,
    ).run(bucketId, configId, startedAt, destination);
    return Number(r.lastInsertRowid);
  }

  finish(
    id: number,
    done:
      & { finishedAt: number; objects: number; bytes: number; files: number }
      & (
        | { manifestKey: string; error?: undefined }
        | { error: string; manifestKey?: undefined }
      ),
  ): void {
    this.db.prepare(
      `UPDATE inventory_runs SET finished_at = ?, status = ?, objects = ?, bytes = ?, files = ?,
       manifest_key = ?, error = ? WHERE id = ?`,
    ).run(
      done.finishedAt,
      done.error === undefined ? "done" : "failed",
      done.objects,
      done.bytes,
      done.files,
      done.manifestKey ?? null,
      done.error ?? null,
      id,
    );
  }

  /** When the configuration's last finished report started (null: none yet). */
  lastDone(bucketId: string, configId: string): number | null {
    const r = this.db.prepare(
      `SELECT MAX(started_at) AS t FROM inventory_runs
       WHERE bucket_id = ? AND config_id = ? AND status = 'done'`,
    ).get(bucketId, configId) as { t: number | null } | undefined;
    return r?.t ?? null;
  }

  /** One report by id (null: no such row). */
  get(id: number): InventoryRun | null {
    const r = this.db.prepare(`SELECT * FROM inventory_runs WHERE id = ?`).get(id) as
      | Row
      | undefined;
    return r ? runOf(r) : null;
  }

  /** A bucket's reports, newest first (`limit` at most). */
  list(bucketId: string, limit = 50): InventoryRun[] {
    const rows = this.db.prepare(
      `SELECT * FROM inventory_runs WHERE bucket_id = ? ORDER BY started_at DESC, id DESC LIMIT ?`,
    ).all(bucketId, limit) as unknown as Row[];
    return rows.map(runOf);
  }

  /** Reports left `running` by a process that stopped are marked failed (at start). */
  abandonRunning(now: number): void {
    this.db.prepare(
      `UPDATE inventory_runs SET status = 'failed', finished_at = ?, error = 'interrupted'
       WHERE status = 'running'`,
    ).run(now);
  }
}
