/**
 * The relational store: `data_dir/maxiofs.db` opened with `node:sqlite` in WAL mode, migrated to
 * the newest schema at start. Each migration runs in its own transaction, so a failing one
 * leaves the database exactly as it was and the server refuses to start.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { type Migration, MIGRATIONS } from "./migrations.ts";

/** Compiled statements kept per database; past this many the set is dropped and starts again. */
const STATEMENTS = 256;

/**
 * The database: `DatabaseSync` whose `prepare` keeps the statements it compiled, by their SQL
 * text, so the queues and registries that run the same few statements per request or per event
 * do not compile them each time (~4 µs a compile; a worker's loop runs several per task).
 * node:sqlite runs each statement to its end synchronously, so one compiled statement can serve
 * every caller; nothing here changes a statement's options (setReadBigInts and the like).
 */
export class Db extends DatabaseSync {
  readonly #statements = new Map<string, StatementSync>();

  override prepare(sql: string): StatementSync {
    let st = this.#statements.get(sql);
    if (st) return st;
    if (this.#statements.size >= STATEMENTS) this.#statements.clear();
    st = super.prepare(sql);
    this.#statements.set(sql, st);
    return st;
  }
}

export class MigrationError extends Error {}

export interface OpenDbOptions {
  /** Defaults to the built-in list; tests pass their own. */
  migrations?: Migration[];
}

/** Opens (creating if needed) and migrates the database at `path` (":memory:" for tests). */
export function openDb(path: string, opts: OpenDbOptions = {}): Db {
  const db = new Db(path);
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA busy_timeout = 5000");
    migrate(db, opts.migrations ?? MIGRATIONS);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** The highest applied migration number (0 for a new database). */
export function schemaVersion(db: Db): number {
  const exists = db.prepare(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
  ).get();
  if (!exists) return 0;
  const row = db.prepare("SELECT MAX(version) AS v FROM schema_version").get() as
    | { v: number | null }
    | undefined;
  return row?.v ?? 0;
}

const VERSION_TABLE =
  "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)";

/** Applies every migration above the current version, each in one transaction. */
export function migrate(db: Db, migrations: Migration[]): void {
  const current = schemaVersion(db);
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const known = sorted.at(-1)?.version ?? 0;
  if (current > known) {
    throw new MigrationError(
      `Cannot open database: its schema version ${current} is newer than this build knows (${known}). Run a newer MaxIOFS.`,
    );
  }
  for (const m of sorted) {
    if (m.version <= current) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(VERSION_TABLE);
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)")
        .run(m.version, m.name, Date.now());
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw new MigrationError(
        `Cannot migrate database to version ${m.version} (${m.name}): ${
          (e as Error).message
        }. Nothing was changed; the server will not start.`,
      );
    }
  }
}

/** Runs `fn` in an IMMEDIATE transaction (one writer; reads inside see a stable snapshot). */
export function tx<T>(db: Db, fn: () => T): T {
  if (db.isTransaction) return fn();
  db.exec("BEGIN IMMEDIATE");
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}
