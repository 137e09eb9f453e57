/**
 * S3 access keys of users: `AKIA` + 16 characters and a 40-character secret sealed with the
 * master key. Every S3 request looks the key up again (status of key, user and tenant), so
 * disabling or deleting takes effect on the next request; only decrypted secrets are cached,
 * and only while the sealed value is unchanged.
 */
import { tx } from "../db/mod.ts";
import { type IamCore, num, type Row, sql } from "./core.ts";
import { IamError } from "./errors.ts";
import { generateAccessKeyId, generateSecretKey } from "./secrets.ts";
import type { Credential, CredentialStore, Principal } from "./types.ts";
import type { Role } from "./core.ts";

export interface AccessKey {
  accessKeyId: string;
  userId: string;
  tenantId: string | null;
  status: "active" | "inactive";
  description: string;
  createdAt: number;
  lastUsedAt: number | null;
}

function toKey(r: Row): AccessKey {
  return {
    accessKeyId: r.id as string,
    userId: r.user_id as string,
    tenantId: (r.tenant_id as string | null) ?? null,
    status: r.status as AccessKey["status"],
    description: r.description as string,
    createdAt: Number(r.created_at),
    lastUsedAt: num(r.last_used_at),
  };
}

export function getAccessKey(core: IamCore, id: string): AccessKey | null {
  const r = sql(core, "SELECT * FROM access_keys WHERE id = ?").get(id) as Row | undefined;
  return r ? toKey(r) : null;
}

export function listAccessKeys(
  core: IamCore,
  filter: { userId?: string; tenantId?: string },
): AccessKey[] {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.userId) (where.push("user_id = ?"), args.push(filter.userId));
  if (filter.tenantId) (where.push("tenant_id = ?"), args.push(filter.tenantId));
  const text = `SELECT * FROM access_keys ${
    where.length ? "WHERE " + where.join(" AND ") : ""
  } ORDER BY created_at`;
  return (sql(core, text).all(...args) as Row[]).map(toKey);
}

/** Creates a key; the secret is returned once. Counts against the tenant's key quota. */
export async function createAccessKey(
  core: IamCore,
  userId: string,
  description = "",
): Promise<AccessKey & { secretAccessKey: string }> {
  const secret = generateSecretKey();
  const sealed = await core.box.seal(secret);
  const id = tx(core.db, () => {
    const u = sql(core, "SELECT tenant_id FROM users WHERE id = ?").get(userId) as
      | Row
      | undefined;
    if (!u) throw new IamError("NotFound", "no such user");
    const tenantId = (u.tenant_id as string | null) ?? null;
    if (tenantId) {
      const t = sql(core, "SELECT max_access_keys FROM tenants WHERE id = ?").get(tenantId) as
        | Row
        | undefined;
      const max = num(t?.max_access_keys);
      if (max !== null) {
        const n = sql(core, "SELECT COUNT(*) AS n FROM access_keys WHERE tenant_id = ?")
          .get(tenantId) as { n: number };
        if (Number(n.n) >= max) {
          throw new IamError("QuotaExceeded", `the tenant may hold at most ${max} access keys`);
        }
      }
    }
    let akid = generateAccessKeyId();
    while (sql(core, "SELECT 1 FROM access_keys WHERE id = ?").get(akid)) {
      akid = generateAccessKeyId();
    }
    sql(
      core,
      `INSERT INTO access_keys (id, user_id, tenant_id, sealed_secret, status, description, created_at)
       VALUES (?, ?, ?, ?, 'active', ?, ?)`,
    ).run(akid, userId, tenantId, sealed, description.slice(0, 256), core.clock.now());
    return akid;
  });
  return { ...getAccessKey(core, id)!, secretAccessKey: secret };
}

export function updateAccessKey(
  core: IamCore,
  id: string,
  patch: { status?: unknown; description?: unknown },
): AccessKey {
  const k = getAccessKey(core, id);
  if (!k) throw new IamError("NotFound", "no such access key");
  if (patch.status !== undefined && patch.status !== "active" && patch.status !== "inactive") {
    throw new IamError("InvalidRequest", "status must be active or inactive");
  }
  if (patch.description !== undefined && typeof patch.description !== "string") {
    throw new IamError("InvalidRequest", "description must be a string");
  }
  sql(core, "UPDATE access_keys SET status = ?, description = ? WHERE id = ?").run(
    (patch.status as string | undefined) ?? k.status,
    ((patch.description as string | undefined) ?? k.description).slice(0, 256),
    id,
  );
  return getAccessKey(core, id)!;
}

export function deleteAccessKey(core: IamCore, id: string): void {
  const res = sql(core, "DELETE FROM access_keys WHERE id = ?").run(id);
  if (Number(res.changes) === 0) throw new IamError("NotFound", "no such access key");
}

export function principalOf(
  u: { id: string; username: string; tenant_id?: unknown; role: string },
): Principal {
  const role = u.role as Role;
  return {
    kind: "user",
    userId: u.id,
    tenantId: (u.tenant_id as string | null) ?? null,
    isAdmin: role !== "tenant_user",
    displayName: u.username,
    role,
  };
}

/** The S3 credential store over the access_keys table. */
export function accessKeyStore(core: IamCore): CredentialStore {
  const secrets = new Map<string, { sealed: string; secret: string }>();
  const touched = new Map<string, number>();
  return {
    async lookup(id): Promise<Credential | null> {
      const r = sql(
        core,
        `SELECT k.sealed_secret, k.status AS key_status, u.id, u.username, u.tenant_id, u.role,
                u.status AS user_status, t.status AS tenant_status
           FROM access_keys k JOIN users u ON u.id = k.user_id
           LEFT JOIN tenants t ON t.id = u.tenant_id
          WHERE k.id = ?`,
      ).get(id) as Row | undefined;
      if (!r || r.key_status !== "active" || r.user_status !== "active") return null;
      if (r.tenant_id && r.tenant_status !== "active") return null;
      const sealed = r.sealed_secret as string;
      let cached = secrets.get(id);
      if (!cached || cached.sealed !== sealed) {
        cached = { sealed, secret: await core.box.open(sealed) };
        secrets.set(id, cached);
      }
      return {
        accessKeyId: id,
        secretAccessKey: cached.secret,
        principal: principalOf(r as unknown as { id: string; username: string; role: string }),
      };
    },
    touch(id) {
      const now = core.clock.now();
      // Last-used time to the minute: one write per key per minute, not per request.
      if (now - (touched.get(id) ?? 0) < 60_000) return;
      if (touched.size > 10_000) touched.clear();
      touched.set(id, now);
      sql(core, "UPDATE access_keys SET last_used_at = ? WHERE id = ?").run(now, id);
    },
  };
}
