/**
 * The alert center: turns what the checks see into alert episodes and tells subscribers (the
 * console's event stream, email) about each change once. A check reports the conditions of its
 * source that hold now (`reconcile`); a key seen again at the same level changes nothing, a new
 * level escalates or eases it, and a key no longer reported is resolved with a recovery notice.
 * One-off findings (a corrupt object) are raised with `raise` and resolved by whoever learns they
 * are over (a later clean check, or an administrator).
 */
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import { type Alert, type AlertLevel, AlertStore } from "./store.ts";

/** What a check sees: one condition that holds now. */
export interface Condition {
  /** Stable identity, prefixed by its source: `disk`, `quota:tenant:<id>`, `lockout:<user>`. */
  key: string;
  tenantId: string | null;
  level: AlertLevel;
  title: string;
  detail: string;
}

export type NoticeKind = "raised" | "escalated" | "eased" | "resolved";

/** A change worth telling: the alert as it is after the change. */
export interface AlertNotice {
  kind: NoticeKind;
  alert: Alert;
}

const RANK: Record<AlertLevel, number> = { warning: 1, critical: 2 };

export class AlertCenter {
  #subscribers = new Set<(n: AlertNotice) => void>();

  constructor(
    readonly store: AlertStore,
    readonly opts: { clock: Clock; log: Logger },
  ) {}

  /** Calls `fn` on every change from now on; returns the unsubscribe function. */
  subscribe(fn: (n: AlertNotice) => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /**
   * The conditions of every source in `sources` that hold now: each is raised or updated, and
   * unresolved alerts of those sources that are not among them are resolved.
   */
  reconcile(sources: string[], conditions: Condition[]): AlertNotice[] {
    const notices: AlertNotice[] = [];
    const seen = new Set<string>();
    for (const c of conditions) {
      seen.add(c.key);
      const n = this.raise(c);
      if (n) notices.push(n);
    }
    for (const [key, a] of this.store.active()) {
      if (seen.has(key) || !sources.some((s) => key === s || key.startsWith(`${s}:`))) continue;
      notices.push(this.#resolved(a));
    }
    return notices;
  }

  /** Raises (or updates) the alert of `c.key`; null when nothing new is said. */
  raise(c: Condition): AlertNotice | null {
    const now = this.opts.clock.now();
    const cur = this.store.active().get(c.key);
    if (!cur) {
      return this.#tell({
        kind: "raised",
        alert: this.store.insert({ ...c, raisedAt: now }),
      });
    }
    if (cur.level === c.level) {
      if (cur.title !== c.title || cur.detail !== c.detail) {
        this.store.update(cur.id, c, now, false);
      }
      return null;
    }
    const alert = this.store.update(cur.id, c, now, true);
    return this.#tell({ kind: RANK[c.level] > RANK[cur.level] ? "escalated" : "eased", alert });
  }

  /** Resolves the unresolved alert of `key`, if any. */
  resolve(key: string): AlertNotice | null {
    const cur = this.store.active().get(key);
    return cur ? this.#resolved(cur) : null;
  }

  /** Resolves an alert by id (an administrator's action); null when already resolved. */
  resolveId(id: number): AlertNotice | null {
    for (const a of this.store.active().values()) if (a.id === id) return this.#resolved(a);
    return null;
  }

  #resolved(a: Alert): AlertNotice {
    return this.#tell({ kind: "resolved", alert: this.store.resolve(a.id, this.opts.clock.now()) });
  }

  #tell(n: AlertNotice): AlertNotice {
    this.opts.log.info(`alert ${n.kind}`, {
      key: n.alert.key,
      level: n.alert.level,
      title: n.alert.title,
    });
    for (const fn of this.#subscribers) {
      try {
        fn(n);
      } catch (e) {
        this.opts.log.warn("alert subscriber failed", { error: String(e) });
      }
    }
    return n;
  }
}
