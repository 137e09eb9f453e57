/**
 * The login flow: password (slow hash, same time for unknown users), lockout after repeated
 * failures, per-IP rate limit, optional TOTP step with one-time backup codes, password change.
 */
import { createHash } from "node:crypto";
import { tx } from "../db/mod.ts";
import { type IamCore, type Row, sql } from "./core.ts";
import { getSettings } from "./settings.ts";
import { IamError } from "./errors.ts";
import { DUMMY_HASH, verifyPassword } from "./passwords.ts";
import { recordAudit } from "./audit.ts";
import { createChallenge, createSession, openChallenge } from "./sessions.ts";
import { base32Decode, newTotpSecret, otpauthUrl, verifyTotp } from "./totp.ts";
import {
  checkPassword,
  getUserRow,
  revokeUserSessions,
  setPassword,
  toSecrets,
  toUser,
  type User,
} from "./users.ts";

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/** Sliding one-minute window of login attempts per client IP (in memory: a cache). */
export class LoginRateLimiter {
  #hits = new Map<string, number[]>();
  constructor(private core: IamCore) {}

  /** Counts an attempt; throws `TooManyRequests` when the IP is over the limit. */
  hit(ip: string | null): void {
    const limit = getSettings(this.core).loginRateLimitPerMinute;
    if (limit <= 0) return;
    const key = ip ?? "unknown";
    const now = this.core.clock.now();
    const recent = (this.#hits.get(key) ?? []).filter((t) => t > now - 60_000);
    if (recent.length >= limit) {
      this.#hits.set(key, recent);
      const retryAfter = Math.max(1, Math.ceil((recent[0] + 60_000 - now) / 1000));
      throw new IamError("TooManyRequests", "too many login attempts; try again later", {
        retryAfter,
      });
    }
    recent.push(now);
    this.#hits.set(key, recent);
    if (this.#hits.size > 10_000) {
      for (const [k, v] of this.#hits) if (v.every((t) => t <= now - 60_000)) this.#hits.delete(k);
    }
  }
}

export type LoginResult =
  | { kind: "session"; token: string; expiresAt: number; user: User }
  | { kind: "totp"; challenge: string };

function auditLogin(
  core: IamCore,
  r: Row | null,
  name: string,
  client: ClientInfo,
  action: string,
  result: "success" | "failure" | "denied",
  detail?: string,
) {
  recordAudit(core, {
    actorId: (r?.id as string) ?? null,
    actorName: (r?.username as string) ?? name,
    tenantId: (r?.tenant_id as string | null) ?? null,
    action,
    resource: "user/" + ((r?.username as string) ?? name),
    ip: client.ip,
    userAgent: client.userAgent,
    result,
    detail: detail ?? null,
  });
}

function assertNotLocked(core: IamCore, r: Row, client: ClientInfo): void {
  const until = r.locked_until === null ? null : Number(r.locked_until);
  const now = core.clock.now();
  if (until !== null && until > now) {
    auditLogin(core, r, r.username as string, client, "login.locked", "denied");
    throw new IamError("AccountLocked", "the account is locked after too many failed logins", {
      retryAfter: Math.ceil((until - now) / 1000),
    });
  }
}

/** Counts a failure; locks the account once the threshold is reached. */
function recordFailure(core: IamCore, r: Row, client: ClientInfo, what: string): void {
  const s = getSettings(core);
  const failures = Number(r.failed_logins) + 1;
  const lock = s.lockoutThreshold > 0 && failures >= s.lockoutThreshold;
  sql(core, "UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?").run(
    lock ? 0 : failures,
    lock ? core.clock.now() + s.lockoutMinutes * 60_000 : null,
    r.id as string,
  );
  auditLogin(core, r, r.username as string, client, "login.failure", "failure", what);
  if (lock) {
    auditLogin(
      core,
      r,
      r.username as string,
      client,
      "login.locked",
      "denied",
      `${failures} failures`,
    );
  }
}

function assertActive(core: IamCore, r: Row, client: ClientInfo): void {
  let ok = r.status === "active";
  if (ok && r.tenant_id) {
    const t = sql(core, "SELECT status FROM tenants WHERE id = ?").get(
      r.tenant_id as string,
    ) as Row | undefined;
    ok = t?.status === "active";
  }
  if (!ok) {
    auditLogin(core, r, r.username as string, client, "login.failure", "denied", "disabled");
    throw new IamError("AccountDisabled", "the account or its tenant is disabled");
  }
}

function finishLogin(core: IamCore, r: Row, client: ClientInfo): LoginResult {
  sql(
    core,
    "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?",
  )
    .run(core.clock.now(), r.id as string);
  const s = createSession(core, r.id as string, client);
  auditLogin(core, r, r.username as string, client, "login.success", "success");
  return {
    kind: "session",
    token: s.token,
    expiresAt: s.expiresAt,
    user: toUser(getUserRow(core, r.id as string)!),
  };
}

export async function login(
  core: IamCore,
  input: { username: unknown; password: unknown },
  client: ClientInfo,
): Promise<LoginResult> {
  if (typeof input.username !== "string" || typeof input.password !== "string") {
    throw new IamError("InvalidRequest", "username and password are required");
  }
  const r = sql(core, "SELECT * FROM users WHERE username = ?").get(input.username) as
    | Row
    | undefined;
  if (!r) {
    await verifyPassword(input.password, DUMMY_HASH);
    auditLogin(core, null, input.username, client, "login.failure", "failure", "unknown user");
    throw new IamError("InvalidCredentials", "wrong username or password");
  }
  assertNotLocked(core, r, client);
  if (!(await verifyPassword(input.password, r.password_hash as string))) {
    recordFailure(core, getUserRow(core, r.id as string)!, client, "password");
    throw new IamError("InvalidCredentials", "wrong username or password");
  }
  assertActive(core, r, client);
  if (r.totp_enabled) return { kind: "totp", challenge: createChallenge(core, r.id as string) };
  return finishLogin(core, r, client);
}

function hashCode(code: string): string {
  return createHash("sha256").update(code.replace(/[\s-]/g, "").toLowerCase()).digest("hex");
}

/** Checks a TOTP code (replay-protected) or consumes a backup code. */
async function checkSecondFactor(core: IamCore, r: Row, code: string): Promise<boolean> {
  const secrets = toSecrets(r);
  if (!secrets.totpSecret) return false;
  const secret = base32Decode(await core.box.open(secrets.totpSecret));
  const step = verifyTotp(secret, code.trim(), core.clock.now(), secrets.totpLastStep);
  if (step !== null) {
    sql(core, "UPDATE users SET totp_last_step = ? WHERE id = ?").run(step, r.id as string);
    return true;
  }
  const used = sql(
    core,
    "UPDATE backup_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
  ).run(core.clock.now(), r.id as string, hashCode(code));
  return Number(used.changes) === 1;
}

export async function verifyLoginTotp(
  core: IamCore,
  input: { challenge: unknown; code: unknown },
  client: ClientInfo,
): Promise<LoginResult> {
  if (typeof input.challenge !== "string" || typeof input.code !== "string") {
    throw new IamError("InvalidRequest", "challenge and code are required");
  }
  const userId = openChallenge(core, input.challenge);
  const r = userId ? getUserRow(core, userId) : null;
  if (!r || !r.totp_enabled) {
    throw new IamError("InvalidTotp", "the login challenge expired; log in again");
  }
  assertNotLocked(core, r, client);
  if (!(await checkSecondFactor(core, r, input.code))) {
    recordFailure(core, r, client, "totp");
    throw new IamError("InvalidTotp", "wrong code");
  }
  assertActive(core, r, client);
  return finishLogin(core, getUserRow(core, r.id as string)!, client);
}

export async function changePassword(
  core: IamCore,
  userId: string,
  input: { currentPassword: unknown; newPassword: unknown },
  keepSession: string,
): Promise<void> {
  const r = getUserRow(core, userId);
  if (!r) throw new IamError("NotFound", "no such user");
  if (
    typeof input.currentPassword !== "string" ||
    !(await verifyPassword(input.currentPassword, r.password_hash as string))
  ) {
    throw new IamError("InvalidCredentials", "the current password is wrong");
  }
  const pw = checkPassword(core, input.newPassword);
  if (pw === input.currentPassword) {
    throw new IamError("WeakPassword", "the new password must differ from the current one");
  }
  await setPassword(core, userId, pw, false);
  // setPassword revoked every session; the caller's own one stays usable.
  sql(core, "UPDATE sessions SET revoked_at = NULL WHERE id = ?").run(keepSession);
}

export async function setupTotp(
  core: IamCore,
  userId: string,
): Promise<{ secret: string; otpauthUrl: string }> {
  const r = getUserRow(core, userId);
  if (!r) throw new IamError("NotFound", "no such user");
  if (r.totp_enabled) {
    throw new IamError("Conflict", "two-factor authentication is already enabled");
  }
  const secret = newTotpSecret();
  sql(core, "UPDATE users SET totp_pending = ? WHERE id = ?").run(
    await core.box.seal(secret),
    userId,
  );
  return { secret, otpauthUrl: otpauthUrl(secret, r.username as string) };
}

function newBackupCodes(core: IamCore, userId: string): string[] {
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  const codes = Array.from({ length: 10 }, () => {
    const b = crypto.getRandomValues(new Uint8Array(10));
    const s = Array.from(b, (x) => alphabet[x % alphabet.length]).join("");
    return `${s.slice(0, 5)}-${s.slice(5)}`;
  });
  tx(core.db, () => {
    sql(core, "DELETE FROM backup_codes WHERE user_id = ?").run(userId);
    const ins = sql(core, "INSERT INTO backup_codes (user_id, code_hash) VALUES (?, ?)");
    for (const c of codes) ins.run(userId, hashCode(c));
  });
  return codes;
}

export async function enableTotp(core: IamCore, userId: string, code: unknown): Promise<string[]> {
  const r = getUserRow(core, userId);
  if (!r) throw new IamError("NotFound", "no such user");
  if (r.totp_enabled) {
    throw new IamError("Conflict", "two-factor authentication is already enabled");
  }
  if (!r.totp_pending) throw new IamError("InvalidRequest", "call /auth/2fa/setup first");
  if (typeof code !== "string") throw new IamError("InvalidRequest", "code is required");
  const secret = base32Decode(await core.box.open(r.totp_pending as string));
  const step = verifyTotp(secret, code.trim(), core.clock.now());
  if (step === null) throw new IamError("InvalidTotp", "wrong code");
  sql(
    core,
    "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_enabled = 1, totp_last_step = ? WHERE id = ?",
  ).run(step, userId);
  return newBackupCodes(core, userId);
}

export async function disableTotp(
  core: IamCore,
  userId: string,
  input: { password?: unknown; code?: unknown },
  opts: { force?: boolean } = {},
): Promise<void> {
  const r = getUserRow(core, userId);
  if (!r) throw new IamError("NotFound", "no such user");
  if (!opts.force) {
    if (!r.totp_enabled) throw new IamError("Conflict", "two-factor authentication is not enabled");
    if (
      typeof input.password !== "string" ||
      !(await verifyPassword(input.password, r.password_hash as string))
    ) {
      throw new IamError("InvalidCredentials", "the password is wrong");
    }
    if (typeof input.code !== "string" || !(await checkSecondFactor(core, r, input.code))) {
      throw new IamError("InvalidTotp", "wrong code");
    }
  }
  tx(core.db, () => {
    sql(
      core,
      "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_enabled = 0, totp_last_step = NULL WHERE id = ?",
    ).run(userId);
    sql(core, "DELETE FROM backup_codes WHERE user_id = ?").run(userId);
  });
}

export async function regenerateBackupCodes(
  core: IamCore,
  userId: string,
  code: unknown,
): Promise<string[]> {
  const r = getUserRow(core, userId);
  if (!r || !r.totp_enabled) {
    throw new IamError("Conflict", "two-factor authentication is not enabled");
  }
  if (typeof code !== "string" || !(await checkSecondFactor(core, r, code))) {
    throw new IamError("InvalidTotp", "wrong code");
  }
  return newBackupCodes(core, userId);
}

export { revokeUserSessions };
