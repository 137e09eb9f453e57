/**
 * Bucket names across namespaces (docs/decisions/0011, docs/multi-tenancy.md). A request names a
 * bucket as `bucket` or, in path-style URLs, copy sources and resource ARNs, as `tenant:bucket`
 * (Ceph RGW's convention). An unqualified name resolves in the caller's namespace, then in the
 * global one; an anonymous caller's resolves in the global namespace.
 */
import { S3Error } from "./errors.ts";
import type { BucketRef } from "./names.ts";
import type { Backend } from "../storage/mod.ts";
import type { BucketRecord } from "../storage/types.ts";

/** Accounts (tenant names) to namespaces (tenant ids) and back; IAM implements it. */
export interface Namespaces {
  /** The namespace of an account name, or null when no tenant has that name. */
  nsOf(account: string): string | null;
  /** The account name of a namespace ("" for the global one), or null when it is unknown. */
  accountOf(ns: string): string | null;
}

/**
 * The bucket `ref` names for a caller of namespace `callerNs` (null: anonymous). `NoSuchBucket`
 * when it names nothing, also for a qualifier that names no tenant.
 */
export type { BucketRef };

export async function resolveBucket(
  storage: Backend,
  namespaces: Namespaces,
  callerNs: string | null,
  ref: BucketRef,
): Promise<BucketRecord> {
  if (ref.account !== null) {
    const ns = namespaces.nsOf(ref.account);
    if (ns === null) throw new S3Error("NoSuchBucket", { fields: { BucketName: ref.name } });
    return await storage.getBucket(ns, ref.name);
  }
  if (callerNs === null || callerNs === "") return await storage.getBucket("", ref.name);
  try {
    return await storage.getBucket(callerNs, ref.name);
  } catch (e) {
    if (!(e instanceof S3Error) || e.code !== "NoSuchBucket") throw e;
    return await storage.getBucket("", ref.name);
  }
}

/**
 * The namespace a new bucket named `ref` goes to: the caller's own. A qualifier naming another
 * tenant is refused (buckets are created by their own namespace).
 */
export function namespaceForCreate(
  namespaces: Namespaces,
  callerNs: string,
  ref: BucketRef,
): string {
  if (ref.account === null) return callerNs;
  if (namespaces.nsOf(ref.account) !== callerNs) throw new S3Error("AccessDenied");
  return callerNs;
}

/** A server without tenants: only the global namespace has a name (tests of the S3 layer). */
export const GLOBAL_ONLY: Namespaces = Object.freeze({
  nsOf: () => null,
  accountOf: (ns: string) => ns === "" ? "" : null,
});
