/** Console users: roles, passwords, status, lockout state and TOTP. */
import { tx } from "../db/mod.ts";
import { type IamCore, newId, num, type Role, ROLES, type Row, sql } from "./core.ts";
import { getSettings } from "./settings.ts";
import { IamError } from "./errors.ts";
import { hashPassword, passwordProblem } from "./passwords.ts";
import { getTenant } from "./tenants.ts";
import type { GranteeLookup } from "./acl.ts";

export interface User {
  id: string;
  username: string;
  tenantId: string | null;
  role: Role;
  displayName: string;
  email: string;
  status: "active" | "disabled";
  mustChangePassword: boolean;
  totpEnabled: boolean;
  lockedUntil: number | null;
  createdAt: number;
  lastLoginAt: number | null;
}

/** The stored row fields the auth flow needs beyond the public view. */
export interface UserSecrets {
  passwordHash: string;
  failedLogins: number;
  totpSecret: string | null;
  totpPending: string | null;
  totpLastStep: number | null;
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$/;

export function toUser(r: Row): User {
  return {
    id: r.id as string,
    username: r.username as string,
    tenantId: (r.tenant_id as string | null) ?? null,
    role: r.role as Role,
    displayName: r.display_name as string,
    email: r.email as string,
    status: r.status as User["status"],
    mustChangePassword: !!r.must_change_password,
    totpEnabled: !!r.totp_enabled,
    lockedUntil: num(r.locked_until),
    createdAt: Number(r.created_at),
    lastLoginAt: num(r.last_login_at),
  };
}

export function toSecrets(r: Row): UserSecrets {
  return {
    passwordHash: r.password_hash as string,
    failedLogins: Number(r.failed_logins),
    totpSecret: (r.totp_secret as string | null) ?? null,
    totpPending: (r.totp_pending as string | null) ?? null,
    totpLastStep: num(r.totp_last_step),
  };
}

export function getUserRow(core: IamCore, id: string): Row | null {
  return (sql(core, "SELECT * FROM users WHERE id = ?").get(id) as Row | undefined) ?? null;
}

export function getUser(core: IamCore, id: string): User | null {
  const r = getUserRow(core, id);
  return r ? toUser(r) : null;
}

export function getUserByName(core: IamCore, username: string): Row | null {
  return (sql(core, "SELECT * FROM users WHERE username = ?").get(username) as
    | Row
    | undefined) ?? null;
}

export function listUsers(core: IamCore, filter: { tenantId?: string | null; q?: string }): User[] {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.tenantId !== undefined) {
    if (filter.tenantId === null) where.push("tenant_id IS NULL");
    else (where.push("tenant_id = ?"), args.push(filter.tenantId));
  }
  if (filter.q) {
    where.push("(username LIKE ? OR display_name LIKE ? OR email LIKE ?)");
    const like = `%${filter.q}%`;
    args.push(like, like, like);
  }
  const text = `SELECT * FROM users ${where.length ? "WHERE " + where.join(" AND ") : ""}
    ORDER BY username`;
  return (sql(core, text).all(...args) as Row[]).map(toUser);
}

export function checkPassword(core: IamCore, password: unknown): string {
  if (typeof password !== "string") throw new IamError("InvalidRequest", "password is required");
  const problem = passwordProblem(password, getSettings(core));
  if (problem) throw new IamError("WeakPassword", `password ${problem}`);
  return password;
}

export interface CreateUserInput {
  username: unknown;
  password: unknown;
  role: unknown;
  tenantId?: unknown;
  displayName?: unknown;
  email?: unknown;
  mustChangePassword?: unknown;
}

export async function createUser(
  core: IamCore,
  input: CreateUserInput,
  opts: { skipPolicy?: boolean } = {},
): Promise<User> {
  if (typeof input.username !== "string" || !USERNAME.test(input.username)) {
    throw new IamError(
      "InvalidRequest",
      "username must be 2-64 characters: letters, digits, . _ @ -",
    );
  }
  if (!ROLES.includes(input.role as Role)) {
    throw new IamError("InvalidRequest", `role must be one of ${ROLES.join(", ")}`);
  }
  const role = input.role as Role;
  let tenantId: string | null = null;
  if (role === "global_admin") {
    if (input.tenantId) throw new IamError("InvalidRequest", "global admins have no tenant");
  } else {
    if (typeof input.tenantId !== "string" || !getTenant(core, input.tenantId)) {
      throw new IamError("InvalidRequest", "tenantId must name an existing tenant");
    }
    tenantId = input.tenantId;
  }
  if (opts.skipPolicy) {
    if (typeof input.password !== "string" || !input.password) {
      throw new IamError("InvalidRequest", "password is required");
    }
  } else checkPassword(core, input.password);
  const hash = await hashPassword(input.password as string);
  const now = core.clock.now();
  const id = newId("u");
  try {
    sql(
      core,
      `INSERT INTO users (id, username, tenant_id, role, display_name, email, password_hash, must_change_password, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      input.username,
      tenantId,
      role,
      typeof input.displayName === "string" ? input.displayName : "",
      typeof input.email === "string" ? input.email : "",
      hash,
      input.mustChangePassword ? 1 : 0,
      now,
      now,
    );
  } catch (e) {
    if (/UNIQUE/.test(String(e))) throw new IamError("Conflict", "username already exists");
    throw e;
  }
  return getUser(core, id)!;
}

export interface UserPatch {
  displayName?: unknown;
  email?: unknown;
  role?: unknown;
  status?: unknown;
  tenantId?: unknown;
}

export function updateUser(core: IamCore, id: string, patch: UserPatch): User {
  const u = getUser(core, id);
  if (!u) throw new IamError("NotFound", "no such user");
  for (const f of ["displayName", "email"] as const) {
    if (patch[f] !== undefined && typeof patch[f] !== "string") {
      throw new IamError("InvalidRequest", `${f} must be a string`);
    }
  }
  if (patch.status !== undefined && patch.status !== "active" && patch.status !== "disabled") {
    throw new IamError("InvalidRequest", "status must be active or disabled");
  }
  if (patch.role !== undefined && !ROLES.includes(patch.role as Role)) {
    throw new IamError("InvalidRequest", `role must be one of ${ROLES.join(", ")}`);
  }
  const role = (patch.role as Role | undefined) ?? u.role;
  let tenantId = patch.tenantId === undefined ? u.tenantId : patch.tenantId as string | null;
  if (role === "global_admin") tenantId = null;
  else if (typeof tenantId !== "string" || !getTenant(core, tenantId)) {
    throw new IamError("InvalidRequest", "tenantId must name an existing tenant for this role");
  }
  if (tenantId !== u.tenantId) {
    // A user's keys live in the tenant's namespace: moving tenants would carry access along.
    const keys = sql(core, "SELECT COUNT(*) AS n FROM access_keys WHERE user_id = ?").get(
      id,
    ) as {
      n: number;
    };
    if (Number(keys.n) > 0) {
      throw new IamError(
        "Conflict",
        "delete the user's access keys before moving it to another tenant",
      );
    }
  }
  tx(core.db, () => {
    sql(
      core,
      `UPDATE users SET display_name = ?, email = ?, role = ?, status = ?, tenant_id = ?, updated_at = ? WHERE id = ?`,
    ).run(
      (patch.displayName as string | undefined) ?? u.displayName,
      (patch.email as string | undefined) ?? u.email,
      role,
      (patch.status as string | undefined) ?? u.status,
      tenantId,
      core.clock.now(),
      id,
    );
    if (tenantId !== u.tenantId) {
      sql(core, "DELETE FROM group_members WHERE user_id = ?").run(id);
    }
    if (patch.status === "disabled" || role !== u.role || tenantId !== u.tenantId) {
      revokeUserSessions(core, id);
    }
  });
  return getUser(core, id)!;
}

export function deleteUser(core: IamCore, id: string): void {
  if (!getUser(core, id)) throw new IamError("NotFound", "no such user");
  tx(core.db, () => {
    sql(core, "DELETE FROM policy_attachments WHERE subject_type = 'user' AND subject_id = ?")
      .run(id);
    sql(core, "DELETE FROM grants WHERE subject_type = 'user' AND subject_id = ?").run(id);
    sql(core, "DELETE FROM users WHERE id = ?").run(id);
  });
}

export async function setPassword(
  core: IamCore,
  id: string,
  password: string,
  mustChange: boolean,
): Promise<void> {
  const hash = await hashPassword(password);
  tx(core.db, () => {
    sql(
      core,
      "UPDATE users SET password_hash = ?, must_change_password = ?, failed_logins = 0, locked_until = NULL, updated_at = ? WHERE id = ?",
    ).run(hash, mustChange ? 1 : 0, core.clock.now(), id);
    revokeUserSessions(core, id);
  });
}

export function unlockUser(core: IamCore, id: string): void {
  sql(core, "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?").run(id);
}

export function revokeUserSessions(core: IamCore, userId: string, except?: string): void {
  sql(
    core,
    "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id != ?",
  ).run(core.clock.now(), userId, except ?? "");
}

export function countGlobalAdmins(core: IamCore): number {
  const r = sql(
    core,
    "SELECT COUNT(*) AS n FROM users WHERE role = 'global_admin' AND status = 'active'",
  ).get() as { n: number };
  return Number(r.n);
}

/**
 * ACL grantees from IAM (decision 0011): a canonical id is a user id (`root` for the root key)
 * whose display name is the username; an email grant names the user with that address.
 */
export function granteeLookup(core: IamCore): GranteeLookup {
  return {
    userById(id) {
      if (id === "root") return { id: "root", displayName: "root" };
      const r = sql(core, "SELECT username FROM users WHERE id = ?").get(id) as Row | undefined;
      return r ? { id, displayName: r.username as string } : null;
    },
    usersByEmail(email) {
      const rows = sql(
        core,
        "SELECT id, username FROM users WHERE email <> '' AND lower(email) = lower(?) LIMIT 2",
      ).all(email) as Row[];
      return rows.map((r) => ({ id: r.id as string, displayName: r.username as string }));
    },
  };
}
