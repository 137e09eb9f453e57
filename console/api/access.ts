/**
 * Who may see and change what in the console API. Things outside the caller's reach are
 * reported as `NotFound`, so other tenants' users, keys and buckets are never revealed.
 */
import { IamError } from "../../server/iam/errors.ts";
import { ROLE_RANK } from "../../server/iam/core.ts";
import { getTenant } from "../../server/iam/tenants.ts";
import type { User } from "../../server/iam/users.ts";
import type { Authed } from "./http.ts";

export const isGlobalAdmin = (u: User) => u.role === "global_admin";
export const isAdmin = (u: User) => u.role !== "tenant_user";

export function requireAdmin(ctx: Authed): void {
  if (!isAdmin(ctx.user)) throw new IamError("Forbidden", "administrators only");
}

export function requireGlobalAdmin(ctx: Authed): void {
  if (!isGlobalAdmin(ctx.user)) throw new IamError("Forbidden", "global administrators only");
}

export function canSeeUser(actor: User, target: User): boolean {
  if (actor.id === target.id || isGlobalAdmin(actor)) return true;
  return actor.role === "tenant_admin" && target.tenantId === actor.tenantId;
}

/** Admin actions on another user: global admins on anyone, tenant admins inside their tenant. */
export function canManageUser(actor: User, target: User): boolean {
  if (isGlobalAdmin(actor)) return true;
  return actor.role === "tenant_admin" && target.tenantId === actor.tenantId &&
    ROLE_RANK[target.role] <= ROLE_RANK[actor.role];
}

/** A tenant scope for tenant-owned records: `?tenantId=` for global admins, else the caller's. */
export function scopeTenant(ctx: Authed, requested: unknown): string | null {
  if (isGlobalAdmin(ctx.user)) {
    if (requested === undefined || requested === null || requested === "") return null;
    if (typeof requested !== "string" || !getTenant(ctx.deps.iam.core, requested)) {
      throw new IamError("NotFound", "no such tenant");
    }
    return requested;
  }
  return ctx.user.tenantId;
}

/** Whether a tenant-owned record (tenantId null = global) is within the caller's reach. */
export function inReach(actor: User, tenantId: string | null): boolean {
  return isGlobalAdmin(actor) || (tenantId !== null && tenantId === actor.tenantId);
}
