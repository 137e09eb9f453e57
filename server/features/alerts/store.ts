/**
 * Alerts as SQLite rows (IAM's database, table `alerts`): one row per episode of a condition,
 * from raised to resolved. At most one unresolved row per key (a unique partial index), so a
 * condition that stays true is one alert, however often it is seen.
 */
import type { Db } from "../../db/mod.ts";

export type AlertLevel = "warning" | "critical";

export interface Alert {
  id: number;
  /** What the alert is about, stable across checks: `disk`, `quota:tenant:<id>`, ... */
  key: string;
  /** The tenant it concerns (its admins see it); null: global administrators only. */
  tenantId: string | null;
  level: AlertLevel;
  title: string;
  detail: string;
  raisedAt: number;
  updatedAt: number;
  resolvedAt: number | null;
  readAt: number | null;
}

type Row = Record<string, unknown>;

const num = (v: unknown) => v === null || v === undefined ? null : Number(v);

function toAlert(r: Row): Alert {
  return {
    id: Number(r.id),
    key: String(r.key),
    tenantId: (r.tenant_id as string | null) ?? null,
    level: r.level as AlertLevel,
    title: String(r.title),
    detail: String(r.detail),
    raisedAt: Number(r.raised_at),
    updatedAt: Number(r.updated_at),
    resolvedAt: num(r.resolved_at),
    readAt: num(r.read_at),
  };
}

export interface AlertQuery {
  /** Only alerts of this tenant (tenant admins); undefined: all (global admins). */
  tenantId?: string;
  /** Unresolved only. */
  active?: boolean;
  limit?: number;
}

export class AlertStore {
  constructor(readonly db: Db) {}

  /** Every unresolved alert, by key. */
  active(): Map<string, Alert> {
    const rows = this.db.prepare("SELECT * FROM alerts WHERE resolved_at IS NULL").all() as Row[];
    return new Map(rows.map((r) => [String(r.key), toAlert(r)]));
  }

  insert(a: Omit<Alert, "id" | "resolvedAt" | "readAt" | "updatedAt">): Alert {
    const r = this.db.prepare(
      `INSERT INTO alerts (key, tenant_id, level, title, detail, raised_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ).get(a.key, a.tenantId, a.level, a.title, a.detail, a.raisedAt, a.raisedAt) as Row;
    return toAlert(r);
  }

  /**
   * New text for an unresolved alert; with a new level it is unread again (it says something new),
   * while a figure that moved within the level (81 % to 82 %) only refreshes the text.
   */
  update(
    id: number,
    patch: { level: AlertLevel; title: string; detail: string },
    now: number,
    unread: boolean,
  ): Alert {
    const r = this.db.prepare(
      `UPDATE alerts SET level = ?, title = ?, detail = ?, updated_at = ?,
       read_at = CASE WHEN ? THEN NULL ELSE read_at END WHERE id = ? RETURNING *`,
    ).get(patch.level, patch.title, patch.detail, now, unread ? 1 : 0, id) as Row;
    return toAlert(r);
  }

  resolve(id: number, now: number): Alert {
    const r = this.db.prepare(
      "UPDATE alerts SET resolved_at = ?, updated_at = ? WHERE id = ? RETURNING *",
    ).get(now, now, id) as Row;
    return toAlert(r);
  }

  list(q: AlertQuery = {}): Alert[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.tenantId !== undefined) (where.push("tenant_id = ?"), args.push(q.tenantId));
    if (q.active) where.push("resolved_at IS NULL");
    const rows = this.db.prepare(
      `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY updated_at DESC, id DESC LIMIT ?`,
    ).all(...args, Math.min(q.limit ?? 100, 1000)) as Row[];
    return rows.map(toAlert);
  }

  unreadCount(tenantId?: string): number {
    const r =
      (tenantId === undefined
        ? this.db.prepare("SELECT COUNT(*) AS n FROM alerts WHERE read_at IS NULL").get()
        : this.db.prepare(
          "SELECT COUNT(*) AS n FROM alerts WHERE read_at IS NULL AND tenant_id = ?",
        )
          .get(tenantId)) as Row;
    return Number(r.n);
  }

  /** Marks alerts read (all visible ones when `ids` is null); returns how many changed. */
  markRead(ids: number[] | null, now: number, tenantId?: string): number {
    const where = ["read_at IS NULL"];
    const args: (string | number)[] = [];
    if (tenantId !== undefined) (where.push("tenant_id = ?"), args.push(tenantId));
    if (ids) {
      if (ids.length === 0) return 0;
      where.push(`id IN (${ids.map(() => "?").join(",")})`);
      args.push(...ids);
    }
    const r = this.db.prepare(`UPDATE alerts SET read_at = ? WHERE ${where.join(" AND ")}`)
      .run(now, ...args);
    return Number(r.changes);
  }

  /** Drops resolved alerts older than `before` (retention). */
  prune(before: number): number {
    return Number(
      this.db.prepare("DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?")
        .run(before).changes,
    );
  }
}
