/**
 * Alerts for administrators: the list with its unread count, read marks, resolving an alert by
 * hand, a check run now, and the Test email button of the email settings. Global administrators
 * see every alert; a tenant's administrators see their tenant's (its quota, its locked users).
 */
import { IamError } from "../../server/iam/errors.ts";
import { sendMail } from "../../server/features/alerts/mailer.ts";
import type { AlertMonitor } from "../../server/features/alerts/monitor.ts";
import { type Authed, json, readJson, type Route, route } from "./http.ts";
import { isGlobalAdmin, requireAdmin, requireGlobalAdmin } from "./access.ts";
import { audit } from "./admin_routes.ts";

function monitorOf(ctx: Authed): AlertMonitor {
  const m = ctx.deps.alerts;
  if (!m) throw new IamError("NotFound", "alerts are not available on this server");
  return m;
}

/** The tenant whose alerts the caller sees; undefined for global administrators (all). */
function scopeOf(ctx: Authed): string | undefined {
  requireAdmin(ctx);
  return isGlobalAdmin(ctx.user) ? undefined : ctx.user.tenantId ?? "";
}

export const alertRoutes: Route[] = [
  route("GET", "/alerts", (ctx) => {
    const tenantId = scopeOf(ctx);
    const store = monitorOf(ctx).center.store;
    const limit = Number(ctx.url.searchParams.get("limit") ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new IamError("InvalidRequest", "limit must be an integer from 1 to 1000");
    }
    return json({
      items: store.list({ tenantId, active: ctx.url.searchParams.get("active") === "true", limit }),
      unread: store.unreadCount(tenantId),
    });
  }),
  route("POST", "/alerts/read", async (ctx) => {
    const tenantId = scopeOf(ctx);
    const body = await readJson(ctx.req);
    const ids = body.ids;
    if (ids !== undefined && (!Array.isArray(ids) || !ids.every(Number.isInteger))) {
      throw new IamError("InvalidRequest", "ids must be an array of alert ids");
    }
    const store = monitorOf(ctx).center.store;
    const marked = store.markRead((ids as number[] | undefined) ?? null, Date.now(), tenantId);
    return json({ marked, unread: store.unreadCount(tenantId) });
  }),
  route("POST", "/alerts/:id/resolve", (ctx) => {
    const tenantId = scopeOf(ctx);
    const id = Number(ctx.params.id);
    const center = monitorOf(ctx).center;
    const alert = center.store.list({ tenantId, active: true, limit: 1000 }).find((a) =>
      a.id === id
    );
    if (!alert) throw new IamError("NotFound", `no open alert ${ctx.params.id}`);
    const n = center.resolveId(id)!;
    audit(ctx, {
      action: "alert.resolve",
      resource: `alert/${alert.key}`,
      tenantId: alert.tenantId,
      detail: alert.title,
    });
    return json(n.alert);
  }, { audit: "alert.resolve" }),
  route("POST", "/alerts/check", async (ctx) => {
    requireGlobalAdmin(ctx);
    const notices = await monitorOf(ctx).checkNow();
    return json({ changes: notices.map((n) => ({ kind: n.kind, key: n.alert.key })) });
  }),
  route("POST", "/settings/email/test", async (ctx) => {
    requireGlobalAdmin(ctx);
    const settings = await ctx.deps.emailSettings?.();
    if (!settings || !settings.host) {
      throw new IamError("InvalidRequest", "set the SMTP server in the email settings first");
    }
    try {
      await sendMail(settings, {
        subject: "[MaxIOFS] Test email",
        text: `This is a test email sent from the MaxIOFS console by ${ctx.user.username}.\n` +
          "Alerts will be delivered to this address.",
      });
    } catch (e) {
      audit(ctx, {
        action: "settings.email.test",
        resource: "settings/email",
        tenantId: null,
        result: "failure",
        detail: (e as Error).message,
      });
      throw new IamError("UpstreamFailed", (e as Error).message);
    }
    audit(ctx, {
      action: "settings.email.test",
      resource: "settings/email",
      tenantId: null,
      detail: `to ${settings.to.join(", ")}`,
    });
    return json({ sent: true, to: settings.to });
  }),
];
