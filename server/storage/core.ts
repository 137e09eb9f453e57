/** Shared state of the local storage implementation: KV, blob files, clock and log. */
import type { BlobStore } from "./blob/blob_store.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { StatChange, UsageAccounting } from "./usage.ts";

export interface StorageCore {
  kv: Deno.Kv;
  /**
   * A new atomic operation for the object write paths: its commit goes through the group
   * committer (`meta/group_commit.ts`), which merges independent concurrent commits into one KV
   * transaction. Same results as `kv.atomic()`.
   */
  atomic(): Deno.AtomicOperation;
  blobs: BlobStore;
  clock: Clock;
  log: Logger;
  /**
   * Extra emptiness checks for DeleteBucket (noncurrent versions, open uploads...): each returns
   * true when the bucket holds nothing of its kind.
   */
  bucketEmptyChecks: ((bucketId: string) => Promise<boolean>)[];
  /**
   * Tenant usage and quotas: `commitWithUsage` has it add its counter sums (and checks) to every
   * commit that changes a bucket's counters or creates or deletes a bucket (once per attempt), or
   * refuse the write with an S3Error (quotas).
   */
  usage: UsageAccounting;
}

/**
 * A piece of in-memory state one storage core keeps (its caches, its listing copy, its new-key
 * guesses), made on first use by `make`. The owning module declares one slot and reaches its
 * state with `stateOf(core, slot)`; the state lives and goes with the core.
 */
export class StateSlot<T> {
  constructor(readonly make: (core: StorageCore) => T) {}
}

const coreStates = new WeakMap<StorageCore, Map<StateSlot<unknown>, unknown>>();

function statesOf(core: StorageCore): Map<StateSlot<unknown>, unknown> {
  let m = coreStates.get(core);
  if (!m) coreStates.set(core, m = new Map());
  return m;
}

/** The core's state for `slot`, made now if the core has none yet. */
export function stateOf<T>(core: StorageCore, slot: StateSlot<T>): T {
  const m = statesOf(core);
  if (m.has(slot)) return m.get(slot) as T;
  const v = slot.make(core);
  m.set(slot, v);
  return v;
}

/** Installs the core's state for `slot` (at open, before anything used the default one). */
export function setState<T>(core: StorageCore, slot: StateSlot<T>, value: T): void {
  statesOf(core).set(slot, value);
}

// Per-operation scratch: counter changes noted while an atomic operation is being built.
const notedChanges = new WeakMap<Deno.AtomicOperation, StatChange>();

/** Notes a counter change made by `op`, for the usage accounting. */
export function noteStatChange(
  op: Deno.AtomicOperation,
  change: Partial<StatChange> & { bucketId: string },
): void {
  const cur = notedChanges.get(op) ??
    { bucketId: change.bucketId, objects: 0, bytes: 0, buckets: 0 };
  cur.objects += change.objects ?? 0;
  cur.bytes += change.bytes ?? 0;
  cur.buckets += change.buckets ?? 0;
  cur.ns ??= change.ns;
  cur.uploadId ??= change.uploadId;
  notedChanges.set(op, cur);
}

/** Adds the usage accounting of the changes noted on `op` (quotas may refuse), then commits it. */
export async function commitWithUsage(
  core: StorageCore,
  op: Deno.AtomicOperation,
): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
  const change = notedChanges.get(op);
  if (change) await core.usage.account(op, change);
  return await op.commit();
}

/**
 * The blob files an object record owns (one blob, or its parts; none for inline bytes, which
 * live in KV). A chunked multipart layout (part
 * list not inline) is represented by `${partsId}.`: a name in its parts' blob group that is
 * never a file, so reference bookkeeping (`blobGroup`) stays right; the part files themselves
 * are removed by the multipart maintenance once the group's reference is gone.
 */
export function blobsOf(
  rec: { blob: string | null; inline?: true; parts?: { blob: string }[]; partsId?: string },
): string[] {
  if (rec.inline) return [];
  if (rec.blob) return [rec.blob];
  if (!rec.parts && rec.partsId) return [`${rec.partsId}.`];
  return rec.parts?.map((p) => p.blob) ?? [];
}

/**
 * The reference-index id of a blob: blobs named `group.rest` (multipart parts) share the
 * reference of their group, so a 10,000-part object needs one index entry, not 10,000.
 */
export function blobGroup(blobId: string): string {
  const dot = blobId.indexOf(".");
  return dot < 0 ? blobId : blobId.slice(0, dot);
}
