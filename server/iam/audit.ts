/** The audit log in SQLite: who did what, when, from where, and with what result. */
import { sql } from "./core.ts";
import type { IamCore, Row } from "./core.ts";

export interface AuditEvent {
  actorId?: string | null;
  actorName?: string | null;
  tenantId?: string | null;
  action: string;
  resource?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  result: "success" | "failure" | "denied";
  detail?: string | null;
}

export interface AuditEntry extends Required<AuditEvent> {
  id: number;
  time: number;
}

export function recordAudit(core: IamCore, e: AuditEvent): void {
  sql(
    core,
    `INSERT INTO audit_log (time, actor_id, actor_name, tenant_id, action, resource, ip, user_agent, result, detail)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    core.clock.now(),
    e.actorId ?? null,
    e.actorName ?? null,
    e.tenantId ?? null,
    e.action,
    e.resource ?? null,
    e.ip ?? null,
    e.userAgent?.slice(0, 512) ?? null,
    e.result,
    e.detail ?? null,
  );
}

export interface AuditQuery {
  from?: number;
  to?: number;
  actor?: string;
  /** Prefix match: `login` matches `login.failure`. */
  action?: string;
  /** undefined = all tenants (global admins); a string restricts to that tenant. */
  tenantId?: string;
  result?: string;
  limit?: number;
  /** Entries with an id below this (newest first). */
  before?: number;
}

function toEntry(r: Row): AuditEntry {
  return {
    id: Number(r.id),
    time: Number(r.time),
    actorId: r.actor_id as string | null,
    actorName: r.actor_name as string | null,
    tenantId: r.tenant_id as string | null,
    action: r.action as string,
    resource: r.resource as string | null,
    ip: r.ip as string | null,
    userAgent: r.user_agent as string | null,
    result: r.result as AuditEntry["result"],
    detail: r.detail as string | null,
  };
}

export function queryAudit(
  core: IamCore,
  q: AuditQuery,
): { items: AuditEntry[]; nextCursor: string | null } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.from !== undefined) (where.push("time >= ?"), args.push(q.from));
  if (q.to !== undefined) (where.push("time <= ?"), args.push(q.to));
  if (q.actor) (where.push("(actor_name = ? OR actor_id = ?)"), args.push(q.actor, q.actor));
  if (q.action) {
    where.push("(action = ? OR action LIKE ? ESCAPE '\\')");
    args.push(q.action, q.action.replace(/[\\%_]/g, "\\$&") + ".%");
  }
  if (q.tenantId !== undefined) (where.push("tenant_id = ?"), args.push(q.tenantId));
  if (q.result) (where.push("result = ?"), args.push(q.result));
  if (q.before !== undefined) (where.push("id < ?"), args.push(q.before));
  const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
  const text = `SELECT * FROM audit_log ${
    where.length ? "WHERE " + where.join(" AND ") : ""
  } ORDER BY id DESC LIMIT ${limit + 1}`;
  const rows = sql(core, text).all(...args) as Row[];
  const items = rows.slice(0, limit).map(toEntry);
  return {
    items,
    nextCursor: rows.length > limit ? String(items[items.length - 1].id) : null,
  };
}

/** Deletes entries older than the retention; returns how many went. */
export function purgeAudit(core: IamCore, retentionDays: number): number {
  if (retentionDays <= 0) return 0;
  const cutoff = core.clock.now() - retentionDays * 86_400_000;
  const res = sql(core, "DELETE FROM audit_log WHERE time < ?").run(cutoff);
  return Number(res.changes);
}
