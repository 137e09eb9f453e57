/**
 * A bucket's quota (bytes and objects): read and set by administrators of its namespace (global
 * administrators add `?tenantId=` for a tenant's bucket). Storage enforces it in the commit that
 * publishes a write (`QuotaExceeded`, as tenant quotas answer).
 */
import { IamError } from "../../server/iam/errors.ts";
import { bucketQuotaProblem } from "../../server/iam/bucket_quotas.ts";
import { requireAdmin, scopeTenant } from "./access.ts";
import { audit } from "./admin_routes.ts";
import { type Authed, json, readJson, type Route, route } from "./http.ts";

async function administeredBucket(ctx: Authed) {
  requireAdmin(ctx);
  const ns = scopeTenant(ctx, ctx.url.searchParams.get("tenantId") ?? undefined) ?? "";
  const b = await ctx.deps.storage.getBucket(ns, ctx.params.bucket).catch(() => null);
  if (!b) throw new IamError("NotFound", "no such bucket");
  return b;
}

async function quotaAnswer(ctx: Authed, b: { id: string }) {
  const quotas = ctx.deps.iam.bucketQuotas;
  const usage = await ctx.deps.storage.bucketStats(b.id);
  return json({
    quota: quotas.get(b.id),
    defaults: quotas.defaults(),
    usage: { bytes: usage.bytes, objects: usage.objects },
  });
}

export const bucketQuotaRoutes: Route[] = [
  route("GET", "/buckets/:bucket/quota", async (ctx) => {
    return await quotaAnswer(ctx, await administeredBucket(ctx));
  }),
  route("PUT", "/buckets/:bucket/quota", async (ctx) => {
    const b = await administeredBucket(ctx);
    const body = await readJson(ctx.req);
    const problem = bucketQuotaProblem(body);
    if (problem) throw new IamError("InvalidRequest", problem);
    const q = {
      maxBytes: (body.maxBytes as number | null | undefined) ?? null,
      maxObjects: (body.maxObjects as number | null | undefined) ?? null,
    };
    ctx.deps.iam.bucketQuotas.put(b, q);
    audit(ctx, {
      action: "bucket.quota.put",
      resource: `bucket/${b.name}`,
      tenantId: b.ns || null,
      detail: JSON.stringify(q),
    });
    return await quotaAnswer(ctx, b);
  }, { audit: "bucket.quota.put" }),
];
