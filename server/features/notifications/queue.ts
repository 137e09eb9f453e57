/**
 * The durable delivery queue of event notifications (SQLite `notification_queue`): one row per
 * (change, matching configuration), inserted by the feed follower with INSERT OR IGNORE keyed by
 * (feed seq, configuration Id), so a batch handed over again adds nothing; and one row per target
 * a saved configuration newly names, its `s3:TestEvent` message (seq `test:<request id>`). The
 * delivery worker takes due rows, deletes them once delivered, postpones them after a failure and
 * moves them to the dead-letter list (`state = 'dead'`) after the last attempt; a dead letter can
 * be put back.
 */
import type { Db } from "../../db/mod.ts";

export interface NewDelivery {
  /** The change's feed position; `test:<request id>` for a save's test message. */
  seq: string;
  configId: string;
  /** The bucket's namespace ("" global) and name, and the key (listing the dead letters). */
  ns: string;
  bucket: string;
  key: string;
  event: string;
  /** The target: its namespace ("" global) and name. */
  targetNs: string;
  target: string;
  /** The event message (JSON). */
  payload: string;
  /** When it was queued; it is due then. */
  at: number;
}

export interface Delivery extends NewDelivery {
  id: number;
  attempts: number;
  nextAt: number;
  lastError: string | null;
  state: "pending" | "dead";
}

interface Row {
  id: number;
  seq: string;
  config_id: string;
  ns: string;
  bucket: string;
  key: string;
  event: string;
  target_ns: string;
  target: string;
  payload: string;
  attempts: number;
  next_at: number;
  last_error: string | null;
  state: "pending" | "dead";
  created_at: number;
}

const fromRow = (r: Row): Delivery => ({
  id: r.id,
  seq: r.seq,
  configId: r.config_id,
  ns: r.ns,
  bucket: r.bucket,
  key: r.key,
  event: r.event,
  targetNs: r.target_ns,
  target: r.target,
  payload: r.payload,
  at: r.created_at,
  attempts: r.attempts,
  nextAt: r.next_at,
  lastError: r.last_error,
  state: r.state,
});

/** Queue figures of one target. */
export interface TargetDepth {
  targetNs: string;
  target: string;
  pending: number;
  dead: number;
}

export class DeliveryQueue {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Adds deliveries in one transaction; those already queued are ignored. Returns the added. */
  enqueue(items: NewDelivery[]): number {
    if (items.length === 0) return 0;
    const insert = this.#db.prepare(
      `INSERT OR IGNORE INTO notification_queue
         (seq, config_id, ns, bucket, key, event, target_ns, target, payload, attempts, next_at,
          state, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'pending', ?)`,
    );
    let added = 0;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const d of items) {
        added += Number(
          insert.run(
            d.seq,
            d.configId,
            d.ns,
            d.bucket,
            d.key,
            d.event,
            d.targetNs,
            d.target,
            d.payload,
            d.at,
            d.at,
          ).changes,
        );
      }
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
    return added;
  }

  /** Pending deliveries due at `now`, oldest first. */
  due(now: number, limit: number): Delivery[] {
    const rows = this.#db.prepare(
      `SELECT * FROM notification_queue WHERE state = 'pending' AND next_at <= ?
       ORDER BY next_at, id LIMIT ?`,
    ).all(now, limit) as unknown as Row[];
    return rows.map(fromRow);
  }

  /** When the next pending delivery is due (null: none is pending). */
  nextDueAt(): number | null {
    const r = this.#db.prepare(
      "SELECT MIN(next_at) AS t FROM notification_queue WHERE state = 'pending'",
    ).get() as { t: number | null };
    return r.t;
  }

  delivered(id: number): void {
    this.deliveredAll([id]);
  }

  /**
   * Removes delivered rows in one transaction: each transaction writes its changed pages to the
   * WAL, so one per delivery wrote ~3 pages for a ~1 KB row (bytes that slow every fsync of the
   * object writes going on).
   */
  deliveredAll(ids: number[]): void {
    if (ids.length === 0) return;
    const del = this.#db.prepare("DELETE FROM notification_queue WHERE id = ?");
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const id of ids) del.run(id);
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  /** A failed attempt: tried again at `nextAt`. */
  postpone(id: number, attempts: number, nextAt: number, error: string): void {
    this.#db.prepare(
      "UPDATE notification_queue SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?",
    ).run(attempts, nextAt, error.slice(0, 500), id);
  }

  /** The last attempt failed: the delivery becomes a dead letter. */
  bury(id: number, attempts: number, error: string): void {
    this.#db.prepare(
      "UPDATE notification_queue SET state = 'dead', attempts = ?, last_error = ? WHERE id = ?",
    ).run(attempts, error.slice(0, 500), id);
  }

  /** Dead letters of buckets of namespace `ns` (null: all), newest first. */
  deadLetters(ns: string | null, limit = 1000): Delivery[] {
    const rows = (ns === null
      ? this.#db.prepare(
        "SELECT * FROM notification_queue WHERE state = 'dead' ORDER BY id DESC LIMIT ?",
      ).all(limit)
      : this.#db.prepare(
        "SELECT * FROM notification_queue WHERE state = 'dead' AND ns = ? ORDER BY id DESC LIMIT ?",
      ).all(ns, limit)) as unknown as Row[];
    return rows.map(fromRow);
  }

  /**
   * Puts dead letters back in the queue, due at `now` with their attempts reset: those of `ids`
   * (all when null), of buckets of namespace `ns` (null: any). Returns how many.
   */
  retryDead(ids: number[] | null, ns: string | null, now: number): number {
    const sel = deadSelection(ids, ns);
    if (!sel) return 0;
    return Number(
      this.#db.prepare(
        `UPDATE notification_queue SET state = 'pending', attempts = 0, next_at = ? WHERE ${sel.where}`,
      ).run(now, ...sel.args).changes,
    );
  }

  /** Removes dead letters (same selection as `retryDead`). Returns how many. */
  discardDead(ids: number[] | null, ns: string | null): number {
    const sel = deadSelection(ids, ns);
    if (!sel) return 0;
    return Number(
      this.#db.prepare(`DELETE FROM notification_queue WHERE ${sel.where}`).run(...sel.args)
        .changes,
    );
  }

  /** Pending and dead deliveries per target. */
  depths(): TargetDepth[] {
    const rows = this.#db.prepare(
      `SELECT target_ns, target, SUM(state = 'pending') AS pending, SUM(state = 'dead') AS dead
       FROM notification_queue GROUP BY target_ns, target ORDER BY target_ns, target`,
    ).all() as { target_ns: string; target: string; pending: number; dead: number }[];
    return rows.map((r) => ({
      targetNs: r.target_ns,
      target: r.target,
      pending: Number(r.pending),
      dead: Number(r.dead),
    }));
  }
}

/** The WHERE clause selecting dead letters by ids (null: all) and namespace (null: any). */
function deadSelection(
  ids: number[] | null,
  ns: string | null,
): { where: string; args: (string | number)[] } | null {
  if (ids !== null && ids.length === 0) return null;
  let where = "state = 'dead'";
  const args: (string | number)[] = [];
  if (ns !== null) {
    where += " AND ns = ?";
    args.push(ns);
  }
  if (ids !== null) {
    where += ` AND id IN (${ids.map(() => "?").join(",")})`;
    args.push(...ids);
  }
  return { where, args };
}
