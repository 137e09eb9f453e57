/**
 * Deno KV's SQLite file, adjusted before Deno KV opens it (docs/decisions/0004-kv-expiry-index.md).
 *
 * Deno KV indexes every row by its expiry time (`kv_expiration_ms_idx on kv (expiration_ms)`),
 * -1 for rows that never expire, which is every row MaxIOFS writes. Each row a commit writes
 * therefore also rewrites a leaf of that index: about a third of the bytes a small PUT writes
 * (measured: 51.6 → 34.7 KiB per PUT in merged commits of 10). Made partial (`where
 * expiration_ms >= 0`), the index holds only rows that do expire, and the two queries Deno KV runs
 * on it (the earliest expiry, and deleting what expired), which both say `expiration_ms >= 0`,
 * still use it (`kv_file_test.ts` checks their query plans).
 */
import { DatabaseSync } from "node:sqlite";

const INDEX = "kv_expiration_ms_idx";
const PARTIAL = `CREATE INDEX ${INDEX} ON kv (expiration_ms) WHERE expiration_ms >= 0`;

/** Where a data dir keeps Deno KV's file. */
export function kvFilePath(dataDir: string): string {
  return `${dataDir}/kv.sqlite3`;
}

export type KvFileState = "partial" | "made partial" | "unknown schema";

/**
 * Creates the file with Deno KV's schema if needed, then makes the expiry index partial. Leaves a
 * schema it does not recognize alone. Must run while no Deno KV handle has the file open.
 */
export async function prepareKvFile(path: string): Promise<KvFileState> {
  try {
    await Deno.stat(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    (await Deno.openKv(path)).close();
  }
  const db = new DatabaseSync(path);
  try {
    const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?")
      .get(INDEX) as { sql: string } | undefined;
    if (!row?.sql || !/^CREATE INDEX \S+ on kv \(expiration_ms\)/i.test(row.sql)) {
      return "unknown schema";
    }
    if (/\bwhere\b/i.test(row.sql)) return "partial";
    db.exec(`BEGIN IMMEDIATE; DROP INDEX ${INDEX}; ${PARTIAL}; COMMIT;`);
    return "made partial";
  } finally {
    db.close();
  }
}
