/**
 * The key service's keys (SSE-KMS): listed and described by the users of a namespace, created,
 * disabled, enabled and rotated by its administrators. Global administrators work on the global
 * namespace, or on a tenant's with `?tenantId=` (`tenantId` in the body on create); tenant users
 * always on their tenant's. A key of another namespace is not found.
 */
import { IamError } from "../../server/iam/errors.ts";
import { isS3Error } from "../../server/s3/errors.ts";
import { KmsAdminError } from "../../server/crypto/builtin_kms.ts";
import type { KmsKeyInfo } from "../../server/crypto/types.ts";
import { requireAdmin, scopeTenant } from "./access.ts";
import { audit } from "./admin_routes.ts";
import { type Authed, type Handler, json, readJson, type Route, route } from "./http.ts";

/** The namespace the caller works on ("" global). */
function namespaceOf(ctx: Authed, requested: unknown): string {
  return scopeTenant(ctx, requested) ?? "";
}

/** The key service's refusals as the console API's errors. */
function kmsErrors(handler: Handler): Handler {
  return async (ctx) => {
    try {
      return await handler(ctx);
    } catch (e) {
      if (e instanceof KmsAdminError) {
        throw new IamError(e.code === "AlreadyExists" ? "Conflict" : "InvalidRequest", e.message);
      }
      if (isS3Error(e) && e.code === "KMS.NotFoundException") {
        throw new IamError("NotFound", "no such key");
      }
      throw e;
    }
  };
}

function audited(ctx: Authed, action: string, k: KmsKeyInfo, detail?: string) {
  audit(ctx, {
    action,
    resource: `kms-key/${k.id}`,
    tenantId: k.ns === "" ? null : k.ns,
    detail: detail ?? k.arn,
  });
}

/** `POST /kms/keys/:id/<action>`: a change of one key, audited as `kms.key.<action>`. */
function keyChange(
  action: "enable" | "disable" | "rotate",
  change: (ctx: Authed, ns: string, id: string) => Promise<KmsKeyInfo>,
): Route {
  return route(
    "POST",
    `/kms/keys/:id/${action}`,
    kmsErrors(async (ctx) => {
      const ns = namespaceOf(ctx, ctx.url.searchParams.get("tenantId") ?? undefined);
      requireAdmin(ctx);
      const k = await change(ctx, ns, ctx.params.id);
      audited(
        ctx,
        `kms.key.${action}`,
        k,
        action === "rotate" ? `${k.arn} version ${k.versions}` : undefined,
      );
      return json(k);
    }),
    { audit: `kms.key.${action}` },
  );
}

export const kmsRoutes: Route[] = [
  route(
    "GET",
    "/kms/keys",
    kmsErrors(async (ctx) => {
      const ns = namespaceOf(ctx, ctx.url.searchParams.get("tenantId") ?? undefined);
      return json({ items: await ctx.deps.kms.listKeys(ns) });
    }),
  ),
  route(
    "POST",
    "/kms/keys",
    kmsErrors(async (ctx) => {
      const body = await readJson(ctx.req);
      const ns = namespaceOf(ctx, body.tenantId);
      requireAdmin(ctx);
      for (const f of ["id", "description"]) {
        if (body[f] !== undefined && typeof body[f] !== "string") {
          throw new IamError("InvalidRequest", `${f} must be a string`);
        }
      }
      const k = await ctx.deps.kms.createKey(ns, {
        id: (body.id as string | undefined) || undefined,
        description: body.description as string | undefined,
      });
      audited(ctx, "kms.key.create", k);
      return json(k, 201);
    }),
    { audit: "kms.key.create" },
  ),
  route(
    "GET",
    "/kms/keys/:id",
    kmsErrors(async (ctx) => {
      const ns = namespaceOf(ctx, ctx.url.searchParams.get("tenantId") ?? undefined);
      return json(await ctx.deps.kms.describeKey(ns, ctx.params.id));
    }),
  ),
  keyChange("enable", (ctx, ns, id) => ctx.deps.kms.setKeyState(ns, id, "Enabled")),
  keyChange("disable", (ctx, ns, id) => ctx.deps.kms.setKeyState(ns, id, "Disabled")),
  keyChange("rotate", (ctx, ns, id) => ctx.deps.kms.rotateKey(ns, id)),
];
