/** Service-level operations: ListBuckets and CORS preflight. */
import { S3Error } from "../errors.ts";
import { buildXml } from "../xml.ts";
import { decodeToken, encodeToken } from "./list.ts";
import { isoTime } from "../headers.ts";
import type { OpContext, OpResult } from "../context.ts";

/** ListBuckets pages: `max-buckets` (1..10000) and an opaque continuation token. */
export async function listBuckets(ctx: OpContext): Promise<OpResult> {
  const q = ctx.ep.query;
  let buckets = await ctx.deps.storage.listBuckets(ctx.ns);
  const p = ctx.principal!;
  if (!p.isAdmin) buckets = buckets.filter((b) => b.ownerId === p.userId);
  const prefix = q.get("prefix") ?? "";
  const region = q.get("bucket-region");
  buckets = buckets.filter((b) =>
    b.name.startsWith(prefix) && (region === null || b.region === region)
  );
  const token = q.get("continuation-token");
  if (token !== null) {
    const after = decodeToken(token);
    buckets = buckets.filter((b) => b.name > after);
  }
  const max = maxBuckets(q.get("max-buckets"));
  const page = max === null ? buckets : buckets.slice(0, max);
  const truncated = page.length < buckets.length;
  return {
    xml: buildXml("ListAllMyBucketsResult", {
      Owner: { ID: p.userId, DisplayName: p.displayName },
      Buckets: {
        Bucket: page.map((b) => ({
          Name: b.name,
          CreationDate: isoTime(b.created),
          BucketRegion: b.region,
        })),
      },
      ...(truncated ? { ContinuationToken: encodeToken(page[page.length - 1].name) } : {}),
      ...(prefix ? { Prefix: prefix } : {}),
    }),
  };
}

function maxBuckets(v: string | null): number | null {
  if (v === null) return null;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 10000) {
    throw new S3Error("InvalidArgument", {
      message: "Argument max-buckets must be an integer between 1 and 10000.",
      fields: { ArgumentName: "max-buckets", ArgumentValue: v },
    });
  }
  return Number(v);
}

/** CORS preflight: allowed for any origin until bucket CORS rules are configured. */
export function options(ctx: OpContext): Promise<OpResult> {
  const h = ctx.req.headers;
  const headers: Record<string, string> = {
    "access-control-allow-methods": "GET, PUT, POST, DELETE, HEAD",
    "access-control-max-age": "3600",
  };
  const reqHeaders = h.get("access-control-request-headers");
  if (reqHeaders) headers["access-control-allow-headers"] = reqHeaders;
  return Promise.resolve({ status: 200, headers });
}
