/**
 * The durable delivery queue of event notifications (SQLite `notification_queue`): one row per
 * (change, matching configuration), inserted by the feed follower with INSERT OR IGNORE keyed by
 * (feed seq, configuration Id), so a batch handed over again adds nothing; and one row per target
 * a saved configuration newly names, its `s3:TestEvent` message (seq `test:<request id>`). A row
 * holds the change's fields the message needs, not the message: the worker builds AWS's JSON at
 * delivery (event_json.ts `deliveryBody`), which keeps the follower's work and the row small
 * (decision 0024); rows queued before that carry their message in `payload`. The delivery worker
 * takes due rows, deletes them once delivered, postpones them after a failure and moves them to
 * the dead-letter list (`state = 'dead'`) after the last attempt; a dead letter can be put back.
 * Delivered rows are removed by the next transaction that queues deliveries (`delivered()`).
 */
import type { Db } from "../../db/mod.ts";

/**
 * What the event message says of the change: an `ObjectChange` (feed_types.ts) is one. A test
 * message's is the save's: seq `test:<request id>`, the save's time, event `s3:TestEvent`, no key.
 */
export interface QueuedChange {
  /** The change's feed position; `test:<request id>` for a save's test message. */
  seq: string;
  /** When the change was committed (the message's time); the delivery is due then. */
  time: number;
  event: string;
  /** The bucket's namespace ("" global) and name, and the key. */
  ns: string;
  bucket: string;
  key: string;
  versionId: string | null;
  size?: number;
  /** As the change carries it (quoted). */
  etag?: string;
  principalId?: string;
  sourceIp?: string;
  requestId?: string;
}

export interface NewDelivery {
  change: QueuedChange;
  /** The configuration (rule) Id that matched. */
  configId: string;
  /** The bucket owner's principal id, as it was when the change was queued. */
  ownerId: string;
  /** The target: its namespace ("" global) and name. */
  targetNs: string;
  target: string;
}

export interface Delivery extends NewDelivery {
  id: number;
  /** The whole event message of a row queued before rows held the change alone; else null. */
  payload: string | null;
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
  version_id: string | null;
  size: number | null;
  etag: string | null;
  principal: string | null;
  source_ip: string | null;
  request_id: string | null;
  owner_id: string;
  payload: string | null;
  attempts: number;
  next_at: number;
  last_error: string | null;
  state: "pending" | "dead";
  created_at: number;
}

function fromRow(r: Row): Delivery {
  const change: QueuedChange = {
    seq: r.seq,
    time: r.created_at,
    event: r.event,
    ns: r.ns,
    bucket: r.bucket,
    key: r.key,
    versionId: r.version_id,
  };
  // Absent, not null: the message leaves out what the change did not carry.
  if (r.size !== null) change.size = r.size;
  if (r.etag !== null) change.etag = r.etag;
  if (r.principal !== null) change.principalId = r.principal;
  if (r.source_ip !== null) change.sourceIp = r.source_ip;
  if (r.request_id !== null) change.requestId = r.request_id;
  return {
    id: r.id,
    change,
    configId: r.config_id,
    ownerId: r.owner_id,
    targetNs: r.target_ns,
    target: r.target,
    payload: r.payload,
    attempts: r.attempts,
    nextAt: r.next_at,
    lastError: r.last_error,
    state: r.state,
  };
}

/** Queue figures of one target. */
export interface TargetDepth {
  targetNs: string;
  target: string;
  pending: number;
  dead: number;
}

/** Delivered rows kept for a later removal at most (then removed at once). */
const SENT_MAX = 64;

const targetKey = (d: { targetNs: string; target: string }) => `${d.targetNs}/${d.target}`;

export class DeliveryQueue {
  readonly #db: Db;
  /**
   * Rows delivered, not removed yet: id -> target (`delivered()`). Emptied by every `enqueue`,
   * the only writer of rows, so an id given again (ids are reused above the highest row) is
   * never in it.
   */
  readonly #sent = new Map<number, string>();

  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Adds deliveries in one transaction, which also removes the rows delivered meanwhile; those
   * already queued are ignored. Returns the added.
   */
  enqueue(items: NewDelivery[]): number {
    if (items.length === 0) return 0;
    const insert = this.#db.prepare(
      `INSERT OR IGNORE INTO notification_queue
         (seq, config_id, ns, bucket, key, event, target_ns, target, version_id, size, etag,
          principal, source_ip, request_id, owner_id, attempts, next_at, state, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'pending', ?)`,
    );
    let added = 0;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      this.#deleteSent();
      for (const d of items) {
        const c = d.change;
        added += Number(
          insert.run(
            c.seq,
            d.configId,
            c.ns,
            c.bucket,
            c.key,
            c.event,
            d.targetNs,
            d.target,
            c.versionId,
            c.size ?? null,
            c.etag ?? null,
            c.principalId ?? null,
            c.sourceIp ?? null,
            c.requestId ?? null,
            d.ownerId,
            c.time,
            c.time,
          ).changes,
        );
      }
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
    this.#sent.clear();
    return added;
  }

  /** Pending deliveries due at `now`, oldest first (not those delivered and not yet removed). */
  due(now: number, limit: number): Delivery[] {
    const rows = this.#db.prepare(
      `SELECT * FROM notification_queue WHERE state = 'pending' AND next_at <= ?
       ORDER BY next_at, id LIMIT ?`,
    ).all(now, limit + this.#sent.size) as unknown as Row[];
    const out: Delivery[] = [];
    for (const r of rows) {
      if (out.length < limit && !this.#sent.has(r.id)) out.push(fromRow(r));
    }
    return out;
  }

  /**
   * When the next pending delivery is due, of those due after `after` (null: none). Rows
   * delivered and not yet removed count: the worker asks after the time its pass ended at, which
   * they were due before.
   */
  nextDueAt(after = Number.MIN_SAFE_INTEGER): number | null {
    const r = this.#db.prepare(
      "SELECT MIN(next_at) AS t FROM notification_queue WHERE state = 'pending' AND next_at > ?",
    ).get(after) as { t: number | null };
    return r.t;
  }

  /**
   * Deliveries made: their rows are removed by the next `enqueue` in its own transaction, or by
   * `removeSent()` (the worker's, when it has been idle a while, and at a stop). A removal
   * costs a transaction that writes the pages it changed to the WAL (~12 KB for one row): at one
   * client each delivery used to add that to every PUT's own (decision 0024). Until then they
   * are not due, nor counted; a crash sends them again, as one before any removal did.
   */
  delivered(ds: readonly Delivery[]): void {
    for (const d of ds) this.#sent.set(d.id, targetKey(d));
    // Bounded: due() reads past them.
    if (this.#sent.size >= SENT_MAX) this.removeSent();
  }

  /** Whether delivered rows wait for their removal. */
  get sentWaiting(): boolean {
    return this.#sent.size > 0;
  }

  /** Removes the delivered rows now, in one transaction. */
  removeSent(): void {
    if (this.#sent.size === 0) return;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      this.#deleteSent();
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
    this.#sent.clear();
  }

  /** Deletes the delivered rows (inside the caller's transaction). */
  #deleteSent(): void {
    const del = this.#db.prepare("DELETE FROM notification_queue WHERE id = ?");
    for (const id of this.#sent.keys()) del.run(id);
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

  /** Pending and dead deliveries per target (those delivered and not yet removed left out). */
  depths(): TargetDepth[] {
    const rows = this.#db.prepare(
      `SELECT target_ns, target, SUM(state = 'pending') AS pending, SUM(state = 'dead') AS dead
       FROM notification_queue GROUP BY target_ns, target ORDER BY target_ns, target`,
    ).all() as { target_ns: string; target: string; pending: number; dead: number }[];
    const sent = new Map<string, number>();
    for (const t of this.#sent.values()) sent.set(t, (sent.get(t) ?? 0) + 1);
    return rows.map((r) => ({
      targetNs: r.target_ns,
      target: r.target,
      pending: Number(r.pending) - (sent.get(`${r.target_ns}/${r.target}`) ?? 0),
      dead: Number(r.dead),
    })).filter((d) => d.pending > 0 || d.dead > 0);
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
