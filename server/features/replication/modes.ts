/**
 * How a bucket's rules are carried out: in real time (the default: each write is queued from the
 * change feed), on a schedule (a sync every `intervalSeconds`), or by hand (sync now only).
 * Buckets that are not real time do not follow the feed, so their writes cost nothing extra.
 */
import type { Db } from "../../db/mod.ts";

export type ReplicationMode = "realtime" | "scheduled" | "manual";

export interface ModeSetting {
  mode: ReplicationMode;
  /** Seconds between syncs (scheduled only). */
  intervalSeconds: number | null;
  /** When the last scheduled sync ran (ms), null: never. */
  lastSync: number | null;
}

/** A scheduled bucket whose sync is due. */
export interface DueSync {
  bucketId: string;
  ns: string;
  bucket: string;
}

export const REALTIME: ModeSetting = { mode: "realtime", intervalSeconds: null, lastSync: null };

interface Row {
  bucket_id: string;
  ns: string;
  bucket: string;
  mode: ReplicationMode;
  interval_s: number | null;
  last_sync: number | null;
}

export class ReplicationModes {
  constructor(readonly db: Db) {}

  get(bucketId: string): ModeSetting {
    const r = this.db.prepare("SELECT * FROM replication_modes WHERE bucket_id = ?").get(
      bucketId,
    ) as unknown as Row | undefined;
    return r ? { mode: r.mode, intervalSeconds: r.interval_s, lastSync: r.last_sync } : REALTIME;
  }

  /** Sets a bucket's mode (real time removes the row: it is the default). */
  set(
    b: { id: string; ns: string; name: string },
    mode: ReplicationMode,
    intervalSeconds: number | null,
  ): void {
    if (mode === "realtime") {
      this.db.prepare("DELETE FROM replication_modes WHERE bucket_id = ?").run(b.id);
      return;
    }
    this.db.prepare(
      `INSERT INTO replication_modes (bucket_id, ns, bucket, mode, interval_s) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (bucket_id) DO UPDATE SET mode = excluded.mode, interval_s = excluded.interval_s,
         ns = excluded.ns, bucket = excluded.bucket`,
    ).run(b.id, b.ns, b.name, mode, mode === "scheduled" ? intervalSeconds : null);
  }

  /** Scheduled buckets whose interval has passed since their last sync, at `now`. */
  due(now: number): DueSync[] {
    const rows = this.db.prepare(
      `SELECT * FROM replication_modes WHERE mode = 'scheduled'
         AND (last_sync IS NULL OR last_sync + interval_s * 1000 <= ?)`,
    ).all(now) as unknown as Row[];
    return rows.map((r) => ({ bucketId: r.bucket_id, ns: r.ns, bucket: r.bucket }));
  }

  synced(bucketId: string, now: number): void {
    this.db.prepare("UPDATE replication_modes SET last_sync = ? WHERE bucket_id = ?").run(
      now,
      bucketId,
    );
  }

  remove(bucketId: string): void {
    this.db.prepare("DELETE FROM replication_modes WHERE bucket_id = ?").run(bucketId);
  }
}
