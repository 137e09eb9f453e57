/** Groups of users inside one tenant ('' = global), for grants and policies. */
import { tx } from "../db/mod.ts";
import { type IamCore, newId, type Row, sql } from "./core.ts";
import { IamError } from "./errors.ts";

export interface Group {
  id: string;
  tenantId: string | null;
  name: string;
  description: string;
  members: string[];
  createdAt: number;
}

function toGroup(core: IamCore, r: Row): Group {
  const members = sql(core, "SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id")
    .all(r.id as string) as Row[];
  return {
    id: r.id as string,
    tenantId: (r.tenant_id as string) || null,
    name: r.name as string,
    description: r.description as string,
    members: members.map((m) => m.user_id as string),
    createdAt: Number(r.created_at),
  };
}

export function getGroup(core: IamCore, id: string): Group | null {
  const r = sql(core, "SELECT * FROM groups WHERE id = ?").get(id) as Row | undefined;
  return r ? toGroup(core, r) : null;
}

/** `tenantId` undefined lists every group (global admins). */
export function listGroups(core: IamCore, tenantId?: string | null): Group[] {
  const rows = tenantId === undefined
    ? sql(core, "SELECT * FROM groups ORDER BY tenant_id, name").all()
    : sql(core, "SELECT * FROM groups WHERE tenant_id = ? ORDER BY name").all(tenantId ?? "");
  return (rows as Row[]).map((r) => toGroup(core, r));
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._@+=,-]{0,127}$/;

export function createGroup(
  core: IamCore,
  input: { name: unknown; description?: unknown; tenantId: string | null },
): Group {
  if (typeof input.name !== "string" || !NAME.test(input.name)) {
    throw new IamError(
      "InvalidRequest",
      "name must be 1-128 characters: letters, digits, ._@+=,- and spaces",
    );
  }
  const id = newId("g");
  try {
    sql(
      core,
      "INSERT INTO groups (id, tenant_id, name, description, created_at) VALUES (?, ?, ?, ?, ?)",
    ).run(
      id,
      input.tenantId ?? "",
      input.name,
      typeof input.description === "string" ? input.description : "",
      core.clock.now(),
    );
  } catch (e) {
    if (/UNIQUE/.test(String(e))) throw new IamError("Conflict", "group name already exists");
    throw e;
  }
  return getGroup(core, id)!;
}

export function updateGroup(
  core: IamCore,
  id: string,
  patch: { name?: unknown; description?: unknown },
): Group {
  const g = getGroup(core, id);
  if (!g) throw new IamError("NotFound", "no such group");
  if (patch.name !== undefined && (typeof patch.name !== "string" || !NAME.test(patch.name))) {
    throw new IamError("InvalidRequest", "invalid name");
  }
  if (patch.description !== undefined && typeof patch.description !== "string") {
    throw new IamError("InvalidRequest", "description must be a string");
  }
  try {
    sql(core, "UPDATE groups SET name = ?, description = ? WHERE id = ?").run(
      (patch.name as string | undefined) ?? g.name,
      (patch.description as string | undefined) ?? g.description,
      id,
    );
  } catch (e) {
    if (/UNIQUE/.test(String(e))) throw new IamError("Conflict", "group name already exists");
    throw e;
  }
  return getGroup(core, id)!;
}

export function deleteGroup(core: IamCore, id: string): void {
  tx(core.db, () => {
    sql(core, "DELETE FROM policy_attachments WHERE subject_type = 'group' AND subject_id = ?")
      .run(id);
    sql(core, "DELETE FROM grants WHERE subject_type = 'group' AND subject_id = ?").run(id);
    const res = sql(core, "DELETE FROM groups WHERE id = ?").run(id);
    if (Number(res.changes) === 0) throw new IamError("NotFound", "no such group");
  });
}

export function addMember(core: IamCore, groupId: string, userId: string): void {
  const g = getGroup(core, groupId);
  if (!g) throw new IamError("NotFound", "no such group");
  const u = sql(core, "SELECT tenant_id FROM users WHERE id = ?").get(userId) as
    | Row
    | undefined;
  if (!u) throw new IamError("NotFound", "no such user");
  if (((u.tenant_id as string | null) ?? null) !== g.tenantId) {
    throw new IamError("InvalidRequest", "the user is not in the group's tenant");
  }
  sql(core, "INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?)")
    .run(groupId, userId);
}

export function removeMember(core: IamCore, groupId: string, userId: string): void {
  sql(core, "DELETE FROM group_members WHERE group_id = ? AND user_id = ?").run(
    groupId,
    userId,
  );
}

export function groupIdsOf(core: IamCore, userId: string): string[] {
  return (sql(core, "SELECT group_id FROM group_members WHERE user_id = ?").all(
    userId,
  ) as Row[])
    .map((r) => r.group_id as string);
}
