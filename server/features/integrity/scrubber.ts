/**
 * The integrity scrubber: a background pass walks every stored version of every bucket through
 * the storage Backend, re-reads its bytes at a limited rate and verifies them (verify.ts). Its
 * position is checkpointed in SQLite (state.ts), so a restart resumes the pass where it stopped;
 * a finished pass waits `intervalMs` before the next one starts. `verifyBucket` checks one bucket
 * on demand (console API, admin CLI), unthrottled. Every corrupt version is logged and handed to
 * `onFinding` (the audit log), and counted in `status().totals` (metrics).
 */
import type { Backend } from "../../storage/mod.ts";
import type { BucketRecord, ObjectRecord } from "../../storage/types.ts";
import type { Db } from "../../db/mod.ts";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import { type Pace, VerifyStopped, verifyVersion } from "./verify.ts";
import {
  addFinding,
  emptyPass,
  type IntegrityFinding,
  loadScrubState,
  saveScrubState,
  type ScrubPass,
  type ScrubPosition,
  type ScrubState,
} from "./state.ts";

/** Versions asked of each listing page. */
const PAGE = 100;
/** The checkpoint is written at most this often while a pass runs (and whenever it stops). */
const CHECKPOINT_MS = 5000;
/** What reading a version costs besides its bytes, for the rate limit (records, listing). */
const VERSION_COST = 4096;
/** The longest wait of the background loop, so a changed clock is noticed. */
const MAX_WAIT_MS = 3600_000;
/** After a failed pass, the loop waits this long before trying again. */
const RETRY_MS = 60_000;

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Waits on the real clock; ends early when `signal` aborts. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });

export type FindingSource = "scrub" | "verify";

export interface ScrubberOptions {
  db: Db;
  /** Bytes per second a background pass reads at most; 0: no background pass. */
  rate: number;
  /** Milliseconds from the end of a pass to the start of the next. */
  intervalMs: number;
  clock: Clock;
  log: Logger;
  /** How the scrubber waits (the rate limit, the interval); tests inject their own. */
  sleep?: Sleep;
  /** Every corrupt version found, by a pass or an on-demand check (the audit event). */
  onFinding?: (f: IntegrityFinding, source: FindingSource) => void;
  /** Runs each background pass (the metrics' job recorder: runs, durations, errors). */
  runJob?: <T>(job: string, pass: () => Promise<T>) => Promise<T>;
}

/** Counted since the process started (monotonic: Prometheus counters). */
export interface ScrubTotals {
  /** Background passes finished. */
  passes: number;
  /** On-demand bucket checks finished. */
  verifications: number;
  objects: number;
  bytes: number;
  corrupt: number;
  /** Passes or checks that ended with an error (not a finding: e.g. the store was closing). */
  errors: number;
}

export interface ScrubStatus {
  /** Whether background passes run (`--scrub-rate` above 0). */
  enabled: boolean;
  rateBytesPerSecond: number;
  intervalSeconds: number;
  /** A pass is reading now. */
  running: boolean;
  /** The pass in progress or interrupted (resumed at the next start), with its counts so far. */
  current: ScrubPass | null;
  /** The last finished pass. */
  last: ScrubPass | null;
  /** When the next pass is due (ms), null when disabled. */
  nextAt: number | null;
  totals: ScrubTotals;
}

export class Scrubber {
  readonly #storage: Backend;
  readonly #opts: ScrubberOptions;
  readonly #sleep: Sleep;
  readonly #state: ScrubState;
  readonly #totals: ScrubTotals = {
    passes: 0,
    verifications: 0,
    objects: 0,
    bytes: 0,
    corrupt: 0,
    errors: 0,
  };
  /** Stops the background loop and the pass in progress. */
  readonly #stop = new AbortController();
  /** The rate limit's reference point: bytes charged since `since` (ms). */
  readonly #pacer = { since: 0, bytes: 0 };
  #running: Promise<ScrubPass | null> | null = null;
  #loop: Promise<void> | null = null;

  constructor(storage: Backend, opts: ScrubberOptions) {
    this.#storage = storage;
    this.#opts = opts;
    this.#sleep = opts.sleep ?? realSleep;
    this.#state = loadScrubState(opts.db);
  }

  status(): ScrubStatus {
    const { rate, intervalMs } = this.#opts;
    const last = this.#state.last;
    return structuredClone({
      enabled: rate > 0,
      rateBytesPerSecond: rate,
      intervalSeconds: intervalMs / 1000,
      running: this.#running !== null,
      current: this.#state.current?.pass ?? null,
      last,
      nextAt: rate <= 0
        ? null
        : this.#state.current || !last?.endedAt
        ? this.#opts.clock.now()
        : last.endedAt + intervalMs,
      totals: this.#totals,
    });
  }

  /** Starts the background loop (nothing when the rate is 0). */
  start(): void {
    if (this.#opts.rate <= 0 || this.#loop) return;
    this.#loop = this.#background();
  }

  /** Stops the loop and the pass in progress (its checkpoint is kept); resolves when stopped. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await this.#running?.catch(() => {});
  }

  /**
   * Runs the pass in progress (or a new one) to its end at the configured rate, unthrottled when
   * the rate is 0 (admin); concurrent calls share it. Null when stopped before its end.
   */
  runPass(): Promise<ScrubPass | null> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Checks every version of one bucket now, unthrottled, and returns what it found. */
  async verifyBucket(bucket: BucketRecord): Promise<ScrubPass> {
    const pass = emptyPass(this.#opts.clock.now());
    try {
      await this.#walkBucket(bucket, pass, null, null, "verify", () => {});
    } catch (e) {
      this.#totals.errors++;
      throw e;
    }
    pass.endedAt = this.#opts.clock.now();
    this.#totals.verifications++;
    return pass;
  }

  async #background(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const wait = (this.status().nextAt ?? Infinity) - this.#opts.clock.now();
      if (wait > 0) {
        await this.#sleep(Math.min(wait, MAX_WAIT_MS), signal);
        continue;
      }
      try {
        const pass = this.#opts.runJob
          ? await this.#opts.runJob("integrity_scrub", () => this.runPass())
          : await this.runPass();
        if (pass) {
          this.#opts.log.info("integrity scrub finished", {
            objects: pass.objects,
            bytes: pass.bytes,
            corrupt: pass.corrupt,
            skipped: pass.skipped,
          });
        }
      } catch (e) {
        this.#opts.log.error("integrity scrub failed", { error: String(e) });
        await this.#sleep(RETRY_MS, signal);
      }
    }
  }

  async #pass(): Promise<ScrubPass | null> {
    const { clock, db } = this.#opts;
    const state = this.#state;
    state.current ??= { pass: emptyPass(clock.now()), position: null };
    const cur = state.current;
    saveScrubState(db, state, clock.now());
    this.#pacer.since = clock.now();
    this.#pacer.bytes = 0;
    let saved = clock.now();
    const checkpoint = (position: ScrubPosition, force: boolean) => {
      cur.position = position;
      if (!force && clock.now() - saved < CHECKPOINT_MS) return;
      saveScrubState(db, state, saved = clock.now());
    };
    try {
      const buckets = (await this.#storage.listAllBuckets()).sort(byName);
      for (const bucket of buckets) {
        const at = cur.position;
        // Buckets before the checkpoint's were verified by this pass before the restart.
        if (at && byName(bucket, { ns: at.ns, name: at.bucket }) < 0) continue;
        const from = at && at.bucketId === bucket.id ? at : null;
        await this.#walkBucket(bucket, cur.pass, from, this.#pace, "scrub", checkpoint);
        if (this.#stop.signal.aborted) return null;
      }
    } catch (e) {
      // Stopped inside a version: the checkpoint names the one before, verified again next time.
      if (e instanceof VerifyStopped) {
        saveScrubState(db, state, clock.now());
        return null;
      }
      this.#totals.errors++;
      saveScrubState(db, state, clock.now());
      throw e;
    }
    cur.pass.endedAt = clock.now();
    state.last = cur.pass;
    state.current = null;
    saveScrubState(db, state, clock.now());
    this.#totals.passes++;
    return cur.pass;
  }

  /** Charges `bytes` to the rate limit, waiting until reading them is within the rate. */
  #pace: Pace = async (bytes) => {
    // A stopping server does not read the rest of a large object first.
    if (this.#stop.signal.aborted) throw new VerifyStopped();
    const rate = this.#opts.rate;
    if (rate <= 0) return;
    const p = this.#pacer;
    const now = this.#opts.clock.now();
    // Time spent idle (between passes, in a slow read) is not saved up for a burst.
    if (now - (p.since + (p.bytes * 1000) / rate) > 1000) {
      p.since = now;
      p.bytes = 0;
    }
    p.bytes += bytes;
    const wait = p.since + (p.bytes * 1000) / rate - now;
    if (wait > 0) await this.#sleep(wait, this.#stop.signal);
  };

  /** Verifies the versions of one bucket from `from` on (null: all), in listing order. */
  async #walkBucket(
    bucket: BucketRecord,
    pass: ScrubPass,
    from: ScrubPosition | null,
    pace: Pace | null,
    source: FindingSource,
    checkpoint: (p: ScrubPosition, force: boolean) => void,
  ): Promise<void> {
    const position = (rec: ObjectRecord | null): ScrubPosition => ({
      ns: bucket.ns,
      bucket: bucket.name,
      bucketId: bucket.id,
      keyMarker: rec?.key ?? from?.keyMarker ?? "",
      versionIdMarker: rec?.versionId ?? from?.versionIdMarker ?? "",
    });
    let keyMarker = from?.keyMarker ?? "";
    let versionIdMarker = from?.versionIdMarker ?? "";
    const signal = this.#stop.signal;
    for (;;) {
      const page = await this.#storage.listObjectVersions(bucket, {
        prefix: "",
        delimiter: "",
        keyMarker,
        versionIdMarker,
        maxKeys: PAGE,
      });
      for (const { rec } of page.versions) {
        if (pace && signal.aborted) return checkpoint(position(null), true);
        if (!rec.deleteMarker) {
          await pace?.(VERSION_COST);
          await this.#check(bucket, rec, pass, pace, source);
        }
        from = position(rec);
        checkpoint(from, false);
      }
      if (!page.truncated || page.nextKeyMarker === null) break;
      keyMarker = page.nextKeyMarker;
      versionIdMarker = page.nextVersionIdMarker ?? "";
    }
    checkpoint(position(null), true);
  }

  async #check(
    bucket: BucketRecord,
    rec: ObjectRecord,
    pass: ScrubPass,
    pace: Pace | null,
    source: FindingSource,
  ): Promise<void> {
    const res = await verifyVersion(this.#storage, bucket, rec, pace ?? noPace);
    pass.bytes += res.bytes;
    this.#totals.bytes += res.bytes;
    if (res.kind === "skipped") {
      pass.skipped++;
      return;
    }
    pass.objects++;
    this.#totals.objects++;
    if (res.kind === "ok") return;
    const finding: IntegrityFinding = {
      ns: bucket.ns,
      bucket: bucket.name,
      key: rec.key,
      versionId: rec.versionId,
      reason: res.reason,
      at: this.#opts.clock.now(),
    };
    addFinding(pass, finding);
    this.#totals.corrupt++;
    this.#opts.log.error("integrity: corrupt object", { ...finding, source });
    try {
      this.#opts.onFinding?.(finding, source);
    } catch (e) {
      this.#opts.log.warn("integrity finding report failed", { error: String(e) });
    }
  }
}

const noPace: Pace = () => Promise.resolve();

/** Buckets in a stable order: namespace, then name. */
function byName(a: { ns: string; name: string }, b: { ns: string; name: string }): number {
  if (a.ns !== b.ns) return a.ns < b.ns ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
