/**
 * The alert monitor: every interval it looks at the disk, the tenants' quotas and the sign-in
 * record, hands what holds to the alert center, and mails each change of an alert (raised,
 * escalated, eased, resolved) when email is enabled. One check at a time; `checkNow` runs one on
 * demand (tests, the console's "Check now").
 */
import type { Backend } from "../../storage/mod.ts";
import type { Db } from "../../db/mod.ts";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import { AlertCenter, type AlertNotice } from "./center.ts";
import { AlertStore } from "./store.ts";
import {
  type AlertThresholds,
  CHECKED_SOURCES,
  diskCondition,
  loginConditions,
  quotaConditions,
  type QuotaFigure,
} from "./conditions.ts";
import { alertMail, type EmailSettings, sendMail } from "./mailer.ts";

/** Resolved alerts are kept this long. */
const RETENTION_MS = 90 * 24 * 3600_000;

export interface AlertMonitorOptions {
  db: Db;
  storage: Backend;
  clock: Clock;
  log: Logger;
  /** Seconds between checks (0: only `checkNow`). */
  intervalMs: number;
  /** The thresholds and mail settings in force, read at each check and each mail. */
  thresholds(): AlertThresholds;
  email(): Promise<EmailSettings | null>;
  /** The tenants with a byte quota: scope, visibility, name, limit (IAM's tenants). */
  quotaTenants(): { id: string; name: string; maxBytes: number }[];
  /** The buckets with a byte quota (their own or the default), named as the console names them. */
  quotaBuckets(): Promise<{ id: string; ns: string; name: string; maxBytes: number }[]>;
  /** Names the server in mails (its console URL or host). */
  serverName: string;
}

export interface AlertMonitor {
  center: AlertCenter;
  /** Runs one check now; concurrent calls share the running one. */
  checkNow(): Promise<AlertNotice[]>;
  /** The mails in flight (tests wait for them). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export function startAlertMonitor(opts: AlertMonitorOptions): AlertMonitor {
  const center = new AlertCenter(new AlertStore(opts.db), { clock: opts.clock, log: opts.log });
  const mails = new Set<Promise<void>>();
  center.subscribe((n) => {
    const p = opts.email().then((email) => {
      if (email?.enabled) return sendMail(email, alertMail(n, opts.serverName));
    }).catch((e) =>
      opts.log.warn("alert mail failed", { alert: n.alert.key, error: (e as Error).message })
    ).finally(() => mails.delete(p));
    mails.add(p);
  });

  const check = async (): Promise<AlertNotice[]> => {
    const now = opts.clock.now();
    const t = opts.thresholds();
    const figures: QuotaFigure[] = [];
    for (const tn of opts.quotaTenants()) {
      const usage = await opts.storage.usage.read(tn.id);
      figures.push({
        scope: `tenant:${tn.id}`,
        tenantId: tn.id,
        name: `tenant ${tn.name}`,
        usedBytes: usage.bytes,
        maxBytes: tn.maxBytes,
      });
    }
    for (const b of await opts.quotaBuckets()) {
      figures.push({
        scope: `bucket:${b.id}`,
        tenantId: b.ns || null,
        name: `bucket ${b.name}`,
        usedBytes: (await opts.storage.bucketStats(b.id)).bytes,
        maxBytes: b.maxBytes,
      });
    }
    const disk = diskCondition(opts.storage.diskSpace(), t);
    const notices = center.reconcile(CHECKED_SOURCES, [
      ...(disk ? [disk] : []),
      ...quotaConditions(figures, t),
      ...loginConditions(opts.db, now, t),
    ]);
    center.store.prune(now - RETENTION_MS);
    return notices;
  };

  let running: Promise<AlertNotice[]> | null = null;
  const checkNow = () => {
    running ??= check().finally(() => running = null);
    return running;
  };
  const timer = opts.intervalMs > 0
    ? setInterval(() => {
      checkNow().catch((e) => opts.log.error("alert check failed", { error: String(e) }));
    }, opts.intervalMs)
    : null;
  return {
    center,
    checkNow,
    settled: async () => {
      while (mails.size) await Promise.allSettled([...mails]);
    },
    stop: async () => {
      if (timer !== null) clearInterval(timer);
      await running?.catch(() => {});
      await Promise.allSettled([...mails]);
    },
  };
}
