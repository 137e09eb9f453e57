/**
 * Compaction of Deno KV's SQLite file: returns the pages that deleted entries left free to the
 * file system (SQLite reuses free pages for new entries, but never shrinks the file by itself,
 * since Deno KV creates it without `auto_vacuum`).
 *
 * It works through node:sqlite, which is a second copy of SQLite in the process. Two copies must
 * never have the same file open at once: SQLite's POSIX locks belong to the process, so one copy
 * closing its descriptor drops the locks the other relies on (sqlite.org/howtocorrupt.html,
 * 2.2). So compaction runs only while no Deno KV handle of this process has the file open and,
 * under the data dir's lock, no other process either: offline, from the admin CLI (`deno task
 * admin -- kv compact`; docs/operations.md).
 *
 * `VACUUM INTO` writes a defragmented copy next to the file; the copy is synced and renamed over
 * it, so a crash leaves the old file or the new one, and the disk needs room for both.
 */
import { DatabaseSync } from "node:sqlite";

/** The shape of a KV file: page size, pages in use and free, and bytes on disk. */
export interface KvFileSpace {
  pageSize: number;
  pages: number;
  freePages: number;
  /** The file and its WAL, as allocated on disk. */
  diskBytes: number;
}

export interface CompactResult {
  before: KvFileSpace;
  after: KvFileSpace;
  ms: number;
}

export interface CompactOptions {
  /** Page size of the compacted file (a power of two, 512 to 65536); default unchanged. */
  pageSize?: number;
}

async function allocated(path: string): Promise<number> {
  let n = 0;
  for (const p of [path, `${path}-wal`]) {
    try {
      const st = await Deno.stat(p);
      n += st.blocks !== null ? st.blocks * 512 : st.size;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return n;
}

function pragma(db: DatabaseSync, name: string): number {
  const row = db.prepare(`PRAGMA ${name}`).get() as Record<string, number>;
  return Number(row[name]);
}

/** The space figures of the KV file at `path` (read-only; same rule as `compactKvFile`). */
export async function kvFileSpace(path: string): Promise<KvFileSpace> {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return {
      pageSize: pragma(db, "page_size"),
      pages: pragma(db, "page_count"),
      freePages: pragma(db, "freelist_count"),
      diskBytes: await allocated(path),
    };
  } finally {
    db.close();
  }
}

/**
 * Rewrites the KV file at `path` without free pages (optionally with another page size).
 * Call it only with the data dir locked and no Deno KV handle open on the file (see above).
 * @throws {Error} on a page size that is not a power of two from 512 to 65536.
 */
export async function compactKvFile(
  path: string,
  opts: CompactOptions = {},
): Promise<CompactResult> {
  const size = opts.pageSize;
  if (size !== undefined && !(size >= 512 && size <= 65536 && (size & (size - 1)) === 0)) {
    throw new Error(`Cannot use page size "${size}": expected a power of two from 512 to 65536`);
  }
  const t0 = performance.now();
  const before = await kvFileSpace(path);
  const tmp = `${path}.compact`;
  await Deno.remove(tmp).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const db = new DatabaseSync(path);
  try {
    // The WAL's committed pages go into the file first, so the copy reads one consistent file.
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    if (size !== undefined) db.exec(`PRAGMA page_size = ${size}`);
    db.prepare("VACUUM INTO ?").run(tmp);
  } finally {
    db.close();
  }
  await dropEmptyWal(path);
  // VACUUM INTO leaves a rollback-journal file; Deno KV expects WAL mode (it would switch it
  // back itself, but the file should be complete before it replaces the old one).
  const copy = new DatabaseSync(tmp);
  try {
    copy.exec("PRAGMA journal_mode = WAL");
  } finally {
    copy.close();
  }
  const f = await Deno.open(tmp, { read: true, write: true });
  try {
    await f.sync();
  } finally {
    f.close();
  }
  await Deno.rename(tmp, path);
  const dir = path.slice(0, Math.max(0, path.lastIndexOf("/"))) || ".";
  await syncDir(dir);
  return { before, after: await kvFileSpace(path), ms: performance.now() - t0 };
}

/**
 * Removes the old file's WAL and shared-memory index before the copy takes the name: a WAL that
 * still held frames would be replayed onto the new file. Closing the last connection after a
 * TRUNCATE checkpoint leaves none; anything else is refused.
 */
async function dropEmptyWal(path: string): Promise<void> {
  try {
    const st = await Deno.stat(`${path}-wal`);
    if (st.size > 0) throw new Error(`Cannot compact "${path}": its WAL still holds frames`);
    await Deno.remove(`${path}-wal`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.remove(`${path}-shm`).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/** Makes a rename in `dir` durable (a no-op where directories cannot be opened, e.g. Windows). */
async function syncDir(dir: string): Promise<void> {
  let d: Deno.FsFile;
  try {
    d = await Deno.open(dir, { read: true });
  } catch {
    return;
  }
  try {
    await d.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is then as durable as they allow.
  } finally {
    d.close();
  }
}
