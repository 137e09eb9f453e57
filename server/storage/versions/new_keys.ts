/**
 * Optimistic publish of new keys. A PUT normally reads the key's state (object, version head,
 * null pointer, bucket record) and then commits, checked against what it read: two KV calls on
 * Deno KV's one thread. For a key that does not exist yet the state is known without reading:
 * all absent. So a plain PUT of a key this process has not seen in its latest-record cache first
 * commits as if the key were new, checked against the bucket record as last read (remembered
 * here with its versionstamp) and against the absence of every per-key entry; if the key exists,
 * or the bucket changed, the commit fails its check and the normal read-then-commit path runs.
 * A bucket whose PUTs keep overwriting (a failed guess costs a commit) skips the guess for a
 * while.
 */
import type { BucketRecord } from "../types.ts";

/** PUTs of a bucket that skip the guess after a wrong one. */
const SKIP_AFTER_MISS = 16;
/** Buckets remembered. */
const MAX_BUCKETS = 10_000;

interface Known {
  be: Deno.KvEntry<BucketRecord>;
  skip: number;
}

export class NewKeyGuesses {
  /** What is known of each bucket, by bucket id. */
  readonly #known = new Map<string, Known>();

  /** `enabled` false: no guesses, every publish reads its key's state first (benchmarks). */
  constructor(readonly enabled = true) {}

  /** Remembers the bucket record entry a key-state read returned. */
  rememberBucket(be: Deno.KvEntry<BucketRecord>): void {
    if (!this.enabled) return;
    const cur = this.#known.get(be.value.id);
    if (cur) {
      cur.be = be;
      return;
    }
    if (this.#known.size >= MAX_BUCKETS) this.#known.clear();
    this.#known.set(be.value.id, { be, skip: 0 });
  }

  /** The bucket entry to check a guessed-new publish against, or null to read the state first. */
  guessBucket(bucketId: string): Deno.KvEntry<BucketRecord> | null {
    const k = this.#known.get(bucketId);
    if (!k) return null;
    if (k.skip > 0) {
      k.skip--;
      return null;
    }
    return k.be;
  }

  /** A guess failed its check: the key existed or the bucket changed. */
  missed(bucketId: string): void {
    const k = this.#known.get(bucketId);
    if (k) k.skip = SKIP_AFTER_MISS;
  }
}
