/**
 * A tenant's public access block: read by its users' admins and global admins, set by the
 * tenant's admins and global admins. The global default is the `publicAccessBlock` field of
 * `/settings` (admin_routes.ts).
 */
import {
  getTenantPublicAccessBlock,
  publicAccessBlockFromJson,
  putTenantPublicAccessBlock,
} from "../../server/iam/public_access.ts";
import { requireAdmin } from "./access.ts";
import { audit, visibleTenant } from "./admin_routes.ts";
import { type Authed, json, noContent, readJson, type Route, route } from "./http.ts";

/** The tenant of `:id` when the caller administers it (others: NotFound or Forbidden). */
function administeredTenant(ctx: Authed) {
  const t = visibleTenant(ctx);
  requireAdmin(ctx);
  return t;
}

export const publicAccessRoutes: Route[] = [
  route("GET", "/tenants/:id/public-access-block", (ctx) => {
    const t = administeredTenant(ctx);
    return json({ publicAccessBlock: getTenantPublicAccessBlock(ctx.deps.iam.core, t.id) });
  }),
  route("PUT", "/tenants/:id/public-access-block", async (ctx) => {
    const t = administeredTenant(ctx);
    const pab = publicAccessBlockFromJson(await readJson(ctx.req));
    putTenantPublicAccessBlock(ctx.deps.iam.core, t.id, pab);
    audit(ctx, {
      action: "tenant.public-access-block.put",
      resource: `tenant/${t.name}`,
      tenantId: t.id,
      detail: JSON.stringify(pab),
    });
    return json({ publicAccessBlock: pab });
  }, { audit: "tenant.public-access-block.put" }),
  route("DELETE", "/tenants/:id/public-access-block", (ctx) => {
    const t = administeredTenant(ctx);
    putTenantPublicAccessBlock(ctx.deps.iam.core, t.id, null);
    audit(ctx, {
      action: "tenant.public-access-block.delete",
      resource: `tenant/${t.name}`,
      tenantId: t.id,
    });
    return noContent();
  }, { audit: "tenant.public-access-block.delete" }),
];
