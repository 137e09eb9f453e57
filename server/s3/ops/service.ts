/** Service-level operations: ListBuckets and CORS preflight. */
import { buildXml } from "../xml.ts";
import { isoTime } from "../headers.ts";
import type { OpContext, OpResult } from "../context.ts";

export async function listBuckets(ctx: OpContext): Promise<OpResult> {
  let buckets = await ctx.deps.storage.listBuckets(ctx.ns);
  const p = ctx.principal!;
  if (!p.isAdmin) buckets = buckets.filter((b) => b.ownerId === p.userId);
  const prefix = ctx.ep.query.get("prefix") ?? "";
  buckets = buckets.filter((b) => b.name.startsWith(prefix));
  return {
    xml: buildXml("ListAllMyBucketsResult", {
      Owner: { ID: p.userId, DisplayName: p.displayName },
      Buckets: {
        Bucket: buckets.map((b) => ({
          Name: b.name,
          CreationDate: isoTime(b.created),
          BucketRegion: b.region,
        })),
      },
      ...(prefix ? { Prefix: prefix } : {}),
    }),
  };
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
