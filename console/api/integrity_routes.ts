/**
 * Integrity of stored bytes (server/features/integrity): the scrubber's status and last findings
 * for administrators, and an on-demand check of one bucket for administrators and for whoever may
 * list the bucket (HeadBucket as the session user answers that, through the S3 authorizer).
 */
import { IamError } from "../../server/iam/errors.ts";
import { type IntegrityFinding, passView } from "../../server/features/integrity/state.ts";
import type { BucketRecord } from "../../server/storage/types.ts";
import { isAdmin, isGlobalAdmin, requireAdmin, scopeTenant } from "./access.ts";
import { audit } from "./admin_routes.ts";
import { type Authed, json, type Route, route } from "./http.ts";
import { nsParam, runS3 } from "./s3_call.ts";

/**
 * The bucket `:bucket` of the namespace the caller addresses, when the caller may check it:
 * administrators of the namespace, and users allowed to list the bucket.
 */
async function checkableBucket(ctx: Authed): Promise<BucketRecord> {
  const name = ctx.params.bucket;
  if (name === "" || name.includes("/")) {
    throw new IamError("InvalidRequest", "invalid bucket name", { s3Code: "InvalidBucketName" });
  }
  const ns = scopeTenant(ctx, ctx.url.searchParams.get("tenantId") ?? undefined) ?? "";
  if (!isAdmin(ctx.user)) {
    const res = await runS3(ctx, {
      method: "HEAD",
      path: `/${encodeURIComponent(name)}`,
      query: [],
      headers: new Headers(),
      body: null,
      tenantId: nsParam(ctx, ns),
    });
    if (res.status === 404) throw new IamError("NotFound", `no bucket ${name}`);
    if (!res.ok) throw new IamError("Forbidden", `not allowed to read bucket ${name}`);
  }
  return await ctx.deps.storage.getBucket(ns, name).catch(() => {
    throw new IamError("NotFound", `no bucket ${name}`);
  });
}

export const integrityRoutes: Route[] = [
  route("GET", "/integrity", (ctx) => {
    requireAdmin(ctx);
    const s = ctx.deps.integrity.status();
    const tenant = ctx.user.tenantId ?? "";
    const visible = (f: IntegrityFinding) => isGlobalAdmin(ctx.user) || f.ns === tenant;
    return json({
      enabled: s.enabled,
      rateBytesPerSecond: s.rateBytesPerSecond,
      intervalSeconds: s.intervalSeconds,
      running: s.running,
      nextAt: s.nextAt,
      current: s.current && passView(s.current, visible),
      last: s.last && passView(s.last, visible),
    });
  }),
  route("POST", "/buckets/:bucket/verify-integrity", async (ctx) => {
    const bucket = await checkableBucket(ctx);
    const pass = await ctx.deps.integrity.verifyBucket(bucket);
    const shown = passView(pass, () => true);
    audit(ctx, {
      action: "bucket.verify-integrity",
      resource: `bucket/${bucket.name}`,
      tenantId: bucket.ns || null,
      detail: `${pass.objects} objects, ${pass.bytes} bytes, ${pass.corrupt} corrupt`,
    });
    return json({ bucket: bucket.name, tenantId: bucket.ns || null, ...shown });
  }, { audit: "bucket.verify-integrity" }),
];
