/**
 * Stops request bodies that send nothing for a while, with one timer for all of them. A timer
 * per read (armed and cleared around every chunk) cost more than the rest of reading a small
 * body; here a read only notes the time, and a sweep every quarter of the limit cancels the
 * readers that have been silent too long. A body times out between `idleMs` and 1.25 × `idleMs`
 * after its last chunk.
 */

/** One watched body. */
export interface Watched {
  /** Set by the sweep that cancelled the reader: the body stalled (not the client hanging up). */
  timedOut: boolean;
  /** Marks activity: call on every chunk. */
  touch(): void;
  /** Stops watching (the body ended, failed or was abandoned). */
  release(): void;
}

export interface IdleWatchOptions {
  /** Monotonic milliseconds (default `performance.now`; tests pass a clock they move). */
  now?: () => number;
  /** Sweep on a timer of its own (default); false: only when `sweep()` is called (tests). */
  timer?: boolean;
}

export class IdleWatch {
  #bodies = new Set<Entry>();
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly now: () => number;
  readonly #ownTimer: boolean;

  constructor(readonly idleMs: number, opts: IdleWatchOptions = {}) {
    this.now = opts.now ?? (() => performance.now());
    this.#ownTimer = opts.timer ?? true;
  }

  /** Watches `reader` until `release()`; it is cancelled if it stays silent for `idleMs`. */
  watch(reader: ReadableStreamDefaultReader<unknown>): Watched {
    const e = new Entry(this, reader);
    this.#bodies.add(e);
    if (this.#ownTimer && this.#timer === undefined) {
      // Not unref'd: it runs only while some body is being read, and it must fire then.
      this.#timer = setInterval(() => this.sweep(), Math.max(10, Math.floor(this.idleMs / 4)));
    }
    return e;
  }

  /** Bodies being watched (for tests). */
  get size(): number {
    return this.#bodies.size;
  }

  /** Whether the sweep timer runs (for tests). */
  get ticking(): boolean {
    return this.#timer !== undefined;
  }

  /** Stops the timer; bodies still watched are no longer timed out. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#bodies.clear();
  }

  drop(e: Entry): void {
    this.#bodies.delete(e);
  }

  /** Cancels the readers silent for `idleMs` or longer (the timer calls it every idleMs / 4). */
  sweep(): void {
    // The timer stops at a sweep that finds nothing to watch (not at every last release: under
    // load the set empties and refills constantly, and re-arming the timer each time cost more
    // than the sweeps).
    if (this.#bodies.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = this.now();
    for (const e of this.#bodies) {
      if (now - e.last < this.idleMs) continue;
      e.timedOut = true;
      this.drop(e);
      e.reader.cancel().catch(() => {});
    }
  }
}

class Entry implements Watched {
  timedOut = false;
  last: number;

  constructor(
    private readonly watch: IdleWatch,
    readonly reader: ReadableStreamDefaultReader<unknown>,
  ) {
    this.last = watch.now();
  }

  touch(): void {
    this.last = this.watch.now();
  }

  release(): void {
    this.watch.drop(this);
  }
}
