/**
 * Tenant usage counters and quota enforcement (tenants' and buckets'), owned by storage. `["tstat", ns, "bytes" |
 * "objects" | "buckets"]` (KvU64) are summed in the same atomic commit as the bucket counters
 * (`account`); when a quota applies, that commit also checks the versionstamps of the stored and
 * reserved counters (the same pair `reserve` checks), so concurrent object writes and part
 * reservations of one tenant serialize on them and can never overshoot the quota together. The
 * limits come from the `QuotaPolicy` given at open (IAM's tenants).
 */
import { S3Error } from "../../s3/errors.ts";
import type { Clock } from "../../clock.ts";
import {
  bucketIdKey,
  bucketStatKey,
  partReservationKey,
  reservationKey,
  TENANT_STAT_META,
  tenantStatKey,
  u64Delta,
  uploadKey,
} from "../meta/keys.ts";
import { deletePrefix } from "../meta/delete_keys.ts";
import { MemoCache } from "../meta/memo_cache.ts";
import type {
  BucketQuotaLimits,
  BucketRecord,
  QuotaPolicy,
  TenantUsage,
  UsageLedger,
} from "../types.ts";
import type { MetaStore, MetaWrite } from "../meta/store.ts";

/** What one commit changes: deltas of a bucket's object count and bytes, and of bucket count. */
export interface StatChange {
  bucketId: string;
  /** The bucket's namespace when the caller knows it (resolved from the id otherwise). */
  ns?: string;
  objects: number;
  bytes: number;
  buckets: number;
  /** A multipart upload this commit completes (its part reservation is settled). */
  uploadId?: string;
}

/** Counters wrap as u64; a transiently "negative" value reads as negative, not 2^64. */
function signed(v: bigint): number {
  return Number(v >= 1n << 63n ? v - (1n << 64n) : v);
}

const u64 = (e: Deno.KvEntryMaybe<Deno.KvU64>) => signed(e.value?.value ?? 0n);

export class UsageAccounting implements UsageLedger {
  /**
   * Bucket id -> namespace, for changes whose caller did not know it (ids never move; a
   * deleted bucket's entry is never asked for again). Bounded in bytes, as every cache keyed by
   * bucket: ~100 bytes an entry, so 1 MiB holds 10,000 buckets and past that a few are read again.
   */
  readonly #nsById = new MemoCache<string | null>({
    maxBytes: 1024 * 1024,
    keep: (v) => v !== null,
  });

  constructor(
    private readonly meta: MetaStore,
    private readonly policy: QuotaPolicy | null,
    private readonly clock: Clock,
  ) {}

  async read(ns: string): Promise<TenantUsage> {
    const [b, o, k, r] = await this.meta.getMany<[Deno.KvU64, Deno.KvU64, Deno.KvU64, Deno.KvU64]>([
      tenantStatKey(ns, "bytes"),
      tenantStatKey(ns, "objects"),
      tenantStatKey(ns, "buckets"),
      tenantStatKey(ns, "reserved"),
    ]);
    return { bytes: u64(b), objects: u64(o), buckets: u64(k), reserved: u64(r) };
  }

  #resolveNs(bucketId: string): Promise<string | null> {
    return this.#nsById.get(bucketId, async () => {
      return (await this.meta.get<{ ns: string }>(bucketIdKey(bucketId))).value?.ns ?? null;
    });
  }

  /**
   * Adds a commit's tenant counter sums to `op` and refuses writes over quota (`QuotaExceeded`
   * for bytes, `TooManyBuckets` for buckets) before anything is committed.
   */
  async account(op: MetaWrite, change: StatChange): Promise<void> {
    const meta = this.meta;
    const ns = change.ns ?? await this.#resolveNs(change.bucketId);
    if (ns === null) return;
    if (change.bytes) op.sum(tenantStatKey(ns, "bytes"), u64Delta(change.bytes));
    if (change.objects) op.sum(tenantStatKey(ns, "objects"), u64Delta(change.objects));
    if (change.buckets) op.sum(tenantStatKey(ns, "buckets"), u64Delta(change.buckets));
    // A completing upload hands its reservation over to the stored bytes in the same commit,
    // so its parts are never counted twice (reserved and stored) and never dropped early.
    const own = change.uploadId
      ? await meta.get<Deno.KvU64>(reservationKey(ns, change.uploadId))
      : null;
    const ownBytes = own?.value ? signed(own.value.value) : 0;
    if (own?.value) {
      op.check(own).sum(tenantStatKey(ns, "reserved"), u64Delta(-ownBytes)).delete(own.key);
    }
    if (change.bytes > 0 || change.objects > 0) {
      const bucketLimits = this.policy?.bucketLimitsOf?.(change.bucketId);
      if (bucketLimits) await this.#checkBucket(op, change, bucketLimits);
    }
    if (change.bytes <= 0 && change.buckets <= 0) return;
    const limits = this.policy?.limitsOf(ns);
    if (!limits) return;
    if (change.bytes > 0 && limits.maxBytes !== null) {
      // The one byte check of every write path (PUT, COPY, POST, Complete): stored + reserved,
      // checked on both counters' versionstamps, exactly as `reserve` checks them, so object
      // writes and part reservations serialize on the same pair of counters.
      const [b, r] = await meta.getMany<[Deno.KvU64, Deno.KvU64]>([
        tenantStatKey(ns, "bytes"),
        tenantStatKey(ns, "reserved"),
      ]);
      if (u64(b) + u64(r) - ownBytes + change.bytes > limits.maxBytes) {
        throw new S3Error("QuotaExceeded");
      }
      op.check(b, r);
    }
    if (change.buckets > 0 && limits.maxBuckets !== null) {
      const e = await meta.get<Deno.KvU64>(tenantStatKey(ns, "buckets"));
      if (u64(e) + change.buckets > limits.maxBuckets) throw new S3Error("TooManyBuckets");
      op.check(e);
    }
  }

  /**
   * A bucket's quota, checked on the bucket's counters, which this commit sums: checking their
   * versionstamps makes concurrent writes to a bucket with a quota serialize, so they can never
   * pass it together. Parts of multipart uploads are not reserved against it: the Complete that
   * would pass it is refused.
   */
  async #checkBucket(op: MetaWrite, change: StatChange, limits: BucketQuotaLimits): Promise<void> {
    const [o, b] = await this.meta.getMany<[Deno.KvU64, Deno.KvU64]>([
      bucketStatKey(change.bucketId, "objects"),
      bucketStatKey(change.bucketId, "bytes"),
    ]);
    const over = (change.bytes > 0 && limits.maxBytes !== null &&
      u64(b) + change.bytes > limits.maxBytes) ||
      (change.objects > 0 && limits.maxObjects !== null &&
        u64(o) + change.objects > limits.maxObjects);
    if (over) {
      throw new S3Error("QuotaExceeded", {
        message: "The bucket quota would be exceeded by this request.",
      });
    }
    op.check(o, b);
  }

  /**
   * Computes the tenant counters from the bucket counters once (data written before the counters
   * existed). Runs at open, before anything else writes.
   */
  async init(): Promise<void> {
    const meta = this.meta;
    if ((await meta.get(TENANT_STAT_META)).value) return;
    const totals = new Map<string, Omit<TenantUsage, "reserved">>();
    for await (const e of meta.list<BucketRecord>({ prefix: ["bucket"] })) {
      if (e.key.length !== 3) continue;
      const b = e.value;
      const t = totals.get(b.ns) ?? { bytes: 0, objects: 0, buckets: 0 };
      const [o, by] = await meta.getMany<[Deno.KvU64, Deno.KvU64]>([
        bucketStatKey(b.id, "objects"),
        bucketStatKey(b.id, "bytes"),
      ]);
      t.objects += u64(o);
      t.bytes += u64(by);
      t.buckets += 1;
      totals.set(b.ns, t);
    }
    for (const [ns, t] of totals) {
      const op = meta.write();
      for (const stat of ["bytes", "objects", "buckets"] as const) {
        op.set(tenantStatKey(ns, stat), new Deno.KvU64(BigInt(t[stat])));
      }
      await op.commit();
    }
    await meta.set(TENANT_STAT_META, { v: 1, initializedAt: this.clock.now() });
  }

  /**
   * Recomputes every tenant counter from the bucket counters (admin CLI, server stopped): a
   * repair for counters that drifted, e.g. after restoring KV from a backup.
   */
  async recount(): Promise<void> {
    const meta = this.meta;
    await deletePrefix(meta.writer, ["tstat"]);
    await meta.delete(TENANT_STAT_META);
    await this.init();
    await this.reconcile();
    const reserved = new Map<string, bigint>();
    for await (const e of meta.list<Deno.KvU64>({ prefix: ["tresv"] })) {
      const ns = e.key[1] as string;
      reserved.set(ns, (reserved.get(ns) ?? 0n) + e.value.value);
    }
    for (const [ns, v] of reserved) {
      await meta.set(tenantStatKey(ns, "reserved"), new Deno.KvU64(v));
    }
  }

  /**
   * One commit, checked against the stored and reserved counters, so parallel parts cannot
   * together pass the quota. The reservation is released when the upload ends (Abort, expiry;
   * Complete converts it into stored bytes in its publishing commit), when the part fails, or
   * when a later part of the same number replaces it (`commit`).
   */
  async reserve(ns: string, uploadId: string, len: number, maxBytes: number): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const [b, r] = await this.meta.getMany<[Deno.KvU64, Deno.KvU64]>([
        tenantStatKey(ns, "bytes"),
        tenantStatKey(ns, "reserved"),
      ]);
      if (u64(b) + u64(r) + len > maxBytes) throw new S3Error("QuotaExceeded");
      const res = await this.meta.write().check(b, r)
        .sum(tenantStatKey(ns, "reserved"), u64Delta(len))
        .sum(reservationKey(ns, uploadId), u64Delta(len))
        .commit();
      if (res.ok) return;
    }
    throw new S3Error("OperationAborted");
  }

  /**
   * Settles a successful UploadPart: the part of that number it replaced (if any) gives back its
   * reservation, and the new part's length is remembered under its number.
   */
  async commit(ns: string, uploadId: string, partNumber: number, len: number): Promise<void> {
    const pKey = partReservationKey(ns, uploadId, partNumber);
    for (let attempt = 0; attempt < 50; attempt++) {
      const [total, prev] = await this.meta.getMany<[Deno.KvU64, Deno.KvU64]>([
        reservationKey(ns, uploadId),
        pKey,
      ]);
      if (!total.value) return; // the upload ended meanwhile and released everything
      const have = signed(total.value.value);
      const give = Math.min(prev.value ? signed(prev.value.value) : 0, have);
      const op = this.meta.write().check(total, prev).set(pKey, new Deno.KvU64(BigInt(len)));
      if (give > 0) {
        op.sum(tenantStatKey(ns, "reserved"), u64Delta(-give)).sum(total.key, u64Delta(-give));
      }
      if ((await op.commit()).ok) return;
    }
  }

  async release(ns: string, uploadId: string, len: number | null): Promise<void> {
    // A Complete may answer 200 with an error document: release only once the upload is gone.
    if (len === null && (await this.meta.get(uploadKey(uploadId))).value) return;
    await this.#release(ns, uploadId, len);
  }

  async #release(ns: string, uploadId: string, len: number | null): Promise<void> {
    const meta = this.meta;
    if (len === null) {
      // The per-part entries only matter while the upload is open.
      await deletePrefix(meta.writer, ["tresvp", ns, uploadId]);
    }
    for (let attempt = 0; attempt < 50; attempt++) {
      const e = await meta.get<Deno.KvU64>(reservationKey(ns, uploadId));
      if (!e.value) return;
      const have = signed(e.value.value);
      const take = len === null ? have : Math.min(len, have);
      const op = meta.write().check(e).sum(tenantStatKey(ns, "reserved"), u64Delta(-take));
      if (take >= have) op.delete(e.key);
      else op.sum(e.key, u64Delta(-take));
      if ((await op.commit()).ok) return;
    }
  }

  /** Releases the reservations of uploads that no longer exist (expired or gone with a bucket). */
  async reconcile(): Promise<number> {
    const found = new Map<string, [string, string]>();
    for (const prefix of ["tresv", "tresvp"]) {
      for await (const e of this.meta.list({ prefix: [prefix] })) {
        const [ns, uploadId] = [e.key[1] as string, e.key[2] as string];
        found.set(`${ns}\n${uploadId}`, [ns, uploadId]);
      }
    }
    let released = 0;
    for (const [ns, uploadId] of found.values()) {
      if ((await this.meta.get(uploadKey(uploadId))).value) continue;
      await this.#release(ns, uploadId, null);
      released++;
    }
    return released;
  }
}
