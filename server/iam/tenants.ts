/** Tenants: a bucket namespace with a status and quotas. */
import { type Db, tx } from "../db/mod.ts";
import { type IamCore, newId, num, type Row, sql } from "./core.ts";
import { IamError } from "./errors.ts";
import { putTenantPublicAccessBlock } from "./public_access.ts";

export interface TenantQuota {
  maxBytes: number | null;
  maxBuckets: number | null;
  maxAccessKeys: number | null;
}

export interface Tenant {
  id: string;
  name: string;
  displayName: string;
  status: "active" | "suspended";
  quota: TenantQuota;
  createdAt: number;
  updatedAt: number;
}

export interface TenantWithUsage extends Tenant {
  usage: { bytes: number; objects: number; buckets: number; accessKeys: number };
}

const NAME = /^[a-z0-9][a-z0-9-]{1,62}$/;

function toTenant(r: Row): Tenant {
  return {
    id: r.id as string,
    name: r.name as string,
    displayName: r.display_name as string,
    status: r.status as Tenant["status"],
    quota: {
      maxBytes: num(r.max_bytes),
      maxBuckets: num(r.max_buckets),
      maxAccessKeys: num(r.max_access_keys),
    },
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function getTenant(core: IamCore, id: string): Tenant | null {
  const r = sql(core, "SELECT * FROM tenants WHERE id = ?").get(id) as Row | undefined;
  return r ? toTenant(r) : null;
}

export function getTenantByName(core: IamCore, name: string): Tenant | null {
  const r = sql(core, "SELECT * FROM tenants WHERE name = ?").get(name) as Row | undefined;
  return r ? toTenant(r) : null;
}

export function listTenants(core: IamCore): Tenant[] {
  return (sql(core, "SELECT * FROM tenants ORDER BY name").all() as Row[]).map(toTenant);
}

export async function withUsage(core: IamCore, t: Tenant): Promise<TenantWithUsage> {
  const stored = core.storage
    ? await core.storage.usage.read(t.id)
    : { bytes: 0, objects: 0, buckets: 0, reserved: 0 };
  const keys = sql(core, "SELECT COUNT(*) AS n FROM access_keys WHERE tenant_id = ?")
    .get(t.id) as { n: number };
  return { ...t, usage: { ...stored, accessKeys: Number(keys.n) } };
}

function validQuota(q: unknown): TenantQuota {
  const out: TenantQuota = { maxBytes: null, maxBuckets: null, maxAccessKeys: null };
  if (q === undefined || q === null) return out;
  if (typeof q !== "object") throw new IamError("InvalidRequest", "quota must be an object");
  for (const [k, v] of Object.entries(q as Record<string, unknown>)) {
    if (!(k in out)) throw new IamError("InvalidRequest", `unknown quota field "${k}"`);
    if (v !== null && (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)) {
      throw new IamError("InvalidRequest", `quota.${k} must be a non-negative integer or null`);
    }
    (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

export function createTenant(
  core: IamCore,
  input: { name: unknown; displayName?: unknown; quota?: unknown },
): Tenant {
  if (typeof input.name !== "string" || !NAME.test(input.name)) {
    throw new IamError("InvalidRequest", "name must match ^[a-z0-9][a-z0-9-]{1,62}$");
  }
  const quota = validQuota(input.quota);
  const now = core.clock.now();
  const id = newId("t");
  try {
    sql(
      core,
      `INSERT INTO tenants (id, name, display_name, status, max_bytes, max_buckets, max_access_keys, created_at, updated_at)
       VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?)`,
    ).run(
      id,
      input.name,
      typeof input.displayName === "string" ? input.displayName : input.name,
      quota.maxBytes,
      quota.maxBuckets,
      quota.maxAccessKeys,
      now,
      now,
    );
  } catch (e) {
    if (/UNIQUE/.test(String(e))) throw new IamError("Conflict", "tenant name already exists");
    throw e;
  }
  return getTenant(core, id)!;
}

export function updateTenant(
  core: IamCore,
  id: string,
  patch: { displayName?: unknown; status?: unknown; quota?: unknown },
): Tenant {
  const t = getTenant(core, id);
  if (!t) throw new IamError("NotFound", "no such tenant");
  if (patch.status !== undefined && patch.status !== "active" && patch.status !== "suspended") {
    throw new IamError("InvalidRequest", "status must be active or suspended");
  }
  if (patch.displayName !== undefined && typeof patch.displayName !== "string") {
    throw new IamError("InvalidRequest", "displayName must be a string");
  }
  if (patch.quota !== undefined) validQuota(patch.quota);
  const quota = patch.quota ? { ...t.quota, ...pickDefined(patch.quota) } : t.quota;
  sql(
    core,
    `UPDATE tenants SET display_name = ?, status = ?, max_bytes = ?, max_buckets = ?, max_access_keys = ?, updated_at = ? WHERE id = ?`,
  ).run(
    (patch.displayName as string | undefined) ?? t.displayName,
    (patch.status as string | undefined) ?? t.status,
    quota.maxBytes,
    quota.maxBuckets,
    quota.maxAccessKeys,
    core.clock.now(),
    id,
  );
  return getTenant(core, id)!;
}

/** A partial quota patch keeps the fields it does not name. */
function pickDefined(q: unknown): Partial<TenantQuota> {
  const out: Partial<TenantQuota> = {};
  for (const [k, v] of Object.entries(q as Record<string, unknown>)) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/**
 * Refused while the tenant owns buckets; its users, keys, groups, grants, policies and webhook
 * targets go.
 */
export async function deleteTenant(core: IamCore, id: string): Promise<void> {
  if (!getTenant(core, id)) throw new IamError("NotFound", "no such tenant");
  if (core.storage && (await core.storage.listBuckets(id)).length) {
    throw new IamError("Conflict", "the tenant still owns buckets; delete them first");
  }
  tx(core.db, () => {
    sql(core, "DELETE FROM access_keys WHERE tenant_id = ?").run(id);
    sql(
      core,
      "DELETE FROM policy_attachments WHERE policy_id IN (SELECT id FROM policies WHERE tenant_id = ?)",
    ).run(id);
    sql(core, "DELETE FROM policies WHERE tenant_id = ?").run(id);
    sql(
      core,
      "DELETE FROM grants WHERE tenant_id = ? OR (subject_type = 'tenant' AND subject_id = ?)",
    )
      .run(id, id);
    sql(core, "DELETE FROM groups WHERE tenant_id = ?").run(id);
    sql(core, "DELETE FROM users WHERE tenant_id = ?").run(id);
    putTenantPublicAccessBlock(core, id, null);
    // Its key service keys (their versions cascade): nothing of the tenant is left to decrypt.
    sql(core, "DELETE FROM kms_keys WHERE ns = ?").run(id);
    // Its webhook targets and what is still queued for its (already deleted) buckets.
    sql(core, "DELETE FROM webhook_targets WHERE ns = ?").run(id);
    sql(core, "DELETE FROM notification_queue WHERE ns = ? OR target_ns = ?").run(id, id);
    sql(core, "DELETE FROM tenants WHERE id = ?").run(id);
  });
}

/** Quota limits by namespace for the storage commit hook ("" = global: unlimited). */
export function limitsOf(core: { db: Db }, ns: string) {
  if (ns === "") return null;
  const r = sql(core, "SELECT max_bytes, max_buckets FROM tenants WHERE id = ?").get(ns) as
    | Row
    | undefined;
  if (!r) return null;
  return { maxBytes: num(r.max_bytes), maxBuckets: num(r.max_buckets) };
}
