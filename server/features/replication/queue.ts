/**
 * The durable replication queue in `maxiofs.db`: one row per change and rule (idempotent by
 * `(seq, rule)`, so a feed batch handed over again adds nothing), taken per key in insertion
 * order (an older version is never copied after a newer one), retried with exponential backoff,
 * and moved to the dead-letter list (`state = 'dead'`) after `maxAttempts`.
 *
 * A finished task's row is not deleted at once: `done` notes its id and `removeFinished` deletes
 * the noted rows together (the worker does it as statuses settle, every 250 ms). One row in and
 * out with its three indexes wrote 9 pages (37 KB) to the WAL per copy; the deletes of a batch
 * share their pages. Until removed, a finished row is invisible to every read here (`notFinished`):
 * it is neither due, nor counted, nor pending. Killed before the removal, the server copies
 * those tasks again at its start (at-least-once, as a kill during a copy).
 */
import type { Db } from "../../db/mod.ts";

/**
 * A copy of a version, the delete that replicates a delete marker, or a metadata-only change of
 * a version copied alone: its tag set, its retention, its legal hold.
 */
export type TaskOp = "put" | "marker" | MetadataOp;

/** The task ops that copy one piece of a version's metadata without its bytes. */
export type MetadataOp = "tags" | "retention" | "legalhold";

export function isMetadataOp(op: TaskOp): op is MetadataOp {
  return op === "tags" || op === "retention" || op === "legalhold";
}

export interface NewTask {
  /** The change's feed position, or a unique `sync:` id for copies a sync found missing. */
  seq: string;
  bucketId: string;
  ns: string;
  bucket: string;
  ruleId: string;
  destination: string;
  key: string;
  versionId: string | null;
  op: TaskOp;
  size?: number;
}

export interface Task extends NewTask {
  id: number;
  state: "queued" | "dead";
  attempts: number;
  nextAt: number;
  lastError: string | null;
  queuedAt: number;
  size: number;
}

interface Row {
  id: number;
  seq: string;
  bucket_id: string;
  ns: string;
  bucket: string;
  rule_id: string;
  destination: string;
  key: string;
  version_id: string | null;
  op: TaskOp;
  size: number;
  state: "queued" | "dead";
  attempts: number;
  next_at: number;
  last_error: string | null;
  queued_at: number;
}

function fromRow(r: Row): Task {
  return {
    id: r.id,
    seq: r.seq,
    bucketId: r.bucket_id,
    ns: r.ns,
    bucket: r.bucket,
    ruleId: r.rule_id,
    destination: r.destination,
    key: r.key,
    versionId: r.version_id,
    op: r.op,
    size: r.size,
    state: r.state,
    attempts: r.attempts,
    nextAt: r.next_at,
    lastError: r.last_error,
    queuedAt: r.queued_at,
  };
}

/** Counts per rule for the console and metrics. */
export interface RuleCounts {
  bucketId: string;
  ruleId: string;
  queued: number;
  dead: number;
  /** Queue time of the oldest queued task (lag), null when none. */
  oldest: number | null;
}

/**
 * The condition that hides a finished row awaiting removal (`row`: the table's name or alias in
 * the query). The finished ids are a TEMP table, in the connection's own temporary database: not
 * in `maxiofs.db` nor its WAL, gone with the process (the rows are then copied again), and looked
 * up by its primary key (a JSON list of ids cost each query 5-15 µs to parse).
 */
function notFinished(row: string): string {
  return `NOT EXISTS (SELECT 1 FROM temp.replication_finished f WHERE f.id = ${row}.id)`;
}

export class ReplicationQueue {
  constructor(readonly db: Db) {
    db.exec("CREATE TEMP TABLE IF NOT EXISTS replication_finished (id INTEGER PRIMARY KEY)");
  }

  /** Adds tasks (ignoring those already queued by (seq, rule)); how many were new. */
  add(tasks: NewTask[], now: number): number {
    if (!tasks.length) return 0;
    const stmt = this.db.prepare(
      `INSERT INTO replication_queue
         (seq, bucket_id, ns, bucket, rule_id, destination, key, version_id, op, size, next_at,
          queued_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (seq, rule_id) DO NOTHING`,
    );
    let added = 0;
    this.db.exec("BEGIN");
    try {
      for (const t of tasks) {
        const r = stmt.run(
          t.seq,
          t.bucketId,
          t.ns,
          t.bucket,
          t.ruleId,
          t.destination,
          t.key,
          t.versionId,
          t.op,
          t.size ?? 0,
          now,
          now,
        );
        added += Number(r.changes);
      }
      this.db.exec("COMMIT");
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
    return added;
  }

  /**
   * Up to `limit` tasks due at `now`, each the oldest queued task of its key and rule, skipping
   * keys in `busy` (`bucketId/ruleId/key`) and paused rules.
   */
  due(now: number, limit: number, busy: Set<string>): Task[] {
    const rows = this.db.prepare(
      `SELECT q.* FROM replication_queue q
       WHERE q.state = 'queued' AND q.next_at <= ? AND ${notFinished("q")}
         AND NOT EXISTS (SELECT 1 FROM replication_queue p
           WHERE p.bucket_id = q.bucket_id AND p.rule_id = q.rule_id AND p.key = q.key
             AND p.state = 'queued' AND p.id < q.id AND ${notFinished("p")})
         AND NOT EXISTS (SELECT 1 FROM replication_paused z
           WHERE z.bucket_id = q.bucket_id AND z.rule_id = q.rule_id)
       ORDER BY q.id LIMIT ?`,
    ).all(now, limit + busy.size) as unknown as Row[];
    return rows.map(fromRow).filter((t) => !busy.has(taskKey(t))).slice(0, limit);
  }

  /**
   * How many queued tasks are due at `now`, counted on the index alone (about 1 µs where `due`
   * takes 40-150 µs: its per-key order and pause checks, and the sort).
   */
  dueCount(now: number): number {
    const r = this.db.prepare(
      `SELECT COUNT(*) AS n FROM replication_queue
       WHERE state = 'queued' AND next_at <= ? AND ${notFinished("replication_queue")}`,
    ).get(now) as { n: number };
    return r.n;
  }

  /** The earliest time a queued task of an unpaused rule is due (null: none queued). */
  nextDue(): number | null {
    const r = this.db.prepare(
      `SELECT MIN(next_at) AS t FROM replication_queue q
       WHERE state = 'queued' AND ${notFinished("q")}
         AND NOT EXISTS (SELECT 1 FROM replication_paused z
           WHERE z.bucket_id = q.bucket_id AND z.rule_id = q.rule_id)`,
    ).get() as { t: number | null };
    return r.t;
  }

  /** A task finished: its row is hidden now and deleted by the next `removeFinished`. */
  done(id: number): void {
    this.db.prepare("INSERT OR IGNORE INTO temp.replication_finished (id) VALUES (?)").run(id);
  }

  /** Deletes the rows of the finished tasks in one statement; how many there were. */
  removeFinished(): number {
    this.db.exec("BEGIN");
    try {
      this.db.exec(
        "DELETE FROM replication_queue WHERE id IN (SELECT id FROM temp.replication_finished)",
      );
      const r = this.db.prepare("DELETE FROM temp.replication_finished").run();
      this.db.exec("COMMIT");
      return Number(r.changes);
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  /** A failed attempt: retried at `nextAt`, or dead-lettered when `dead`. */
  failed(id: number, error: string, nextAt: number, dead: boolean): void {
    this.db.prepare(
      `UPDATE replication_queue SET attempts = attempts + 1, last_error = ?, next_at = ?,
         state = ? WHERE id = ?`,
    ).run(error.slice(0, 1000), nextAt, dead ? "dead" : "queued", id);
  }

  /** Whether other tasks of this version are still queued or dead (its status is not final). */
  pendingFor(bucketId: string, key: string, versionId: string | null, exceptId: number): {
    queued: number;
    dead: number;
  } {
    const r = this.db.prepare(
      `SELECT SUM(state = 'queued') AS queued, SUM(state = 'dead') AS dead
       FROM replication_queue WHERE bucket_id = ? AND key = ? AND version_id IS ? AND id != ?
         AND ${notFinished("replication_queue")}`,
    ).get(bucketId, key, versionId, exceptId) as {
      queued: number | null;
      dead: number | null;
    };
    return { queued: r.queued ?? 0, dead: r.dead ?? 0 };
  }

  /**
   * Dead-lettered tasks back in the queue (all of a bucket's, or the one `id`), and queued ones
   * waiting out a backoff made due now: the retry of the console and the CLI. A revived task
   * keeps one attempt on its count (it failed before: the worker checks it is still current)
   * and gets the others again.
   */
  retry(bucketId: string, now: number, id?: number): number {
    const r = id === undefined
      ? this.db.prepare(
        `UPDATE replication_queue SET state = 'queued', next_at = ?, attempts = MIN(attempts, 1)
         WHERE bucket_id = ? AND (state = 'dead' OR next_at > ?) AND ${
          notFinished("replication_queue")
        }`,
      ).run(now, bucketId, now)
      : this.db.prepare(
        `UPDATE replication_queue SET state = 'queued', next_at = ?, attempts = MIN(attempts, 1)
         WHERE bucket_id = ? AND id = ? AND ${notFinished("replication_queue")}`,
      ).run(now, bucketId, id);
    return Number(r.changes);
  }

  /** Dead-lettered and failing (retried) tasks of a bucket, newest first. */
  failures(bucketId: string, limit = 100): Task[] {
    const rows = this.db.prepare(
      `SELECT * FROM replication_queue WHERE bucket_id = ? AND (state = 'dead' OR attempts > 0)
         AND ${notFinished("replication_queue")}
       ORDER BY id DESC LIMIT ?`,
    ).all(bucketId, limit) as unknown as Row[];
    return rows.map(fromRow);
  }

  counts(bucketId?: string): RuleCounts[] {
    const rows = this.db.prepare(
      `SELECT bucket_id, rule_id, SUM(state = 'queued') AS queued, SUM(state = 'dead') AS dead,
         MIN(CASE WHEN state = 'queued' THEN queued_at END) AS oldest
       FROM replication_queue WHERE ${notFinished("replication_queue")}${
        bucketId === undefined ? "" : " AND bucket_id = ?"
      }
       GROUP BY bucket_id, rule_id`,
    ).all(...(bucketId === undefined ? [] : [bucketId])) as unknown as {
      bucket_id: string;
      rule_id: string;
      queued: number;
      dead: number;
      oldest: number | null;
    }[];
    return rows.map((r) => ({
      bucketId: r.bucket_id,
      ruleId: r.rule_id,
      queued: r.queued,
      dead: r.dead,
      oldest: r.oldest,
    }));
  }

  /**
   * Drops a bucket's tasks of rules not in `keep` (all of them when `keep` is empty) and their
   * pause flags. Answers the versions whose queued copies were dropped and that no kept rule still
   * has a task for: nothing will settle their status any more (the caller does).
   */
  dropRules(bucketId: string, keep: string[]): { key: string; versionId: string }[] {
    const marks = keep.map(() => "?").join(",");
    const notKept = keep.length ? ` AND rule_id NOT IN (${marks})` : "";
    this.db.exec("BEGIN");
    try {
      const dropped = this.db.prepare(
        `SELECT DISTINCT key, version_id FROM replication_queue
         WHERE bucket_id = ? AND state = 'queued' AND op != 'marker'
           AND version_id IS NOT NULL${notKept} AND ${notFinished("replication_queue")}`,
      ).all(bucketId, ...keep) as { key: string; version_id: string }[];
      this.db.prepare(`DELETE FROM replication_queue WHERE bucket_id = ?${notKept}`).run(
        bucketId,
        ...keep,
      );
      this.db.prepare(`DELETE FROM replication_paused WHERE bucket_id = ?${notKept}`).run(
        bucketId,
        ...keep,
      );
      const left = this.db.prepare(
        `SELECT 1 FROM replication_queue WHERE bucket_id = ? AND key = ? AND version_id = ?
           AND ${notFinished("replication_queue")} LIMIT 1`,
      );
      const out = dropped.filter((d) => !left.get(bucketId, d.key, d.version_id))
        .map((d) => ({ key: d.key, versionId: d.version_id }));
      this.db.exec("COMMIT");
      return out;
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  /**
   * Whether this rule has a task for `key`: "queued" when one is queued (waiting or in backoff),
   * else "dead" when one is dead-lettered, else null.
   */
  taskState(bucketId: string, ruleId: string, key: string): "queued" | "dead" | null {
    const r = this.db.prepare(
      `SELECT state FROM replication_queue WHERE bucket_id = ? AND rule_id = ? AND key = ?
         AND ${notFinished("replication_queue")}
       ORDER BY state = 'queued' DESC LIMIT 1`,
    ).get(bucketId, ruleId, key) as { state: "queued" | "dead" } | undefined;
    return r?.state ?? null;
  }

  setPaused(bucketId: string, ruleId: string, paused: boolean): void {
    if (paused) {
      this.db.prepare(
        "INSERT INTO replication_paused (bucket_id, rule_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
      ).run(bucketId, ruleId);
    } else {
      this.db.prepare("DELETE FROM replication_paused WHERE bucket_id = ? AND rule_id = ?").run(
        bucketId,
        ruleId,
      );
    }
  }

  paused(bucketId: string): string[] {
    return (this.db.prepare("SELECT rule_id FROM replication_paused WHERE bucket_id = ?").all(
      bucketId,
    ) as { rule_id: string }[]).map((r) => r.rule_id);
  }
}

/** The ordering key of a task: one task per key and rule runs at a time. */
export function taskKey(t: Pick<Task, "bucketId" | "ruleId" | "key">): string {
  return `${t.bucketId}/${t.ruleId}/${t.key}`;
}
