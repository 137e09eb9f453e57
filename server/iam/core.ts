/**
 * Shared state of the IAM services (SQLite handle, master-key box, signing key, clock, bucket
 * storage) and the settings table with its defaults.
 */
import { randomHex } from "../hex.ts";
import type { Db } from "../db/mod.ts";
import type { StatementSync } from "node:sqlite";
import type { SecretBox } from "./secrets.ts";
import type { Clock } from "../clock.ts";
import type { Backend } from "../storage/mod.ts";
import type { PasswordPolicy } from "./passwords.ts";
import type { PublicAccessBlock } from "./public_access.ts";

export interface IamCore {
  db: Db;
  box: SecretBox;
  /** Base64 HMAC key for console tokens (secrets.json). */
  signingKey: string;
  clock: Clock;
  /** Buckets and tenant usage; absent where storage is not opened (IAM unit tests). */
  storage?: Backend;
}

export type Role = "global_admin" | "tenant_admin" | "tenant_user";
export const ROLES: Role[] = ["global_admin", "tenant_admin", "tenant_user"];
/** Higher is more powerful; nobody grants a role above their own. */
export const ROLE_RANK: Record<Role, number> = { tenant_user: 0, tenant_admin: 1, global_admin: 2 };

export interface Settings extends PasswordPolicy {
  lockoutThreshold: number;
  lockoutMinutes: number;
  loginRateLimitPerMinute: number;
  sessionHours: number;
  auditRetentionDays: number;
  /** S3 object writes and deletes are recorded in the audit log too (audit_s3.ts). */
  auditObjectOperations: boolean;
  /** The global default public access block (server/iam/public_access.ts). */
  publicAccessBlock: PublicAccessBlock;
}

export const DEFAULT_SETTINGS: Settings = {
  passwordMinLength: 8,
  passwordRequireUpper: false,
  passwordRequireLower: false,
  passwordRequireDigit: false,
  passwordRequireSymbol: false,
  lockoutThreshold: 5,
  lockoutMinutes: 15,
  loginRateLimitPerMinute: 30,
  sessionHours: 12,
  auditRetentionDays: 90,
  auditObjectOperations: false,
  publicAccessBlock: {
    blockPublicAcls: false,
    ignorePublicAcls: false,
    blockPublicPolicy: false,
    restrictPublicBuckets: false,
  },
};

export function getSettings(core: IamCore): Settings {
  const out: Settings = { ...DEFAULT_SETTINGS };
  const rows = core.db.prepare("SELECT key, value FROM settings").all() as {
    key: string;
    value: string;
  }[];
  const fields = out as unknown as Record<string, unknown>;
  for (const r of rows) {
    if (!(r.key in out)) continue;
    const v = JSON.parse(r.value);
    // A flags setting stored in part keeps the defaults of the flags it does not name.
    fields[r.key] = typeof fields[r.key] === "object" ? { ...fields[r.key] as object, ...v } : v;
  }
  return out;
}

/** Validates and stores a partial settings object; returns the problem or null. */
export function updateSettings(core: IamCore, patch: Record<string, unknown>): string | null {
  for (const [k, v] of Object.entries(patch)) {
    if (!(k in DEFAULT_SETTINGS)) return `unknown setting "${k}"`;
    const def = (DEFAULT_SETTINGS as unknown as Record<string, unknown>)[k];
    if (typeof def === "boolean" && typeof v !== "boolean") return `${k} must be a boolean`;
    if (typeof def === "object" && def !== null) {
      const problem = flagsProblem(k, def as Record<string, unknown>, v);
      if (problem) return problem;
    }
    if (typeof def === "number") {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 1e9) {
        return `${k} must be a non-negative integer`;
      }
      if ((k === "sessionHours" || k === "passwordMinLength") && v < 1) return `${k} must be >= 1`;
    }
  }
  const st = core.db.prepare(
    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  );
  for (const [k, v] of Object.entries(patch)) st.run(k, JSON.stringify(v));
  return null;
}

/** A setting made of boolean flags: an object with only the default's keys, each a boolean. */
function flagsProblem(k: string, def: Record<string, unknown>, v: unknown): string | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return `${k} must be an object`;
  for (const [f, b] of Object.entries(v)) {
    if (!(f in def)) return `unknown field "${f}" of ${k}`;
    if (typeof b !== "boolean") return `${k}.${f} must be a boolean`;
  }
  return null;
}

/** Random id with a readable type prefix. */
export function newId(prefix: string): string {
  return prefix + randomHex(10);
}

/** node:sqlite rows are null-prototype objects of unknown shape. */
export type Row = Record<string, unknown>;

export function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return Number(v);
}

// Prepared statements per database, by SQL text: every S3 request runs a few IAM queries.
const statements = new WeakMap<Db, Map<string, StatementSync>>();

/** A cached prepared statement. */
export function sql(core: { db: Db }, text: string): StatementSync {
  let cache = statements.get(core.db);
  if (!cache) statements.set(core.db, cache = new Map());
  let st = cache.get(text);
  if (!st) {
    st = core.db.prepare(text);
    if (cache.size < 500) cache.set(text, st);
  }
  return st;
}
