/**
 * The console JSON API under `/api/v1` (contract: docs/api.md). Plain `Request -> Response`:
 * resolve the session (bearer token or cookie), apply CSRF and forced-password-change rules,
 * route, and turn every error into the uniform `{error: {code, message}}` document.
 */
import { IamError } from "../../server/iam/errors.ts";
import { isS3Error } from "../../server/s3/errors.ts";
import { sessionOfToken } from "../../server/iam/sessions.ts";
import { getTenant } from "../../server/iam/tenants.ts";
import { getUser } from "../../server/iam/users.ts";
import type { Client } from "../../server/iam/net.ts";
import { newRequestId } from "../../server/s3/handler.ts";
import {
  type ApiCtx,
  type ApiDeps,
  type Authed,
  errorResponse,
  json,
  parsedJsonOf,
  type Route,
} from "./http.ts";
import { authRoutes, SESSION_COOKIE } from "./auth_routes.ts";
import { adminRoutes } from "./admin_routes.ts";
import { accessRoutes } from "./access_routes.ts";
import { bucketRoutes } from "./bucket_routes.ts";
import { publicAccessRoutes } from "./public_access_routes.ts";
import { integrityRoutes } from "./integrity_routes.ts";
import { alertRoutes } from "./alert_routes.ts";
import { historyRoutes } from "./history_routes.ts";
import { kmsRoutes } from "./kms_routes.ts";
import { encryptionRoutes } from "./encryption_routes.ts";
import { bucketEncryptionRoutes } from "./bucket_encryption_routes.ts";
import { auditFailure, isAuditedChange } from "./audit_failures.ts";
import { eventRoutes } from "./event_routes.ts";
import { settingsRoutes } from "./settings_routes.ts";
import { bucketQuotaRoutes } from "./bucket_quota_routes.ts";
import { bucketEmptyRoutes } from "./bucket_empty.ts";
import { websiteRoutes } from "./website_routes.ts";
import { notificationRoutes } from "./notification_routes.ts";
import { bucketServicesRoutes } from "./bucket_services_routes.ts";
import { shareRoutes } from "./share_routes.ts";
import { searchRoutes } from "./search_routes.ts";
import { replicationRoutes } from "./replication_routes.ts";

export type { ApiDeps } from "./http.ts";

export const API_PREFIX = "/api/v1";

const ROUTES: Route[] = [
  ...authRoutes,
  ...adminRoutes,
  ...accessRoutes,
  ...bucketRoutes,
  ...bucketEncryptionRoutes,
  ...bucketServicesRoutes,
  ...publicAccessRoutes,
  ...integrityRoutes,
  ...alertRoutes,
  ...historyRoutes,
  ...settingsRoutes,
  ...bucketQuotaRoutes,
  ...bucketEmptyRoutes,
  ...websiteRoutes,
  ...replicationRoutes,
  ...eventRoutes,
  ...kmsRoutes,
  ...encryptionRoutes,
  ...notificationRoutes,
  ...shareRoutes,
  ...searchRoutes,
];

/**
 * Maintenance mode: changes answer 503 (`ServiceUnavailable`, with `Retry-After`) except the
 * routes that stay open for it (sign-in, settings); reads go on.
 */
function refuseDuringMaintenance(deps: ApiDeps, method: string, route: Route): void {
  if (method === "GET" || method === "HEAD" || route.duringMaintenance) return;
  const m = deps.iam.settings.current().system;
  if (!m.maintenanceMode) return;
  throw new IamError(
    "ServiceUnavailable",
    m.maintenanceMessage
      ? `The server is in maintenance mode: ${m.maintenanceMessage}`
      : "The server is in maintenance mode; changes are refused until it ends.",
    { retryAfter: 60 },
  );
}

function tokenOf(req: Request): { token: string; viaCookie: boolean } | null {
  const auth = req.headers.get("authorization");
  if (auth?.toLowerCase().startsWith("bearer ")) {
    return { token: auth.slice(7).trim(), viaCookie: false };
  }
  const cookie = req.headers.get("cookie");
  if (cookie) {
    for (const part of cookie.split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
        return { token: part.slice(eq + 1).trim(), viaCookie: true };
      }
    }
  }
  return null;
}

/** Resolves the session and its (fresh) user; throws `Unauthenticated`. */
function authenticate(ctx: ApiCtx): Authed {
  const t = tokenOf(ctx.req);
  if (!t) throw new IamError("Unauthenticated", "log in first");
  const core = ctx.deps.iam.core;
  const session = sessionOfToken(core, t.token);
  const user = session ? getUser(core, session.userId) : null;
  if (!session || !user || user.status !== "active") {
    throw new IamError("Unauthenticated", "the session is not valid; log in again");
  }
  if (user.tenantId && getTenant(core, user.tenantId)?.status !== "active") {
    throw new IamError("Unauthenticated", "the tenant is suspended");
  }
  if (t.viaCookie && !["GET", "HEAD", "OPTIONS"].includes(ctx.req.method)) {
    const origin = ctx.req.headers.get("origin");
    const host = ctx.req.headers.get("host") ?? ctx.url.host;
    if (origin !== null && (origin === "null" || new URL(origin).host !== host)) {
      throw new IamError("CsrfRejected", "cross-site request refused");
    }
  }
  return { ...ctx, session, user, viaCookie: t.viaCookie };
}

function match(
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | "method" | null {
  let pathMatched = false;
  for (const r of ROUTES) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== method) continue;
    const params: Record<string, string> = {};
    r.names.forEach((n, i) => {
      const v = m[i + 1] ?? "";
      try {
        params[n] = decodeURIComponent(v);
      } catch {
        params[n] = v;
      }
    });
    return { route: r, params };
  }
  return pathMatched ? "method" : null;
}

/**
 * The console API. Every response carries `x-request-id` (the id an error is logged with), as
 * S3 responses carry `x-amz-request-id`.
 */
export function createApiHandler(
  deps: ApiDeps,
): (req: Request, client: Client) => Promise<Response> {
  const handle = apiHandler(deps);
  return async (req, client) => {
    const requestId = newRequestId();
    const res = await handle(req, client, requestId);
    try {
      res.headers.set("x-request-id", requestId);
      return res;
    } catch {
      // Immutable headers (a response passed through as it came): answer a copy.
      const copy = new Response(res.body, res);
      copy.headers.set("x-request-id", requestId);
      return copy;
    }
  };
}

function apiHandler(
  deps: ApiDeps,
): (req: Request, client: Client, requestId: string) => Promise<Response> {
  return async (req, client, requestId) => {
    const url = new URL(req.url);
    const path = url.pathname.slice(API_PREFIX.length) || "/";
    const ctx: ApiCtx = {
      req,
      url,
      params: {},
      client,
      userAgent: req.headers.get("user-agent"),
      deps,
      session: null,
      user: null,
      viaCookie: false,
    };
    try {
      if (path === "/health") return json({ status: "ok" });
      const m = match(req.method, path);
      if (m === null) throw new IamError("NotFound", `no API endpoint ${path}`);
      if (m === "method") {
        return json({
          error: { code: "MethodNotAllowed", message: `${req.method} is not allowed here` },
        }, 405);
      }
      ctx.params = m.params;
      refuseDuringMaintenance(deps, req.method, m.route);
      if (!m.route.auth) return await m.route.handler(ctx as Authed);
      const authed = authenticate(ctx);
      if (authed.user.mustChangePassword && !m.route.duringPasswordChange) {
        throw new IamError(
          "PasswordChangeRequired",
          "change your password first (POST /api/v1/auth/password)",
        );
      }
      try {
        return await m.route.handler(authed);
      } catch (e) {
        // The JSON body the handler read (if it got that far) names the target of the change.
        if (isAuditedChange(m.route)) auditFailure(authed, m.route, path, e, parsedJsonOf(req));
        throw e;
      }
    } catch (e) {
      if (req.body && !req.bodyUsed) req.body.cancel().catch(() => {});
      if (e instanceof IamError) return errorResponse(e);
      if (isS3Error(e)) {
        return errorResponse(new IamError("InvalidRequest", e.message, { s3Code: e.code }));
      }
      deps.log.error("console API request failed", {
        requestId,
        path,
        error: String((e as Error)?.stack ?? e),
      });
      return errorResponse(new IamError("InternalError", "internal error"));
    }
  };
}
