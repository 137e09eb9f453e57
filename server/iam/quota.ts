/**
 * Tenant usage counters in Deno KV and quota enforcement inside the storage commit that
 * publishes a write. `["tstat", ns, "bytes" | "objects" | "buckets"]` (KvU64) are summed in the
 * same atomic commit as the bucket counters; when a quota applies, the commit also checks the
 * versionstamps of the stored and reserved counters (the same pair `reservePart` checks), so
 * concurrent object writes and part reservations of one tenant serialize on them and can never
 * overshoot the quota together.
 */
import { S3Error } from "../s3/errors.ts";
import {
  bucketIdKey,
  bucketPrefix,
  bucketStatKey,
  u64Delta,
  uploadKey,
} from "../storage/meta/keys.ts";
import type { CommitHook } from "../storage/core.ts";
import { deletePrefix } from "../storage/meta/delete_keys.ts";
import type { BucketRecord } from "../storage/types.ts";

export type TenantStat = "bytes" | "objects" | "buckets" | "reserved";

/** ["tstat", ns, stat] -> Deno.KvU64: usage of a bucket namespace ("" = global). */
export const tenantStatKey = (ns: string, stat: TenantStat): Deno.KvKey => ["tstat", ns, stat];
/** ["tstatmeta"] -> { v, initializedAt }: set once the counters were computed from buckets. */
export const TENANT_STAT_META: Deno.KvKey = ["tstatmeta"];

export interface QuotaLimits {
  maxBytes: number | null;
  maxBuckets: number | null;
}

export interface TenantUsage {
  bytes: number;
  objects: number;
  buckets: number;
  /** Bytes reserved by parts of open multipart uploads (see `reservePart`). */
  reserved: number;
}

export async function readUsage(kv: Deno.Kv, ns: string): Promise<TenantUsage> {
  const [b, o, k, r] = await kv.getMany<[Deno.KvU64, Deno.KvU64, Deno.KvU64, Deno.KvU64]>([
    tenantStatKey(ns, "bytes"),
    tenantStatKey(ns, "objects"),
    tenantStatKey(ns, "buckets"),
    tenantStatKey(ns, "reserved"),
  ]);
  const n = (e: Deno.KvEntryMaybe<Deno.KvU64>) => signed(e.value?.value ?? 0n);
  return { bytes: n(b), objects: n(o), buckets: n(k), reserved: n(r) };
}

/** Counters wrap as u64; a transiently "negative" value reads as negative, not 2^64. */
function signed(v: bigint): number {
  return Number(v >= 1n << 63n ? v - (1n << 64n) : v);
}

/**
 * The storage commit hook: keeps the tenant counters and refuses writes over quota
 * (`QuotaExceeded` for bytes, `TooManyBuckets` for buckets).
 */
export function tenantQuotaHook(
  kv: Deno.Kv,
  limitsOf: (ns: string) => QuotaLimits | null,
): CommitHook {
  const nsById = new Map<string, string>();
  const resolveNs = async (bucketId: string): Promise<string | null> => {
    const known = nsById.get(bucketId);
    if (known !== undefined) return known;
    const e = await kv.get<{ ns: string }>(bucketIdKey(bucketId));
    if (!e.value) return null;
    nsById.set(bucketId, e.value.ns);
    return e.value.ns;
  };
  return async (op, change) => {
    const ns = change.ns ?? await resolveNs(change.bucketId);
    if (ns === null) return;
    if (change.bytes) op.sum(tenantStatKey(ns, "bytes"), u64Delta(change.bytes));
    if (change.objects) op.sum(tenantStatKey(ns, "objects"), u64Delta(change.objects));
    if (change.buckets) op.sum(tenantStatKey(ns, "buckets"), u64Delta(change.buckets));
    // A completing upload hands its reservation over to the stored bytes in the same commit,
    // so its parts are never counted twice (reserved and stored) and never dropped early.
    const own = change.uploadId
      ? await kv.get<Deno.KvU64>(reservationKey(ns, change.uploadId))
      : null;
    const ownBytes = own?.value ? signed(own.value.value) : 0;
    if (own?.value) {
      op.check(own).sum(tenantStatKey(ns, "reserved"), u64Delta(-ownBytes)).delete(own.key);
    }
    if (change.bytes <= 0 && change.buckets <= 0) return;
    const limits = limitsOf(ns);
    if (!limits) return;
    if (change.bytes > 0 && limits.maxBytes !== null) {
      // The one byte check of every write path (PUT, COPY, POST, Complete): stored + reserved,
      // checked on both counters' versionstamps, exactly as `reservePart` checks them, so
      // object writes and part reservations serialize on the same pair of counters.
      const [b, r] = await kv.getMany<[Deno.KvU64, Deno.KvU64]>([
        tenantStatKey(ns, "bytes"),
        tenantStatKey(ns, "reserved"),
      ]);
      const used = signed(b.value?.value ?? 0n) + signed(r.value?.value ?? 0n) - ownBytes;
      if (used + change.bytes > limits.maxBytes) throw new S3Error("QuotaExceeded");
      op.check(b, r);
    }
    if (change.buckets > 0 && limits.maxBuckets !== null) {
      const e = await kv.get<Deno.KvU64>(tenantStatKey(ns, "buckets"));
      if (signed(e.value?.value ?? 0n) + change.buckets > limits.maxBuckets) {
        throw new S3Error("TooManyBuckets");
      }
      op.check(e);
    }
  };
}

/**
 * Computes the tenant counters from the bucket counters once (data written before the counters
 * existed). Runs at start, before the listeners open.
 */
export async function initTenantUsage(kv: Deno.Kv): Promise<void> {
  if ((await kv.get(TENANT_STAT_META)).value) return;
  const totals = new Map<string, Omit<TenantUsage, "reserved">>();
  for await (const e of kv.list<BucketRecord>({ prefix: ["bucket"] })) {
    if (e.key.length !== 3) continue;
    const b = e.value;
    const t = totals.get(b.ns) ?? { bytes: 0, objects: 0, buckets: 0 };
    const [o, by] = await kv.getMany<[Deno.KvU64, Deno.KvU64]>([
      bucketStatKey(b.id, "objects"),
      bucketStatKey(b.id, "bytes"),
    ]);
    t.objects += Number(o.value?.value ?? 0n);
    t.bytes += Number(by.value?.value ?? 0n);
    t.buckets += 1;
    totals.set(b.ns, t);
  }
  for (const [ns, t] of totals) {
    const op = kv.atomic();
    for (const stat of ["bytes", "objects", "buckets"] as const) {
      op.set(tenantStatKey(ns, stat), new Deno.KvU64(BigInt(t[stat])));
    }
    await op.commit();
  }
  await kv.set(TENANT_STAT_META, { v: 1, initializedAt: Date.now() });
}

/**
 * Recomputes every tenant counter from the bucket counters (admin CLI, server stopped): a repair
 * for counters that drifted, e.g. after restoring KV from a backup.
 */
export async function recountTenantUsage(kv: Deno.Kv): Promise<void> {
  await deletePrefix(kv, ["tstat"]);
  await kv.delete(TENANT_STAT_META);
  await initTenantUsage(kv);
  await reconcileReservations(kv);
  const reserved = new Map<string, bigint>();
  for await (const e of kv.list<Deno.KvU64>({ prefix: ["tresv"] })) {
    const ns = e.key[1] as string;
    reserved.set(ns, (reserved.get(ns) ?? 0n) + e.value.value);
  }
  for (const [ns, v] of reserved) await kv.set(tenantStatKey(ns, "reserved"), new Deno.KvU64(v));
}

/**
 * ["tresv", ns, uploadId] -> Deno.KvU64: bytes reserved by accepted UploadPart requests of one
 * open upload; their sum per tenant is `["tstat", ns, "reserved"]`.
 */
export const reservationKey = (ns: string, uploadId: string): Deno.KvKey => [
  "tresv",
  ns,
  uploadId,
];

/**
 * Reserves room for an UploadPart before its body is read: one commit, checked against the
 * stored and reserved counters, so parallel parts cannot together pass the quota. The
 * reservation is released when the upload ends (Abort, expiry; Complete converts it into stored
 * bytes in its publishing commit), when the part fails, or when a later part of the same number
 * replaces it (`settlePart`).
 */
export async function reservePart(
  kv: Deno.Kv,
  ns: string,
  uploadId: string,
  len: number,
  maxBytes: number,
): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const [b, r] = await kv.getMany<[Deno.KvU64, Deno.KvU64]>([
      tenantStatKey(ns, "bytes"),
      tenantStatKey(ns, "reserved"),
    ]);
    const used = signed(b.value?.value ?? 0n) + signed(r.value?.value ?? 0n);
    if (used + len > maxBytes) throw new S3Error("QuotaExceeded");
    const res = await kv.atomic().check(b, r)
      .sum(tenantStatKey(ns, "reserved"), u64Delta(len))
      .sum(reservationKey(ns, uploadId), u64Delta(len))
      .commit();
    if (res.ok) return;
  }
  throw new S3Error("OperationAborted");
}

/**
 * ["tresvp", ns, uploadId, partNumber] -> Deno.KvU64: the reservation held by the stored part of
 * that number, so that a re-uploaded part releases the one it replaces.
 */
const partReservationKey = (ns: string, uploadId: string, partNumber: number) => [
  "tresvp",
  ns,
  uploadId,
  partNumber,
];

/**
 * Settles a successful UploadPart: the part of that number it replaced (if any) gives back its
 * reservation, and the new part's length is remembered under its number.
 */
export async function settlePart(
  kv: Deno.Kv,
  ns: string,
  uploadId: string,
  partNumber: number,
  len: number,
): Promise<void> {
  const pKey = partReservationKey(ns, uploadId, partNumber);
  for (let attempt = 0; attempt < 50; attempt++) {
    const [total, prev] = await kv.getMany<[Deno.KvU64, Deno.KvU64]>([
      reservationKey(ns, uploadId),
      pKey,
    ]);
    if (!total.value) return; // the upload ended meanwhile and released everything
    const have = signed(total.value.value);
    const give = Math.min(prev.value ? signed(prev.value.value) : 0, have);
    const op = kv.atomic().check(total, prev).set(pKey, new Deno.KvU64(BigInt(len)));
    if (give > 0) {
      op.sum(tenantStatKey(ns, "reserved"), u64Delta(-give)).sum(total.key, u64Delta(-give));
    }
    if ((await op.commit()).ok) return;
  }
}

/** Releases `len` bytes of an upload's reservation (a failed part), or all of it with null. */
export async function releaseReservation(
  kv: Deno.Kv,
  ns: string,
  uploadId: string,
  len: number | null,
): Promise<void> {
  if (len === null) {
    // The per-part entries only matter while the upload is open.
    await deletePrefix(kv, ["tresvp", ns, uploadId]);
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    const e = await kv.get<Deno.KvU64>(reservationKey(ns, uploadId));
    if (!e.value) return;
    const have = signed(e.value.value);
    const take = len === null ? have : Math.min(len, have);
    const op = kv.atomic().check(e).sum(tenantStatKey(ns, "reserved"), u64Delta(-take));
    if (take >= have) op.delete(e.key);
    else op.sum(e.key, u64Delta(-take));
    if ((await op.commit()).ok) return;
  }
}

/** Releases the reservations of uploads that no longer exist (expired or gone with a bucket). */
export async function reconcileReservations(kv: Deno.Kv): Promise<number> {
  const found = new Map<string, [string, string]>();
  for (const prefix of ["tresv", "tresvp"]) {
    for await (const e of kv.list({ prefix: [prefix] })) {
      const [ns, uploadId] = [e.key[1] as string, e.key[2] as string];
      found.set(`${ns}\n${uploadId}`, [ns, uploadId]);
    }
  }
  let released = 0;
  for (const [ns, uploadId] of found.values()) {
    if ((await kv.get(uploadKey(uploadId))).value) continue;
    await releaseReservation(kv, ns, uploadId, null);
    released++;
  }
  return released;
}

/** Whether the namespace holds any bucket (tenant deletion is refused while it does). */
export async function namespaceHasBuckets(kv: Deno.Kv, ns: string): Promise<boolean> {
  for await (const _ of kv.list({ prefix: bucketPrefix(ns) }, { limit: 1 })) return true;
  return false;
}
