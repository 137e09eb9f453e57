/**
 * Shared state of the IAM services (SQLite handle, master-key box, signing key, clock, bucket
 * storage). The settings table is settings.ts.
 */
import { randomHex } from "../hex.ts";
import type { Db } from "../db/mod.ts";
import type { StatementSync } from "node:sqlite";
import type { SecretBox } from "./secrets.ts";
import type { Clock } from "../clock.ts";
import type { Backend } from "../storage/mod.ts";

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
