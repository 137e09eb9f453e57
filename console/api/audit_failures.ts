/**
 * Failed and refused changes in the audit log. Successful changes are recorded by the routes
 * themselves (they know the names of what they changed); a change that throws never reaches
 * that line, so the router records the failure here, in one place, for every route declared with
 * an `audit` action: who tried, from where, what (the request path) and why (the error code and
 * message).
 */
import { recordAudit } from "../../server/iam/audit.ts";
import { IamError } from "../../server/iam/errors.ts";
import { type Authed, isAudited, type Route } from "./http.ts";

/** Refusals (no right to do it) are `denied`; everything else that went wrong is `failure`. */
const DENIED = new Set(["Forbidden", "CsrfRejected", "Unauthenticated"]);

/** Whether failures of this route are audited. */
export function isAuditedChange(route: Route): boolean {
  return route.audit !== undefined;
}

/**
 * Records the failure of an audited change made by an authenticated user. `body` is the JSON
 * the request carried (if any): its `name`/`username` names the resource, and for global
 * administrators its `tenantId` (or the `?tenantId=` / `/tenants/:id` of the path) names the
 * tenant the entry belongs to, as it does on success. A tenant user's entries always stay in
 * their own tenant, whatever they aimed at.
 */
export function auditFailure(
  ctx: Authed,
  route: Route,
  path: string,
  e: unknown,
  body: Record<string, unknown> | null,
): void {
  const action = route.audit;
  if (!action || isAudited(e)) return;
  const code = e instanceof IamError ? e.code : "InternalError";
  const message = e instanceof Error ? e.message : String(e);
  const str = (v: unknown) => typeof v === "string" && v !== "" ? v : null;
  const target = str(body?.tenantId) ?? str(ctx.url.searchParams.get("tenantId")) ??
    (route.path.startsWith("/tenants/:id") ? str(ctx.params.id) : null);
  const tenantId = ctx.user.role === "global_admin" ? target : ctx.user.tenantId;
  const named = str(body?.name) ?? str(body?.username);
  try {
    recordAudit(ctx.deps.iam.core, {
      actorId: ctx.user.id,
      actorName: ctx.user.username,
      tenantId,
      action,
      resource: path.replace(/^\//, "") + (named ? `/${named}` : ""),
      ip: ctx.client.ip,
      userAgent: ctx.userAgent,
      result: DENIED.has(code) ? "denied" : "failure",
      detail: `${code}: ${message}`.slice(0, 500),
    });
  } catch (err) {
    ctx.deps.log.warn("audit write failed", { error: String(err) });
  }
}
