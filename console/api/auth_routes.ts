/** /auth/*: login with optional TOTP step, session refresh and logout, me, password, 2FA. */
import { IamError } from "../../server/iam/errors.ts";
import { recordAudit } from "../../server/iam/audit.ts";
import {
  changePassword,
  disableTotp,
  enableTotp,
  login,
  type LoginResult,
  regenerateBackupCodes,
  setupTotp,
  verifyLoginTotp,
} from "../../server/iam/auth.ts";
import { createSession, listSessions, revokeSession } from "../../server/iam/sessions.ts";
import { getTenant, withUsage } from "../../server/iam/tenants.ts";
import { getUser } from "../../server/iam/users.ts";
import {
  type ApiCtx,
  type Authed,
  json,
  noContent,
  publicRoute,
  readJson,
  type Route,
  route,
} from "./http.ts";

export const SESSION_COOKIE = "maxiofs_session";

function sessionCookie(ctx: ApiCtx, token: string, expiresAt: number): string {
  const maxAge = Math.max(0, Math.floor((expiresAt - ctx.deps.iam.core.clock.now()) / 1000));
  const secure = ctx.url.protocol === "https:" ? "; Secure" : "";
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${secure}`;
}

const CLEAR_COOKIE = `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;

function loginAnswer(ctx: ApiCtx, r: LoginResult): Response {
  if (r.kind === "totp") return json({ totpRequired: true, challenge: r.challenge });
  return json(
    {
      token: r.token,
      expiresAt: r.expiresAt,
      user: r.user,
      mustChangePassword: r.user.mustChangePassword,
    },
    200,
    { "set-cookie": sessionCookie(ctx, r.token, r.expiresAt) },
  );
}

function audit(ctx: Authed, action: string, resource: string, detail?: string) {
  recordAudit(ctx.deps.iam.core, {
    actorId: ctx.user.id,
    actorName: ctx.user.username,
    tenantId: ctx.user.tenantId,
    action,
    resource,
    ip: ctx.client.ip,
    userAgent: ctx.userAgent,
    result: "success",
    detail: detail ?? null,
  });
}

const client = (ctx: ApiCtx) => ({ ip: ctx.client.ip, userAgent: ctx.userAgent });

export const authRoutes: Route[] = [
  publicRoute("POST", "/auth/login", async (ctx) => {
    ctx.deps.iam.limiter.hit(ctx.client.ip);
    const body = await readJson(ctx.req);
    return loginAnswer(ctx, await login(ctx.deps.iam.core, body as never, client(ctx)));
  }, { duringMaintenance: true }),
  publicRoute("POST", "/auth/2fa/verify", async (ctx) => {
    ctx.deps.iam.limiter.hit(ctx.client.ip);
    const body = await readJson(ctx.req);
    return loginAnswer(ctx, await verifyLoginTotp(ctx.deps.iam.core, body as never, client(ctx)));
  }, { duringMaintenance: true }),
  route("POST", "/auth/refresh", (ctx) => {
    const core = ctx.deps.iam.core;
    const next = createSession(core, ctx.user.id, client(ctx));
    revokeSession(core, ctx.session.id);
    return json({ token: next.token, expiresAt: next.expiresAt }, 200, {
      "set-cookie": sessionCookie(ctx, next.token, next.expiresAt),
    });
  }, { duringPasswordChange: true, duringMaintenance: true }),
  route("POST", "/auth/logout", (ctx) => {
    revokeSession(ctx.deps.iam.core, ctx.session.id);
    audit(ctx, "logout", `user/${ctx.user.username}`);
    return noContent({ "set-cookie": CLEAR_COOKIE });
  }, { duringPasswordChange: true, duringMaintenance: true }),
  route("GET", "/auth/me", async (ctx) => {
    const t = ctx.user.tenantId ? getTenant(ctx.deps.iam.core, ctx.user.tenantId) : null;
    return json({
      user: ctx.user,
      tenant: t ? await withUsage(ctx.deps.iam.core, t) : null,
      mustChangePassword: ctx.user.mustChangePassword,
      session: { id: ctx.session.id, expiresAt: ctx.session.expiresAt },
    });
  }, { duringPasswordChange: true }),
  route("POST", "/auth/password", async (ctx) => {
    const body = await readJson(ctx.req);
    await changePassword(ctx.deps.iam.core, ctx.user.id, body as never, ctx.session.id);
    audit(ctx, "password.change", `user/${ctx.user.username}`);
    return noContent();
  }, { duringPasswordChange: true, duringMaintenance: true, audit: "password.change" }),
  route("GET", "/auth/sessions", (ctx) =>
    json({
      items: listSessions(ctx.deps.iam.core, ctx.user.id).map((s) => ({
        id: s.id,
        createdAt: s.createdAt,
        expiresAt: s.expiresAt,
        ip: s.ip,
        userAgent: s.userAgent,
        current: s.id === ctx.session.id,
      })),
    })),
  route("DELETE", "/auth/sessions/:id", (ctx) => {
    const mine = listSessions(ctx.deps.iam.core, ctx.user.id).some((s) => s.id === ctx.params.id);
    if (!mine) throw new IamError("NotFound", "no such session");
    revokeSession(ctx.deps.iam.core, ctx.params.id);
    audit(ctx, "session.revoke", `user/${ctx.user.username}`);
    return noContent();
  }, { audit: "session.revoke" }),
  route(
    "POST",
    "/auth/2fa/setup",
    async (ctx) => {
      const setup = await setupTotp(ctx.deps.iam.core, ctx.user.id);
      audit(ctx, "2fa.setup", `user/${ctx.user.username}`, "pending until enabled");
      return json(setup);
    },
    { audit: "2fa.setup" },
  ),
  route("POST", "/auth/2fa/enable", async (ctx) => {
    const body = await readJson(ctx.req);
    const codes = await enableTotp(ctx.deps.iam.core, ctx.user.id, body.code);
    audit(ctx, "2fa.enable", `user/${ctx.user.username}`);
    return json({ backupCodes: codes });
  }, { audit: "2fa.enable" }),
  route("POST", "/auth/2fa/disable", async (ctx) => {
    const body = await readJson(ctx.req);
    await disableTotp(ctx.deps.iam.core, ctx.user.id, body);
    audit(ctx, "2fa.disable", `user/${ctx.user.username}`);
    return noContent();
  }, { audit: "2fa.disable" }),
  route("POST", "/auth/2fa/backup-codes", async (ctx) => {
    const body = await readJson(ctx.req);
    const codes = await regenerateBackupCodes(ctx.deps.iam.core, ctx.user.id, body.code);
    audit(ctx, "2fa.backup_codes", `user/${ctx.user.username}`);
    return json({ backupCodes: codes });
  }, { audit: "2fa.backup_codes" }),
];

/** Re-reads the user for a session (status, role and tenant may have changed). */
export function sessionUser(ctx: ApiCtx, userId: string) {
  return getUser(ctx.deps.iam.core, userId);
}
