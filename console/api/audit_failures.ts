/**
 * Failed and refused changes in the audit log. Successful changes are recorded by the routes
 * themselves (they know the names of what they changed); a change that throws never reaches
 * that line, so the router records the failure here, in one place, for every route listed below:
 * who tried, from where, what (the request path) and why (the error code and message).
 */
import { recordAudit } from "../../server/iam/audit.ts";
import { IamError } from "../../server/iam/errors.ts";
import { type Authed, isAudited, type Route } from "./http.ts";

/** `METHOD path` of an audited change -> its audit action (the same name as on success). */
export const AUDITED_CHANGES: Readonly<Record<string, string>> = {
  "POST /auth/password": "password.change",
  "DELETE /auth/sessions/:id": "session.revoke",
  "POST /auth/2fa/setup": "2fa.setup",
  "POST /auth/2fa/enable": "2fa.enable",
  "POST /auth/2fa/disable": "2fa.disable",
  "POST /auth/2fa/backup-codes": "2fa.backup_codes",
  "POST /users": "user.create",
  "PATCH /users/:id": "user.update",
  "DELETE /users/:id": "user.delete",
  "POST /users/:id/password": "password.reset",
  "POST /users/:id/unlock": "user.unlock",
  "POST /users/:id/2fa/reset": "2fa.disable",
  "DELETE /users/:id/sessions": "session.revoke",
  "POST /tenants": "tenant.create",
  "PATCH /tenants/:id": "tenant.update",
  "DELETE /tenants/:id": "tenant.delete",
  "POST /access-keys": "access_key.create",
  "PATCH /access-keys/:accessKeyId": "access_key.update",
  "DELETE /access-keys/:accessKeyId": "access_key.delete",
  "PATCH /settings": "settings.update",
  "POST /groups": "group.create",
  "PATCH /groups/:id": "group.update",
  "DELETE /groups/:id": "group.delete",
  "PUT /groups/:id/members/:userId": "group.member_add",
  "DELETE /groups/:id/members/:userId": "group.member_remove",
  "POST /buckets/:bucket/permissions": "grant.create",
  "DELETE /buckets/:bucket/permissions/:grantId": "grant.delete",
  "POST /policies": "policy.create",
  "PATCH /policies/:id": "policy.update",
  "DELETE /policies/:id": "policy.delete",
  "PUT /policies/:id/attachments/:kind/:subjectId": "policy.attach",
  "DELETE /policies/:id/attachments/:kind/:subjectId": "policy.detach",
  "POST /buckets": "bucket.create",
  "DELETE /buckets/:bucket": "bucket.delete",
};

/** Refusals (no right to do it) are `denied`; everything else that went wrong is `failure`. */
const DENIED = new Set(["Forbidden", "CsrfRejected", "Unauthenticated"]);

/** Whether failures of this route are audited (the router keeps a copy of its JSON body). */
export function isAuditedChange(route: Route): boolean {
  return `${route.method} ${route.path}` in AUDITED_CHANGES;
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
  const action = AUDITED_CHANGES[`${route.method} ${route.path}`];
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
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      result: DENIED.has(code) ? "denied" : "failure",
      detail: `${code}: ${message}`.slice(0, 500),
    });
  } catch (err) {
    ctx.deps.log.warn("audit write failed", { error: String(err) });
  }
}
