/**
 * Object search in a bucket (docs/api.md "Object search"): one page of a bounded scan
 * (server/features/search/search.ts). Whoever may list the bucket under the prefix may search it:
 * a ListObjectsV2 of no keys, as the session user, asks S3's authorization first. A content-type
 * filter reveals what GetObject does and a tag filter what GetObjectTagging does, so each object
 * whose record such a filter reads is first authorized for that operation by the S3 authorizer's
 * own evaluator; one refusal refuses the search (403, `AccessDenied`), as S3 refuses a request.
 */
import { IamError } from "../../server/iam/errors.ts";
import {
  DEFAULT_LIMIT,
  MAX_LIMIT,
  type SearchFilter,
  searchObjects,
} from "../../server/features/search/search.ts";
import { scopeTenant } from "./access.ts";
import { type Authed, intParam, json, type Route, route } from "./http.ts";
import { nsParam, runS3, sessionPrincipal } from "./s3_call.ts";
import type { BucketRecord } from "../../server/storage/types.ts";

function timeParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === "") return undefined;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) {
    throw new IamError("InvalidRequest", `${name} must be a date (ISO 8601) or epoch milliseconds`);
  }
  return t;
}

function sizeParam(url: URL, name: string): number | undefined {
  const n = intParam(url, name);
  if (n !== undefined && (n < 0 || !Number.isInteger(n))) {
    throw new IamError("InvalidRequest", `${name} must be a whole number of bytes`);
  }
  return n;
}

/** The filter of a search request's query. */
export function searchFilterOf(url: URL): SearchFilter {
  const q = url.searchParams;
  const tags: [string, string][] = q.getAll("tag").map((t) => {
    const eq = t.indexOf("=");
    return eq < 0 ? [t, ""] : [t.slice(0, eq), t.slice(eq + 1)];
  });
  if (tags.some(([k]) => k === "")) throw new IamError("InvalidRequest", "tag must be key=value");
  const f: SearchFilter = {
    prefix: q.get("prefix") ?? "",
    contentType: q.get("contentType") || undefined,
    minSize: sizeParam(url, "minSize"),
    maxSize: sizeParam(url, "maxSize"),
    modifiedAfter: timeParam(url, "modifiedAfter"),
    modifiedBefore: timeParam(url, "modifiedBefore"),
    tags,
  };
  return f;
}

async function requireListable(ctx: Authed, ns: string, bucket: string, prefix: string) {
  if (bucket === "" || bucket.includes("/")) {
    throw new IamError("InvalidRequest", "invalid bucket name", { s3Code: "InvalidBucketName" });
  }
  const res = await runS3(ctx, {
    method: "GET",
    path: `/${encodeURIComponent(bucket)}`,
    query: [["list-type", "2"], ["max-keys", "0"], ["prefix", prefix]],
    headers: new Headers(),
    body: null,
    tenantId: nsParam(ctx, ns),
  });
  await res.body?.cancel();
  if (res.ok) return;
  if (res.status === 403) throw new IamError("Forbidden", "you may not list this bucket");
  if (res.status === 404) throw new IamError("NotFound", "no such bucket");
  throw new IamError("InvalidRequest", `the bucket cannot be searched (status ${res.status})`);
}

/** The S3 operations whose permission each filter needs on the objects it reads. */
function operationsOf(filter: SearchFilter): { op: string; filter: string }[] {
  const ops = [];
  if (filter.contentType) ops.push({ op: "GetObject", filter: "content-type" });
  if ((filter.tags?.length ?? 0) > 0) ops.push({ op: "GetObjectTagging", filter: "tag" });
  return ops;
}

/**
 * The search's check of each key whose record a filter reads: the session user's permission for
 * the filter's operation on that object, decided as an S3 request of theirs would be (policies,
 * grants, ACLs). None without such a filter.
 */
function readCheck(
  ctx: Authed,
  ns: string,
  bucket: BucketRecord,
  filter: SearchFilter,
): ((key: string) => Promise<void>) | undefined {
  const ops = operationsOf(filter);
  if (ops.length === 0) return undefined;
  const principal = sessionPrincipal(ctx, nsParam(ctx, ns));
  const view = { query: new URLSearchParams(), headers: new Headers(), client: ctx.client };
  const authorizer = ctx.deps.iam.authorizer;
  return async (key) => {
    for (const { op, filter } of ops) {
      const d = await authorizer.decide(view, principal, op, bucket, bucket.name, key);
      if (!d.allowed) {
        throw new IamError(
          "Forbidden",
          `the ${filter} filter needs s3:${op} on the objects it reads (refused for "${key}")`,
          { s3Code: "AccessDenied" },
        );
      }
    }
  };
}

export const searchRoutes: Route[] = [
  route("GET", "/buckets/:bucket/search", async (ctx) => {
    const url = ctx.url;
    const ns = scopeTenant(ctx, url.searchParams.get("tenantId") ?? undefined) ?? "";
    const filter = searchFilterOf(url);
    const limit = intParam(url, "limit", DEFAULT_LIMIT)!;
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IamError("InvalidRequest", `limit must be from 1 to ${MAX_LIMIT}`);
    }
    await requireListable(ctx, ns, ctx.params.bucket, filter.prefix);
    const bucket = await ctx.deps.storage.getBucket(ns, ctx.params.bucket);
    try {
      const page = await searchObjects(ctx.deps.storage, bucket, filter, {
        continuationToken: url.searchParams.get("continuationToken"),
        limit,
        mayRead: readCheck(ctx, ns, bucket, filter),
      });
      return json(page);
    } catch (e) {
      if (e instanceof RangeError) throw new IamError("InvalidRequest", e.message);
      throw e;
    }
  }),
];
