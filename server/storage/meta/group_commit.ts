/**
 * Group commit for Deno KV. Deno KV runs every commit on one SQLite thread and fsyncs each one,
 * so at many concurrent writers the commit queue, not the work, bounds throughput. A
 * `GroupCommitter` hands out recorders (`GroupAtomic`, with the writing methods of a
 * `Deno.AtomicOperation`); `commit()` queues the recorded checks and mutations. When no commit is in flight an operation commits at once
 * (no added latency for a lone writer); operations that arrive while one is in flight are merged
 * into the next real atomic operation, as long as they are independent (no key mutated by one is
 * checked or mutated by another; sums on the same key commute) and the merged operation stays
 * well inside Deno KV's limits. A merged commit that fails a check (or throws) is replayed one
 * operation at a time, so every caller gets the result its own operation would have had.
 */

import { hex } from "../../hex.ts";

/** Caps of one merged commit, conservative against Deno KV's 100 / 1000 / 800 KiB / 80 KiB. */
export interface GroupLimits {
  checks: number;
  mutations: number;
  /** Estimated bytes of mutation keys and values. */
  bytes: number;
  /** Estimated bytes of all keys (checks and mutations). */
  keyBytes: number;
}

export const DEFAULT_GROUP_LIMITS: GroupLimits = {
  checks: 100,
  mutations: 800,
  bytes: 512 * 1024,
  keyBytes: 64 * 1024,
};

export type CommitOutcome = Deno.KvCommitResult | Deno.KvCommitError;

/**
 * Where the values operations `append` go (feed/change_log.ts): all the values of one commit,
 * merged or not, are added to it as one entry (or a few, when large), positioned when the commit
 * is built, so a log entry costs one KV mutation per commit instead of one per operation.
 */
export interface AppendLog {
  /** Adds `values` to `op` as entries; returns their positions, for `settled`. */
  add(op: Deno.AtomicOperation, values: unknown[]): bigint[];
  /** The commit holding `positions` ended (`ok`: it committed). */
  settled(positions: bigint[], ok: boolean): void;
}

/**
 * What the storage writes use of an atomic operation. `Deno.AtomicOperation` has it, and so has
 * the group committer's recorder, so a write is built the same way for either.
 */
export interface AtomicWrites {
  check(...checks: Deno.AtomicCheck[]): this;
  set(key: Deno.KvKey, value: unknown): this;
  delete(key: Deno.KvKey): this;
  sum(key: Deno.KvKey, n: bigint): this;
  commit(): Promise<CommitOutcome>;
}

type Mutation =
  | { type: "set"; key: Deno.KvKey; value: unknown; expireIn?: number }
  | { type: "delete"; key: Deno.KvKey }
  | { type: "sum" | "min" | "max"; key: Deno.KvKey; value: Deno.KvU64 };

interface Enqueued {
  value: unknown;
  options?: { delay?: number; keysIfUndelivered?: Deno.KvKey[]; backoffSchedule?: number[] };
}

/** What one recorded operation touches, computed once when it is queued. */
interface Pending {
  checks: Deno.AtomicCheck[];
  /** `keyId` of each check, in order. */
  checkIds: string[];
  mutations: Mutation[];
  enqueues: Enqueued[];
  /** Values for the append log, added as one entry with those of the ops merged with it. */
  appends: unknown[];
  /** Checked key -> versionstamp. */
  checked: Map<string, string | null>;
  /** Keys mutated by anything other than a sum. */
  written: Set<string>;
  /** Keys only summed. */
  summed: Set<string>;
  bytes: number;
  keyBytes: number;
  resolve: (r: CommitOutcome) => void;
  reject: (e: unknown) => void;
}

/**
 * An identity string for a KV key: each part as its type, length and text, so ["1"] and [1]
 * differ and no two keys can spell the same string. Built for every key of every queued op.
 */
export function keyId(key: Deno.KvKey): string {
  let s = "";
  for (const p of key) {
    const text = p instanceof Uint8Array ? hex(p) : String(p);
    s += PART_TYPE[typeof p] + text.length + ":" + text;
  }
  return s;
}

const PART_TYPE: Record<string, string> = {
  string: "s",
  number: "n",
  bigint: "i",
  boolean: "b",
  object: "u",
};

function utf8Len(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  return n;
}

function keySize(key: Deno.KvKey): number {
  let n = 0;
  for (const p of key) {
    if (typeof p === "string") n += utf8Len(p) + 2;
    else if (p instanceof Uint8Array) n += p.byteLength * 2 + 2;
    else n += 12;
  }
  return n;
}

/** An upper estimate of a value's serialized size (V8 serialization, two-byte strings). */
export function valueSize(v: unknown, depth = 0): number {
  if (depth > 64) return 1 << 20;
  if (typeof v === "string") return v.length * 2 + 6;
  if (v === null || v === undefined || typeof v !== "object") return 12;
  if (v instanceof Deno.KvU64) return 12;
  if (ArrayBuffer.isView(v)) return v.byteLength + 12;
  if (v instanceof ArrayBuffer) return v.byteLength + 12;
  let n = 8;
  if (Array.isArray(v)) {
    for (const x of v) n += valueSize(x, depth + 1);
    return n;
  }
  if (v instanceof Map) {
    for (const [k, x] of v) n += valueSize(k, depth + 1) + valueSize(x, depth + 1);
    return n;
  }
  for (const k in v as Record<string, unknown>) {
    n += k.length * 2 + 6 + valueSize((v as Record<string, unknown>)[k], depth + 1);
  }
  return n;
}

/** The recorder `GroupCommitter.atomic()` returns: an atomic operation's writing methods. */
export class GroupAtomic implements AtomicWrites {
  #checks: Deno.AtomicCheck[] = [];
  #mutations: Mutation[] = [];
  #enqueues: Enqueued[] = [];
  #appends: unknown[] = [];
  #committed = false;

  constructor(private readonly committer: GroupCommitter) {}

  check(...checks: Deno.AtomicCheck[]): this {
    for (const c of checks) this.#checks.push({ key: c.key, versionstamp: c.versionstamp });
    return this;
  }

  mutate(...mutations: Deno.KvMutation[]): this {
    for (const m of mutations) {
      if (m.type === "set") this.set(m.key, m.value, { expireIn: m.expireIn });
      else if (m.type === "delete") this.delete(m.key);
      else this.#mutations.push({ type: m.type, key: m.key, value: m.value });
    }
    return this;
  }

  sum(key: Deno.KvKey, n: bigint): this {
    this.#mutations.push({ type: "sum", key, value: new Deno.KvU64(n) });
    return this;
  }

  min(key: Deno.KvKey, n: bigint): this {
    this.#mutations.push({ type: "min", key, value: new Deno.KvU64(n) });
    return this;
  }

  max(key: Deno.KvKey, n: bigint): this {
    this.#mutations.push({ type: "max", key, value: new Deno.KvU64(n) });
    return this;
  }

  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }): this {
    this.#mutations.push({ type: "set", key, value, expireIn: options?.expireIn });
    return this;
  }

  delete(key: Deno.KvKey): this {
    this.#mutations.push({ type: "delete", key });
    return this;
  }

  enqueue(value: unknown, options?: Enqueued["options"]): this {
    this.#enqueues.push({ value, options });
    return this;
  }

  /** Adds a value to the committer's append log, in the entry of the commit this op is part of. */
  append(value: unknown): this {
    this.#appends.push(value);
    return this;
  }

  commit(): Promise<CommitOutcome> {
    if (this.#committed) return Promise.reject(new TypeError("Atomic operation already committed"));
    this.#committed = true;
    return this.committer.submit(this.#checks, this.#mutations, this.#enqueues, this.#appends);
  }
}

const U64 = (1n << 64n) - 1n;

/**
 * Applies recorded ops (one, or a batch of independent ones) to a real atomic operation.
 * Identical checks (same key and
 * versionstamp: every write of a bucket checks its bucket entry) are made once, and the sums on
 * one key are added up into one sum (u64 sums wrap, so adding the deltas first is the same):
 * a batch of PUTs touches the same few counters many times, and each sum is a read and a write
 * of that row for SQLite.
 */
function apply(op: Deno.AtomicOperation, batch: Pending[]): void {
  const seen = new Set<string>();
  const sums = new Map<string, { key: Deno.KvKey; n: bigint }>();
  for (const p of batch) {
    p.checks.forEach((c, i) => {
      const id = `${p.checkIds[i]}@${c.versionstamp}`;
      if (seen.has(id)) return;
      seen.add(id);
      op.check(c);
    });
    for (const m of p.mutations) {
      const id = m.type === "sum" ? keyId(m.key) : "";
      // A key the op also sets keeps its place in the op's order.
      if (m.type === "sum" && !p.written.has(id)) {
        const s = sums.get(id);
        if (s) s.n = (s.n + m.value.value) & U64;
        else sums.set(id, { key: m.key, n: m.value.value });
      } else if (m.type === "set") {
        op.set(m.key, m.value, m.expireIn === undefined ? undefined : { expireIn: m.expireIn });
      } else if (m.type === "delete") op.delete(m.key);
      else op[m.type](m.key, m.value.value);
    }
    for (const e of p.enqueues) op.enqueue(e.value, e.options);
  }
  for (const s of sums.values()) op.sum(s.key, s.n);
}

export class GroupCommitter {
  #queue: Pending[] = [];
  /** Whether a batch is with KV (one at a time: a second in flight bought nothing measurable). */
  #busy = false;
  /** Commits issued to KV (merged or single), for tests and diagnostics. */
  commits = 0;
  /** Merged commits that failed or threw and were replayed one by one. */
  fallbacks = 0;

  /**
   * `send`: how a built operation of `writes` merged writes is committed (the metadata store
   * retries it while SQLite is busy, see busy_retry.ts, and times it for metrics). `log`: where
   * appended values go (none: `append` is refused).
   */
  constructor(
    private readonly kv: Deno.Kv,
    private readonly limits: GroupLimits = DEFAULT_GROUP_LIMITS,
    private readonly send: (op: Deno.AtomicOperation, writes: number) => Promise<CommitOutcome> = (
      op,
    ) => op.commit(),
    private readonly log: AppendLog | null = null,
  ) {}

  /** A recorder whose `commit()` goes through this committer. */
  atomic(): GroupAtomic {
    return new GroupAtomic(this);
  }

  submit(
    checks: Deno.AtomicCheck[],
    mutations: Mutation[],
    enqueues: Enqueued[],
    appends: unknown[] = [],
  ): Promise<CommitOutcome> {
    if (appends.length && !this.log) {
      return Promise.reject(new TypeError("This committer has no append log"));
    }
    return new Promise((resolve, reject) => {
      const p: Pending = {
        checks,
        checkIds: [],
        mutations,
        enqueues,
        appends,
        checked: new Map(),
        written: new Set(),
        summed: new Set(),
        bytes: 0,
        keyBytes: 0,
        resolve,
        reject,
      };
      for (const c of checks) {
        const id = keyId(c.key);
        p.checkIds.push(id);
        // Two checks of one key with different stamps cannot both pass: never merge this op.
        if (p.checked.has(id) && p.checked.get(id) !== c.versionstamp) p.bytes = Infinity;
        p.checked.set(id, c.versionstamp);
        p.keyBytes += keySize(c.key);
      }
      for (const m of mutations) {
        const id = keyId(m.key);
        const ks = keySize(m.key);
        p.keyBytes += ks;
        p.bytes += ks + (m.type === "delete" ? 0 : valueSize(m.value));
        if (m.type === "sum") p.summed.add(id);
        else p.written.add(id);
      }
      for (const e of enqueues) p.bytes += valueSize(e.value) + 64;
      for (const a of appends) p.bytes += valueSize(a) + 16;
      for (const id of p.written) p.summed.delete(id);
      this.#queue.push(p);
      this.#run();
    });
  }

  /** Hands the next batch to KV when none is there and the queue has any. */
  #run(): void {
    if (this.#busy || !this.#queue.length) return;
    const batch = this.#takeBatch();
    this.#busy = true;
    const done = batch.length === 1 ? this.#commitOne(batch[0]) : this.#commitMerged(batch);
    done.finally(() => {
      this.#busy = false;
      this.#run();
    });
  }

  /**
   * The next batch: the oldest queued op, then every later one independent of all ops taken or
   * passed over before it (so two conflicting ops always commit in queue order), within the
   * limits. An op over the limits on its own goes alone. The rest stays queued, in order. Never
   * empty while the queue is not.
   */
  #takeBatch(): Pending[] {
    const lim = this.limits;
    const fits = (p: Pending) =>
      p.checks.length <= lim.checks && p.mutations.length <= lim.mutations &&
      p.bytes <= lim.bytes && p.keyBytes <= lim.keyBytes;
    // Claims by ops taken or passed over: key -> stamp checked, or written, or summed.
    const checked = new Map<string, string | null>();
    const written = new Set<string>();
    const summed = new Set<string>();
    const claim = (p: Pending) => {
      for (const [id, st] of p.checked) if (!checked.has(id)) checked.set(id, st);
      for (const id of p.written) written.add(id);
      for (const id of p.summed) summed.add(id);
    };
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    let nChecks = 0;
    let nMut = 0;
    let bytes = 0;
    let keyBytes = 0;
    // Closed once an op too large to share a commit was taken alone.
    let open = true;
    for (const p of this.#queue) {
      const independent = conflictFree(p, checked, written, summed);
      if (open && independent && batch.length === 0 && !fits(p)) {
        batch.push(p);
        open = false;
      } else if (
        open && independent && fits(p) &&
        nChecks + p.checks.length <= lim.checks &&
        nMut + p.mutations.length + p.enqueues.length + p.appends.length <= lim.mutations &&
        bytes + p.bytes <= lim.bytes && keyBytes + p.keyBytes <= lim.keyBytes
      ) {
        batch.push(p);
        nChecks += p.checks.length;
        nMut += p.mutations.length + p.enqueues.length + p.appends.length;
        bytes += p.bytes;
        keyBytes += p.keyBytes;
      } else {
        rest.push(p);
      }
      // Either way its keys are claimed: a later op touching them must wait behind it.
      claim(p);
    }
    this.#queue = rest;
    return batch;
  }

  async #commitOne(p: Pending): Promise<void> {
    try {
      p.resolve(await this.#commit([p]));
    } catch (e) {
      p.reject(e);
    }
  }

  /** Builds and sends one KV commit of `batch`, its appended values in one log entry. */
  async #commit(batch: Pending[]): Promise<CommitOutcome> {
    const op = this.kv.atomic();
    apply(op, batch);
    const values = batch.length === 1 ? batch[0].appends : batch.flatMap((p) => p.appends);
    const positions = values.length && this.log ? this.log.add(op, values) : null;
    this.commits++;
    let ok = false;
    try {
      const res = await this.send(op, batch.length);
      ok = res.ok;
      return res;
    } finally {
      if (positions) this.log!.settled(positions, ok);
    }
  }

  async #commitMerged(batch: Pending[]): Promise<void> {
    let res: CommitOutcome | null = null;
    try {
      res = await this.#commit(batch);
    } catch {
      res = null;
    }
    if (res?.ok) {
      for (const p of batch) p.resolve({ ok: true, versionstamp: res.versionstamp });
      return;
    }
    // Some op's check failed (or the merged op was refused): each op learns its own outcome.
    this.fallbacks++;
    for (const p of batch) await this.#commitOne(p);
  }
}

/** True when `p` neither checks nor touches a key the claims mutate, nor mutates a claimed key. */
function conflictFree(
  p: Pending,
  checked: Map<string, string | null>,
  written: Set<string>,
  summed: Set<string>,
): boolean {
  for (const [id, stamp] of p.checked) {
    if (written.has(id) || summed.has(id)) return false;
    if (checked.has(id) && checked.get(id) !== stamp) return false;
  }
  for (const id of p.written) {
    if (written.has(id) || summed.has(id) || checked.has(id)) return false;
  }
  for (const id of p.summed) {
    if (written.has(id) || checked.has(id)) return false;
  }
  return true;
}
