/** Service-level operations: ListBuckets. */
import { S3Error } from "../errors.ts";
import { escapeXml, S3_NS } from "../xml.ts";
import { bucketNameProblem } from "../names.ts";
import { badContinuationToken, decodeToken, encodeToken, ListTimes } from "./list.ts";
import type { ListedBucket } from "../../storage/mod.ts";
import type { OpContext, OpResult } from "../context.ts";

/** AWS's largest `max-buckets`, and its page size when a request pages without one. */
export const MAX_BUCKETS = 10_000;

/**
 * ListBuckets: the caller's buckets (all of the namespace's for an administrator) in name order.
 * Without any of `max-buckets`, `continuation-token`, `prefix` and `bucket-region` the answer
 * holds them all, as AWS's unpaginated form; with one, a page of at most `max-buckets`
 * (default 10,000) and a `ContinuationToken` when more follow.
 */
export async function listBuckets(ctx: OpContext): Promise<OpResult> {
  const q = ctx.ep.query;
  const p = ctx.principal!;
  const max = parseMaxBuckets(q.get("max-buckets"));
  const token = q.get("continuation-token");
  const prefix = q.get("prefix");
  const region = q.get("bucket-region");
  const paged = max !== null || token !== null || prefix !== null || region !== null;
  const page = await ctx.deps.storage.listBucketsPage(ctx.ns, {
    prefix: prefix ?? "",
    after: token === null ? undefined : decodeBucketToken(token),
    region: region ?? undefined,
    ownerId: p.isAdmin ? undefined : p.userId,
    limit: max ?? (paged ? MAX_BUCKETS : Infinity),
  });
  const last = page.buckets[page.buckets.length - 1];
  return {
    xml: listBucketsXml({
      ownerId: p.userId,
      displayName: p.displayName,
      buckets: page.buckets,
      continuationToken: page.truncated && last ? encodeBucketToken(last.name) : null,
      prefix,
    }),
  };
}

/** What a ListBuckets answer holds. */
export interface ListBucketsAnswer {
  ownerId: string;
  displayName: string;
  buckets: readonly ListedBucket[];
  continuationToken: string | null;
  /** The request's `prefix`, echoed when it had one. */
  prefix: string | null;
}

/**
 * The `ListAllMyBucketsResult` document, written directly: 10,000 `<Bucket>` elements through
 * the generic builder cost more than the rest of the request.
 */
export function listBucketsXml(a: ListBucketsAnswer): string {
  const times = new ListTimes();
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="${S3_NS}">` +
    `<Owner><ID>${escapeXml(a.ownerId)}</ID><DisplayName>${
      escapeXml(a.displayName)
    }</DisplayName></Owner><Buckets>`;
  for (const b of a.buckets) {
    out += `<Bucket><Name>${escapeXml(b.name)}</Name><CreationDate>${
      times.format(b.created)
    }</CreationDate><BucketRegion>${escapeXml(b.region)}</BucketRegion></Bucket>`;
  }
  out += "</Buckets>";
  if (a.continuationToken !== null) {
    out += `<ContinuationToken>${escapeXml(a.continuationToken)}</ContinuationToken>`;
  }
  if (a.prefix !== null) out += `<Prefix>${escapeXml(a.prefix)}</Prefix>`;
  return out + "</ListAllMyBucketsResult>";
}

/** The continuation token of a page that ended at bucket `name` (opaque to clients). */
export function encodeBucketToken(name: string): string {
  return encodeToken(name);
}

/**
 * The bucket name a continuation token says the previous page ended at. A token this server
 * cannot have issued (not base64url, or not a bucket name inside) gets AWS's `InvalidArgument`.
 */
export function decodeBucketToken(token: string): string {
  const name = decodeToken(token);
  if (bucketNameProblem(name) !== null) throw badContinuationToken();
  return name;
}

/** `max-buckets`: an integer from 1 to 10,000, else AWS's `InvalidArgument`. */
export function parseMaxBuckets(v: string | null): number | null {
  if (v === null) return null;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_BUCKETS) {
    throw new S3Error("InvalidArgument", {
      message: "Argument max-buckets must be an integer between 1 and 10000.",
      fields: { ArgumentName: "max-buckets", ArgumentValue: v },
    });
  }
  return Number(v);
}
