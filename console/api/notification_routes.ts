/**
 * Event notifications in the console API: webhook targets (list, create, delete, test) and the
 * dead-letter list (list, retry, discard). Global administrators work on the global namespace,
 * or on a tenant's with `?tenantId=` (`tenantId` in the body of a POST); without it their lists
 * show every namespace. Tenant users see their tenant's; its administrators change them. A
 * bucket's configuration itself is S3's (the Notifications tab uses the S3 passthrough).
 */
import { IamError } from "../../server/iam/errors.ts";
import { TargetError } from "../../server/features/notifications/mod.ts";
import type { Notifications } from "../../server/features/notifications/mod.ts";
import { isGlobalAdmin, requireAdmin, scopeTenant } from "./access.ts";
import { audit } from "./admin_routes.ts";
import { type Authed, type Handler, json, noContent, readJson, type Route, route } from "./http.ts";

function service(ctx: Authed): Notifications {
  const n = ctx.deps.notifications;
  if (!n) throw new IamError("NotFound", "event notifications are not set up");
  return n;
}

/** The namespace a change works on ("" global). */
function namespaceOf(ctx: Authed, requested: unknown): string {
  return scopeTenant(ctx, requested) ?? "";
}

/** The namespace a list shows: null (all) for a global administrator who names no tenant. */
function listScope(ctx: Authed): string | null {
  const requested = ctx.url.searchParams.get("tenantId") ?? undefined;
  if (isGlobalAdmin(ctx.user) && !requested) return null;
  return namespaceOf(ctx, requested);
}

/** Registry refusals as the console API's errors. */
function targetErrors(handler: Handler): Handler {
  return async (ctx) => {
    try {
      return await handler(ctx);
    } catch (e) {
      if (e instanceof TargetError) throw new IamError(e.code, e.message);
      throw e;
    }
  };
}

/** `ids` of a dead-letter action: a list of numbers, or absent (all in scope). */
function idsOf(body: Record<string, unknown>): number[] | null {
  if (body.ids === undefined || body.ids === null) return null;
  if (!Array.isArray(body.ids) || !body.ids.every((i) => Number.isSafeInteger(i))) {
    throw new IamError("InvalidRequest", "ids must be a list of dead-letter ids");
  }
  return body.ids as number[];
}

function optionalString(body: Record<string, unknown>, f: string): string | null {
  const v = body[f];
  if (v === undefined || v === null || v === "") return null;
  if (typeof v !== "string") throw new IamError("InvalidRequest", `${f} must be a string`);
  return v;
}

/**
 * `POST /notifications/dead-letters/<action>` `{ids?, tenantId?}`: retries (back in the queue,
 * due now) or discards dead letters; without `ids` all in scope, which for a global administrator
 * without `tenantId` is every namespace. Audited `notification.dead.<action>`.
 */
function deadLetterRoute(action: "retry" | "discard"): Route {
  const audited = `notification.dead.${action}`;
  return route(
    "POST",
    `/notifications/dead-letters/${action}`,
    async (ctx) => {
      const body = await readJson(ctx.req);
      requireAdmin(ctx);
      const scope = body.tenantId === undefined && isGlobalAdmin(ctx.user)
        ? null
        : namespaceOf(ctx, body.tenantId);
      const n = service(ctx);
      const count = action === "retry"
        ? n.retryDead(idsOf(body), scope)
        : n.discardDead(idsOf(body), scope);
      audit(ctx, {
        action: audited,
        resource: "notification-dead-letters",
        tenantId: scope || null,
        detail: `${count} ${action === "retry" ? "retried" : "discarded"}`,
      });
      return json(action === "retry" ? { retried: count } : { discarded: count });
    },
    { audit: audited },
  );
}

export const notificationRoutes: Route[] = [
  route("GET", "/notifications/targets", (ctx) => {
    return Promise.resolve(json({ items: service(ctx).listTargets(listScope(ctx)) }));
  }),
  route(
    "POST",
    "/notifications/targets",
    targetErrors(async (ctx) => {
      const body = await readJson(ctx.req);
      const ns = namespaceOf(ctx, body.tenantId);
      requireAdmin(ctx);
      const t = await service(ctx).targets.create(ns, {
        name: optionalString(body, "name") ?? "",
        url: optionalString(body, "url") ?? "",
        authHeader: optionalString(body, "authHeader"),
        authValue: optionalString(body, "authValue"),
        secret: optionalString(body, "secret"),
      });
      audit(ctx, {
        action: "notification.target.create",
        resource: `webhook-target/${t.name}`,
        tenantId: ns || null,
        detail: t.url.slice(0, 500),
      });
      return json(t, 201);
    }),
    { audit: "notification.target.create" },
  ),
  route(
    "DELETE",
    "/notifications/targets/:name",
    targetErrors((ctx) => {
      const ns = namespaceOf(ctx, ctx.url.searchParams.get("tenantId") ?? undefined);
      requireAdmin(ctx);
      service(ctx).targets.delete(ns, ctx.params.name);
      audit(ctx, {
        action: "notification.target.delete",
        resource: `webhook-target/${ctx.params.name}`,
        tenantId: ns || null,
      });
      return Promise.resolve(noContent());
    }),
    { audit: "notification.target.delete" },
  ),
  route(
    "POST",
    "/notifications/targets/:name/test",
    targetErrors(async (ctx) => {
      const ns = namespaceOf(ctx, ctx.url.searchParams.get("tenantId") ?? undefined);
      requireAdmin(ctx);
      return json(await service(ctx).testTarget(ns, ctx.params.name));
    }),
  ),
  route("GET", "/notifications/dead-letters", (ctx) => {
    return Promise.resolve(json({ items: service(ctx).deadLetters(listScope(ctx)) }));
  }),
  deadLetterRoute("retry"),
  deadLetterRoute("discard"),
];
