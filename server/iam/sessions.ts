/**
 * Console sessions. A token is `<session id>.<HMAC-SHA256(signing key, id)>`: the signature
 * rejects forged tokens without a database read, and the sessions row makes every token
 * revocable (logout, password change, user disabled). Login challenges for the TOTP step are
 * signed the same way and expire after five minutes.
 */
import { randomHex } from "../hex.ts";
import { createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { type IamCore, type Row, sql } from "./core.ts";
import { getSettings } from "./settings.ts";

function mac(core: IamCore, data: string): string {
  return createHmac("sha256", Buffer.from(core.signingKey, "base64")).update(data).digest(
    "base64url",
  );
}

function macEquals(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface Session {
  id: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
}

function toSession(r: Row): Session {
  return {
    id: r.id as string,
    userId: r.user_id as string,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    ip: (r.ip as string | null) ?? null,
    userAgent: (r.user_agent as string | null) ?? null,
  };
}

export function createSession(
  core: IamCore,
  userId: string,
  client: { ip: string | null; userAgent: string | null },
): { token: string; expiresAt: number; session: Session } {
  const id = randomHex(24);
  const now = core.clock.now();
  const expiresAt = now + getSettings(core).sessionHours * 3_600_000;
  sql(
    core,
    "INSERT INTO sessions (id, user_id, created_at, expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?)",
  ).run(id, userId, now, expiresAt, client.ip, client.userAgent?.slice(0, 512) ?? null);
  return {
    token: `${id}.${mac(core, "session:" + id)}`,
    expiresAt,
    session: { id, userId, createdAt: now, expiresAt, ...client },
  };
}

/** The live session a token names, or null (bad signature, revoked, expired). */
export function sessionOfToken(core: IamCore, token: string): Session | null {
  const dot = token.indexOf(".");
  if (dot <= 0) return null;
  const id = token.slice(0, dot);
  if (!macEquals(token.slice(dot + 1), mac(core, "session:" + id))) return null;
  return liveSession(core, id);
}

function liveSession(core: IamCore, id: string): Session | null {
  const r = sql(
    core,
    "SELECT * FROM sessions WHERE id = ? AND revoked_at IS NULL AND expires_at > ?",
  ).get(id, core.clock.now()) as Row | undefined;
  return r ? toSession(r) : null;
}

export function listSessions(core: IamCore, userId: string): Session[] {
  return (sql(
    core,
    "SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC",
  ).all(userId, core.clock.now()) as Row[]).map(toSession);
}

export function revokeSession(core: IamCore, id: string): void {
  sql(core, "UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(
    core.clock.now(),
    id,
  );
}

/** Drops sessions that ended more than a day ago (the daily maintenance). */
export function purgeSessions(core: IamCore): void {
  const cutoff = core.clock.now() - 86_400_000;
  sql(core, "DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ?").run(
    cutoff,
    cutoff,
  );
}

const CHALLENGE_MS = 5 * 60_000;

export function createChallenge(core: IamCore, userId: string): string {
  const body = `${userId}.${core.clock.now() + CHALLENGE_MS}`;
  return `${body}.${mac(core, "challenge:" + body)}`;
}

/** The user id a login challenge was issued for, or null when forged or expired. */
export function openChallenge(core: IamCore, challenge: string): string | null {
  const parts = challenge.split(".");
  if (parts.length !== 3) return null;
  const body = `${parts[0]}.${parts[1]}`;
  if (!macEquals(parts[2], mac(core, "challenge:" + body))) return null;
  if (Number(parts[1]) < core.clock.now()) return null;
  return parts[0];
}
