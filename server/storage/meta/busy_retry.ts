/**
 * Atomic commits that wait for SQLite's write lock instead of failing on it.
 *
 * An atomic operation with checks reads before it writes. When it then asks for SQLite's write
 * lock and another connection to the file holds it, SQLite answers busy at once (a transaction that
 * has read cannot wait for the lock), and Deno KV hands that back as `TypeError: database is
 * locked` instead of retrying it as it retries its other transactions. (A write without checks
 * waits for the lock in SQLite's busy handler.) MaxIOFS opens its KV file twice (`store.ts`),
 * and every Deno KV handle takes the write lock on its own thread now and then: at open
 * (migrations, queue cleanup, the first expiry sweep) and for its expiry sweep about once a minute,
 * even when there is nothing to delete. A commit of the other handle that landed in that moment
 * failed: a 500 for the client, or a failed background step. The write lock is the first thing
 * such a commit asks for after its checks, before any change, so a commit that failed this way
 * changed nothing and is safe to send again (its checks are then decided anew). The metadata
 * store sends every commit through `retryBusy`; `busy_retry_test.ts` fails if a Deno upgrade
 * changes the behaviour this works around.
 */

/** How a busy write is retried. */
export interface BusyRetryOptions {
  /** Give up (and throw the last error) once this much time has passed since the first try. */
  maxWaitMs: number;
  /** First pause; it doubles up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BUSY_RETRY: BusyRetryOptions = {
  maxWaitMs: 5_000,
  firstDelayMs: 1,
  maxDelayMs: 20,
};

/** Counters of the retried commits, for tests and diagnostics. */
export interface BusyRetryStats {
  /** Writes that met a busy database at least once. */
  busyWrites: number;
  /** Pauses taken over all writes. */
  retries: number;
}

/** True for Deno KV's error when SQLite's write lock is held by another connection. */
export function isBusyError(e: unknown): boolean {
  return e instanceof Error && /\bdatabase is locked\b/i.test(e.message);
}

/** Runs `write` until it does not fail busy, pausing with backoff; other errors pass at once. */
export async function retryBusy<T>(
  write: () => Promise<T>,
  stats: BusyRetryStats,
  opts: BusyRetryOptions = DEFAULT_BUSY_RETRY,
): Promise<T> {
  let started = 0;
  let delay = opts.firstDelayMs;
  for (;;) {
    try {
      return await write();
    } catch (e) {
      if (!isBusyError(e)) throw e;
      const now = performance.now();
      if (!started) {
        started = now;
        stats.busyWrites++;
      } else if (now - started >= opts.maxWaitMs) throw e;
      stats.retries++;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, opts.maxDelayMs);
    }
  }
}
