/**
 * What the periodic check looks at, as alert conditions: disk usage of the data dir, each
 * tenant's bytes against its quota, failed sign-ins in the last hour and locked accounts. Pure
 * functions of the figures (tested with any figures) plus the queries that fetch them.
 */
import type { Db } from "../../db/mod.ts";
import type { Condition } from "./center.ts";
import type { AlertLevel } from "./store.ts";

/** The thresholds (settings category `alerts`). */
export interface AlertThresholds {
  diskWarnPercent: number;
  diskCriticalPercent: number;
  quotaWarnPercent: number;
  quotaCriticalPercent: number;
  /** Failed sign-ins in any hour that raise an alert (0: never). */
  failedLoginsPerHour: number;
}

export const DEFAULT_THRESHOLDS: AlertThresholds = {
  diskWarnPercent: 80,
  diskCriticalPercent: 90,
  quotaWarnPercent: 80,
  quotaCriticalPercent: 90,
  failedLoginsPerHour: 20,
};

/** The sources the periodic check owns (their alerts resolve when no longer reported). */
export const CHECKED_SOURCES = ["disk", "quota", "login", "lockout"];

const HOUR = 3600_000;

function levelOf(percent: number, warn: number, critical: number): AlertLevel | null {
  if (percent >= critical) return "critical";
  if (percent >= warn) return "warning";
  return null;
}

export function formatSize(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024, i++);
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export function diskCondition(
  space: { totalBytes: number; freeBytes: number },
  t: AlertThresholds,
): Condition | null {
  if (space.totalBytes <= 0) return null;
  const pct = Math.floor(((space.totalBytes - space.freeBytes) / space.totalBytes) * 100);
  const level = levelOf(pct, t.diskWarnPercent, t.diskCriticalPercent);
  if (!level) return null;
  return {
    key: "disk",
    tenantId: null,
    level,
    title: `Data disk ${pct}% full`,
    detail: `${formatSize(space.freeBytes)} free of ${formatSize(space.totalBytes)} on the file ` +
      `system of the data dir (warning at ${t.diskWarnPercent}%, critical at ` +
      `${t.diskCriticalPercent}%).`,
  };
}

export interface QuotaFigure {
  /** `tenant:<id>` or `bucket:<id>`. */
  scope: string;
  /** Who sees the alert: the tenant of the tenant or bucket (null: global). */
  tenantId: string | null;
  /** "tenant acme", "bucket acme:photos". */
  name: string;
  usedBytes: number;
  maxBytes: number;
}

export function quotaConditions(figures: QuotaFigure[], t: AlertThresholds): Condition[] {
  const out: Condition[] = [];
  for (const f of figures) {
    if (f.maxBytes <= 0) continue;
    const pct = Math.floor((f.usedBytes / f.maxBytes) * 100);
    const level = levelOf(pct, t.quotaWarnPercent, t.quotaCriticalPercent);
    if (!level) continue;
    out.push({
      key: `quota:${f.scope}`,
      tenantId: f.tenantId,
      level,
      title: `Quota of ${f.name} ${pct}% used`,
      detail: `${formatSize(f.usedBytes)} of ${formatSize(f.maxBytes)} stored; writes past the ` +
        `quota are refused with QuotaExceeded.`,
    });
  }
  return out;
}

/** Failed sign-ins in the hour before `now`, and the accounts locked at `now`. */
export function loginConditions(db: Db, now: number, t: AlertThresholds): Condition[] {
  const out: Condition[] = [];
  if (t.failedLoginsPerHour > 0) {
    const r = db.prepare(
      "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'login.failure' AND time > ?",
    ).get(now - HOUR) as { n: number };
    const n = Number(r.n);
    if (n >= t.failedLoginsPerHour) {
      out.push({
        key: "login:failures",
        tenantId: null,
        level: "warning",
        title: `${n} failed sign-ins in the last hour`,
        detail: `At least ${t.failedLoginsPerHour} failed console sign-ins within an hour: ` +
          `see the audit log (action login.failure) for the accounts and addresses.`,
      });
    }
  }
  const locked = db.prepare(
    "SELECT id, username, tenant_id, locked_until FROM users WHERE locked_until > ?",
  ).all(now) as { id: string; username: string; tenant_id: string | null; locked_until: number }[];
  for (const u of locked) {
    out.push({
      key: `lockout:${u.id}`,
      tenantId: u.tenant_id,
      level: "warning",
      title: `Account ${u.username} locked`,
      detail: `Locked after repeated failed sign-ins until ${
        new Date(Number(u.locked_until)).toISOString()
      }; an administrator can unlock it sooner.`,
    });
  }
  return out;
}

/** The alert of a stored object whose bytes do not match what was stored (the scrubber's). */
export function corruptionCondition(
  f: { bucket: string; tenantId: string | null; key: string; versionId: string; reason: string },
): Condition {
  return {
    key: `corruption:${f.bucket}/${f.key}@${f.versionId}`,
    tenantId: f.tenantId,
    level: "critical",
    title: `Corrupt object ${f.bucket}/${f.key}`,
    detail: `Version ${f.versionId}: ${f.reason}. Restore it from a backup or a replica.`,
  };
}
