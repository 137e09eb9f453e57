/**
 * How blob files and their directory entries reach the disk before a KV commit publishes them.
 * A commit that survives a power cut must not point at a file whose bytes or name did not: Deno
 * KV fsyncs its commits, so the blob store syncs first (see `BlobStore.write`).
 *
 * A file's bytes need their own sync, but one directory sync covers every rename into that
 * directory made before it started, so concurrent writes into one directory share it
 * (`GroupSync`).
 */

/** The two syncs the blob store makes; tests inject a counting one through its options. */
export interface DiskSync {
  /** Flushes a file's bytes and the metadata needed to read them back (`fdatasync`). */
  file(file: Deno.FsFile, path: string): Promise<void>;
  /** Flushes a directory's entries, so a rename into it survives a power cut (`fsync`). */
  dir(path: string): Promise<void>;
}

/** The operating system's syncs. */
export const osDiskSync: DiskSync = Object.freeze({
  file: (file: Deno.FsFile) => file.syncData(),
  dir: syncDir,
});

/** Opens the directory read-only and syncs it (Linux and macOS accept this on a directory). */
async function syncDir(path: string): Promise<void> {
  const d = await Deno.open(path, { read: true });
  try {
    await d.syncData();
  } finally {
    d.close();
  }
}

/**
 * Shares one operation among the callers that want it at about the same time: the first caller
 * starts it; callers arriving while it runs wait for the next one, which starts when it ends
 * and serves all of them. The next one, not the running one: a sync that began before a
 * caller's rename may not cover it.
 */
export class GroupSync {
  /** The operation in progress, if any. */
  #running: Promise<void> | null = null;
  /** The operation queued behind it, shared by everyone who arrived while it ran. */
  #next: Promise<void> | null = null;

  constructor(readonly run: () => Promise<void>) {}

  sync(): Promise<void> {
    if (this.#next) return this.#next;
    if (!this.#running) return this.#start();
    const next = this.#running.catch(() => {}).then(() => {
      this.#next = null;
      return this.#start();
    });
    this.#next = next;
    return next;
  }

  #start(): Promise<void> {
    const p: Promise<void> = this.run().finally(() => {
      if (this.#running === p) this.#running = null;
    });
    this.#running = p;
    return p;
  }
}

/** One `GroupSync` per directory (at most 257 under `objects/`: kept for the store's life). */
export class DirSyncs {
  readonly #groups = new Map<string, GroupSync>();

  constructor(readonly disk: DiskSync) {}

  /** Resolves once every rename into `path` made before this call is on the disk. */
  sync(path: string): Promise<void> {
    let g = this.#groups.get(path);
    if (!g) this.#groups.set(path, g = new GroupSync(() => this.disk.dir(path)));
    return g.sync();
  }
}
