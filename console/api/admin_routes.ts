/** Users, tenants, access keys and the audit log. */
import { IamError } from "../../server/iam/errors.ts";
import { type AuditEvent, queryAudit, recordAudit } from "../../server/iam/audit.ts";
import { type Role, ROLE_RANK } from "../../server/iam/core.ts";
import {
  countGlobalAdmins,
  createUser,
  deleteUser,
  getUser,
  listUsers,
  revokeUserSessions,
  setPassword,
  unlockUser,
  updateUser,
  type User,
} from "../../server/iam/users.ts";
import { checkPassword } from "../../server/iam/users.ts";
import {
  createTenant,
  deleteTenant,
  getTenant,
  listTenants,
  updateTenant,
  withUsage,
} from "../../server/iam/tenants.ts";
import {
  createAccessKey,
  deleteAccessKey,
  getAccessKey,
  listAccessKeys,
  updateAccessKey,
} from "../../server/iam/access_keys.ts";
import { disableTotp } from "../../server/iam/auth.ts";
import { listSessions } from "../../server/iam/sessions.ts";
import {
  canManageUser,
  canSeeUser,
  isAdmin,
  isGlobalAdmin,
  requireAdmin,
  requireGlobalAdmin,
  scopeTenant,
} from "./access.ts";
import { type Authed, intParam, json, noContent, readJson, type Route, route } from "./http.ts";

export function audit(
  ctx: Authed,
  e: Omit<AuditEvent, "result"> & { result?: AuditEvent["result"] },
): void {
  recordAudit(ctx.deps.iam.core, {
    actorId: ctx.user.id,
    actorName: ctx.user.username,
    tenantId: e.tenantId === undefined ? ctx.user.tenantId : e.tenantId,
    ip: ctx.client.ip,
    userAgent: ctx.userAgent,
    result: "success",
    ...e,
  });
}

/** The user addressed by `:id`, or NotFound when the caller may not see it. */
function visibleUser(ctx: Authed): User {
  const u = getUser(ctx.deps.iam.core, ctx.params.id);
  if (!u || !canSeeUser(ctx.user, u)) throw new IamError("NotFound", "no such user");
  return u;
}

function managedUser(ctx: Authed): User {
  const u = visibleUser(ctx);
  if (!canManageUser(ctx.user, u)) throw new IamError("Forbidden", "you may not manage this user");
  return u;
}

const userRoutes: Route[] = [
  route("GET", "/users", (ctx) => {
    requireAdmin(ctx);
    const q = ctx.url.searchParams.get("q") ?? undefined;
    const tenantId = isGlobalAdmin(ctx.user)
      ? (ctx.url.searchParams.get("tenantId") || undefined)
      : ctx.user.tenantId!;
    return json({ items: listUsers(ctx.deps.iam.core, { tenantId, q }) });
  }),
  route("POST", "/users", async (ctx) => {
    requireAdmin(ctx);
    const body = await readJson(ctx.req);
    const role = body.role ?? "tenant_user";
    if (typeof role === "string" && role in ROLE_RANK) {
      if (ROLE_RANK[role as Role] > ROLE_RANK[ctx.user.role]) {
        throw new IamError("Forbidden", "you may not create a user above your own role");
      }
    }
    const tenantId = isGlobalAdmin(ctx.user) ? body.tenantId : ctx.user.tenantId;
    const u = await createUser(ctx.deps.iam.core, { ...body, role, tenantId } as never);
    audit(ctx, { action: "user.create", resource: `user/${u.username}`, tenantId: u.tenantId });
    return json(u, 201);
  }, { audit: "user.create" }),
  route("GET", "/users/:id", (ctx) => json(visibleUser(ctx))),
  route("PATCH", "/users/:id", async (ctx) => {
    const target = visibleUser(ctx);
    const body = await readJson(ctx.req);
    const privileged = ["role", "status", "tenantId"].filter((f) => body[f] !== undefined);
    const self = target.id === ctx.user.id;
    if (privileged.length) {
      // Nobody changes their own role, status or tenant: that is how escalation starts.
      if (self) throw new IamError("Forbidden", `you may not change your own ${privileged[0]}`);
      if (!canManageUser(ctx.user, target)) {
        throw new IamError("Forbidden", "you may not manage this user");
      }
      if (body.role !== undefined && typeof body.role === "string" && body.role in ROLE_RANK) {
        if (ROLE_RANK[body.role as Role] > ROLE_RANK[ctx.user.role]) {
          throw new IamError("Forbidden", "you may not grant a role above your own");
        }
      }
      if (body.tenantId !== undefined && !isGlobalAdmin(ctx.user)) {
        throw new IamError("Forbidden", "only global administrators move users between tenants");
      }
      if (
        target.role === "global_admin" &&
        (body.status === "disabled" || (body.role && body.role !== "global_admin")) &&
        countGlobalAdmins(ctx.deps.iam.core) <= 1
      ) {
        throw new IamError("Conflict", "the last global administrator must stay");
      }
    } else if (!self && !canManageUser(ctx.user, target)) {
      throw new IamError("Forbidden", "you may not manage this user");
    }
    const u = updateUser(ctx.deps.iam.core, target.id, body);
    audit(ctx, {
      action: "user.update",
      resource: `user/${u.username}`,
      tenantId: u.tenantId,
      detail: Object.keys(body).join(","),
    });
    return json(u);
  }, { audit: "user.update" }),
  route("DELETE", "/users/:id", (ctx) => {
    const target = managedUser(ctx);
    if (target.id === ctx.user.id) throw new IamError("Forbidden", "you may not delete yourself");
    if (target.role === "global_admin" && countGlobalAdmins(ctx.deps.iam.core) <= 1) {
      throw new IamError("Conflict", "the last global administrator must stay");
    }
    deleteUser(ctx.deps.iam.core, target.id);
    audit(ctx, {
      action: "user.delete",
      resource: `user/${target.username}`,
      tenantId: target.tenantId,
    });
    return noContent();
  }, { audit: "user.delete" }),
  route("POST", "/users/:id/password", async (ctx) => {
    const target = managedUser(ctx);
    if (target.id === ctx.user.id) {
      throw new IamError("Forbidden", "use /auth/password for your own password");
    }
    const body = await readJson(ctx.req);
    const pw = checkPassword(ctx.deps.iam.core, body.password);
    await setPassword(ctx.deps.iam.core, target.id, pw, body.mustChangePassword !== false);
    audit(ctx, {
      action: "password.reset",
      resource: `user/${target.username}`,
      tenantId: target.tenantId,
    });
    return noContent();
  }, { audit: "password.reset" }),
  route("POST", "/users/:id/unlock", (ctx) => {
    const target = managedUser(ctx);
    unlockUser(ctx.deps.iam.core, target.id);
    audit(ctx, {
      action: "user.unlock",
      resource: `user/${target.username}`,
      tenantId: target.tenantId,
    });
    return noContent();
  }, { audit: "user.unlock" }),
  route("POST", "/users/:id/2fa/reset", async (ctx) => {
    const target = managedUser(ctx);
    if (target.id === ctx.user.id) throw new IamError("Forbidden", "use /auth/2fa/disable");
    await disableTotp(ctx.deps.iam.core, target.id, {}, { force: true });
    audit(ctx, {
      action: "2fa.disable",
      resource: `user/${target.username}`,
      tenantId: target.tenantId,
      detail: "admin reset",
    });
    return noContent();
  }, { audit: "2fa.disable" }),
  route("GET", "/users/:id/sessions", (ctx) => {
    const target = visibleUser(ctx);
    if (target.id !== ctx.user.id && !canManageUser(ctx.user, target)) {
      throw new IamError("Forbidden", "you may not manage this user");
    }
    return json({ items: listSessions(ctx.deps.iam.core, target.id) });
  }),
  route("DELETE", "/users/:id/sessions", (ctx) => {
    const target = visibleUser(ctx);
    if (target.id !== ctx.user.id && !canManageUser(ctx.user, target)) {
      throw new IamError("Forbidden", "you may not manage this user");
    }
    revokeUserSessions(ctx.deps.iam.core, target.id);
    audit(ctx, {
      action: "session.revoke",
      resource: `user/${target.username}`,
      tenantId: target.tenantId,
      detail: "all sessions",
    });
    return noContent();
  }, { audit: "session.revoke" }),
];

/** The tenant of `:id` when the caller may see it (else NotFound, revealing nothing). */
export function visibleTenant(ctx: Authed) {
  const t = getTenant(ctx.deps.iam.core, ctx.params.id);
  if (!t || !(isGlobalAdmin(ctx.user) || ctx.user.tenantId === t.id)) {
    throw new IamError("NotFound", "no such tenant");
  }
  return t;
}

const tenantRoutes: Route[] = [
  route("GET", "/tenants", async (ctx) => {
    const core = ctx.deps.iam.core;
    const all = isGlobalAdmin(ctx.user)
      ? listTenants(core)
      : [getTenant(core, ctx.user.tenantId!)].filter((t) => t !== null);
    return json({ items: await Promise.all(all.map((t) => withUsage(core, t))) });
  }),
  route("POST", "/tenants", async (ctx) => {
    requireGlobalAdmin(ctx);
    const t = createTenant(ctx.deps.iam.core, await readJson(ctx.req) as never);
    audit(ctx, { action: "tenant.create", resource: `tenant/${t.name}`, tenantId: t.id });
    return json(await withUsage(ctx.deps.iam.core, t), 201);
  }, { audit: "tenant.create" }),
  route(
    "GET",
    "/tenants/:id",
    async (ctx) => json(await withUsage(ctx.deps.iam.core, visibleTenant(ctx))),
  ),
  route("PATCH", "/tenants/:id", async (ctx) => {
    const t0 = visibleTenant(ctx);
    requireGlobalAdmin(ctx);
    const body = await readJson(ctx.req);
    const t = updateTenant(ctx.deps.iam.core, t0.id, body);
    audit(ctx, {
      action: "tenant.update",
      resource: `tenant/${t.name}`,
      tenantId: t.id,
      detail: JSON.stringify(body).slice(0, 500),
    });
    return json(await withUsage(ctx.deps.iam.core, t));
  }, { audit: "tenant.update" }),
  route("DELETE", "/tenants/:id", async (ctx) => {
    const t = visibleTenant(ctx);
    requireGlobalAdmin(ctx);
    await deleteTenant(ctx.deps.iam.core, t.id);
    audit(ctx, { action: "tenant.delete", resource: `tenant/${t.name}`, tenantId: t.id });
    return noContent();
  }, { audit: "tenant.delete" }),
];

function keyInReach(ctx: Authed) {
  const core = ctx.deps.iam.core;
  const k = getAccessKey(core, ctx.params.accessKeyId);
  const owner = k ? getUser(core, k.userId) : null;
  if (!k || !owner) throw new IamError("NotFound", "no such access key");
  const ok = owner.id === ctx.user.id || (isAdmin(ctx.user) && canManageUser(ctx.user, owner));
  if (!ok) throw new IamError("NotFound", "no such access key");
  return { key: k, owner };
}

const keyRoutes: Route[] = [
  route("GET", "/access-keys", (ctx) => {
    const core = ctx.deps.iam.core;
    const userId = ctx.url.searchParams.get("userId");
    if (userId) {
      const u = getUser(core, userId);
      if (!u || !(u.id === ctx.user.id || (isAdmin(ctx.user) && canSeeUser(ctx.user, u)))) {
        throw new IamError("NotFound", "no such user");
      }
      return json({ items: listAccessKeys(core, { userId }) });
    }
    if (isGlobalAdmin(ctx.user)) return json({ items: listAccessKeys(core, {}) });
    if (isAdmin(ctx.user)) {
      return json({ items: listAccessKeys(core, { tenantId: ctx.user.tenantId! }) });
    }
    return json({ items: listAccessKeys(core, { userId: ctx.user.id }) });
  }),
  route("POST", "/access-keys", async (ctx) => {
    const core = ctx.deps.iam.core;
    const body = await readJson(ctx.req);
    let owner = ctx.user;
    if (body.userId !== undefined && body.userId !== ctx.user.id) {
      const u = typeof body.userId === "string" ? getUser(core, body.userId) : null;
      if (!u || !canSeeUser(ctx.user, u)) throw new IamError("NotFound", "no such user");
      if (!isAdmin(ctx.user) || !canManageUser(ctx.user, u)) {
        throw new IamError("Forbidden", "you may not create keys for this user");
      }
      owner = u;
    }
    if (body.description !== undefined && typeof body.description !== "string") {
      throw new IamError("InvalidRequest", "description must be a string");
    }
    const k = await createAccessKey(core, owner.id, (body.description as string) ?? "");
    audit(ctx, {
      action: "access_key.create",
      resource: `access_key/${k.accessKeyId}`,
      tenantId: owner.tenantId,
      detail: `user ${owner.username}`,
    });
    return json(k, 201);
  }, { audit: "access_key.create" }),
  route("PATCH", "/access-keys/:accessKeyId", async (ctx) => {
    const { key, owner } = keyInReach(ctx);
    const body = await readJson(ctx.req);
    const k = updateAccessKey(ctx.deps.iam.core, key.accessKeyId, body);
    audit(ctx, {
      action: "access_key.update",
      resource: `access_key/${k.accessKeyId}`,
      tenantId: owner.tenantId,
      detail: `status ${k.status}`,
    });
    return json(k);
  }, { audit: "access_key.update" }),
  route("DELETE", "/access-keys/:accessKeyId", (ctx) => {
    const { key, owner } = keyInReach(ctx);
    deleteAccessKey(ctx.deps.iam.core, key.accessKeyId);
    audit(ctx, {
      action: "access_key.delete",
      resource: `access_key/${key.accessKeyId}`,
      tenantId: owner.tenantId,
    });
    return noContent();
  }, { audit: "access_key.delete" }),
];

const auditRoutes: Route[] = [
  route("GET", "/audit", (ctx) => {
    requireAdmin(ctx);
    const p = ctx.url.searchParams;
    const tenantId = scopeTenant(ctx, p.get("tenantId") ?? undefined);
    const cursor = p.get("cursor");
    return json(queryAudit(ctx.deps.iam.core, {
      from: intParam(ctx.url, "from"),
      to: intParam(ctx.url, "to"),
      actor: p.get("actor") ?? undefined,
      action: p.get("action") ?? undefined,
      result: p.get("result") ?? undefined,
      tenantId: tenantId ?? undefined,
      limit: intParam(ctx.url, "limit", 100),
      before: cursor ? Number(cursor) : undefined,
    }));
  }),
];

export const adminRoutes: Route[] = [...userRoutes, ...tenantRoutes, ...keyRoutes, ...auditRoutes];
