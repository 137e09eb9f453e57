/**
 * Where bucket policies live: bucket configuration `policy` of the Backend holds the text as sent
 * (GetBucketPolicy answers it byte for byte). The parsed form is not stored beside it: it can be
 * ten times the text (a 20 KB document of short conditions parses to over 200 KB of records),
 * past what one KV value holds. `BucketPolicies` keeps the parsed form of each bucket's current
 * text instead, so authorization parses a policy once per change, never per request.
 */
import type { Backend } from "../storage/mod.ts";
import { type ParsedPolicy, parsePolicy } from "./policy.ts";

/** The bucket configuration kind of bucket policies (decision 0011). */
export const BUCKET_POLICY_CONFIG = "policy";

/** The stored record. */
export interface StoredBucketPolicy {
  v: 1;
  text: string;
}

/** A bucket's policy: its text and parsed form. */
export interface BucketPolicy {
  text: string;
  policy: ParsedPolicy;
}

/** The bucket a policy belongs to (its name and namespace decide which resources it may name). */
export interface PolicyBucket {
  id: string;
  name: string;
  ns: string;
}

/** Reads a bucket's stored policy text (cached by the storage layer), or null. */
export async function readBucketPolicyText(
  storage: Backend,
  bucketId: string,
): Promise<string | null> {
  const stored = await storage.getBucketConfig<StoredBucketPolicy>(bucketId, BUCKET_POLICY_CONFIG);
  return stored?.text ?? null;
}

/** Namespace ids to account ids (tenant names): `Namespaces` of `s3/bucket_ref.ts`. */
export interface AccountNames {
  accountOf(ns: string): string | null;
}

/**
 * Parses a stored policy again (it was validated when stored; principals are not re-checked, so a
 * user deleted since leaves the policy readable).
 */
export function parseStoredPolicy(
  bucket: PolicyBucket,
  text: string,
  accounts: AccountNames,
): ParsedPolicy {
  const account = accounts.accountOf(bucket.ns) ?? bucket.ns;
  return parsePolicy(text, { kind: "bucket", bucket: bucket.name, account });
}

/**
 * Parsed bucket policies by bucket id, re-parsed only when the stored text changes; at most
 * `maxEntries` buckets are kept (the least recently used leaves first).
 */
export class BucketPolicies {
  readonly storage: Backend;
  readonly accounts: AccountNames;
  readonly maxEntries: number;
  readonly #parsed = new Map<string, BucketPolicy>();

  constructor(storage: Backend, opts: { accounts: AccountNames; maxEntries?: number }) {
    this.storage = storage;
    this.accounts = opts.accounts;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** The bucket's policy, or null when it has none. */
  async get(bucket: PolicyBucket): Promise<BucketPolicy | null> {
    const text = await readBucketPolicyText(this.storage, bucket.id);
    const held = this.#parsed.get(bucket.id);
    if (text === null) {
      if (held) this.#parsed.delete(bucket.id);
      return null;
    }
    if (held && held.text === text) {
      this.#parsed.delete(bucket.id);
      this.#parsed.set(bucket.id, held);
      return held;
    }
    const fresh = { text, policy: parseStoredPolicy(bucket, text, this.accounts) };
    this.#parsed.delete(bucket.id);
    this.#parsed.set(bucket.id, fresh);
    if (this.#parsed.size > this.maxEntries) {
      this.#parsed.delete(this.#parsed.keys().next().value!);
    }
    return fresh;
  }

  /** How many parsed policies are held (tests). */
  get size(): number {
    return this.#parsed.size;
  }
}
