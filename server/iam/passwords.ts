/**
 * Password hashing with scrypt (node:crypto) at OWASP's cost (N=2^15, r=8, p=3, 32 MiB), and
 * the password policy. Hashes are self-describing so the cost can rise later.
 */
import { scrypt, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";

const N = 1 << 15;
const R = 8;
const P = 3;
const KEYLEN = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number) {
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(
      password.normalize("NFC"),
      salt,
      KEYLEN,
      { N: n, r, p, maxmem: 256 * n * r },
      (e, k) => e ? reject(e) : resolve(k),
    );
  });
}

/** `scrypt$N$r$p$salt$hash` (base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = Buffer.from(crypto.getRandomValues(new Uint8Array(16)));
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  const expected = Buffer.from(parts[5], "base64");
  const key = await derive(password, Buffer.from(parts[4], "base64"), n, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash that never verifies, used to spend the same time on unknown usernames. */
export const DUMMY_HASH =
  `scrypt$${N}$${R}$${P}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;

export interface PasswordPolicy {
  passwordMinLength: number;
  passwordRequireUpper: boolean;
  passwordRequireLower: boolean;
  passwordRequireDigit: boolean;
  passwordRequireSymbol: boolean;
}

/** The first rule a password breaks, or null. */
export function passwordProblem(pw: string, policy: PasswordPolicy): string | null {
  if (pw.length < policy.passwordMinLength) {
    return `must be at least ${policy.passwordMinLength} characters`;
  }
  if (pw.length > 1024) return "must be at most 1024 characters";
  if (policy.passwordRequireUpper && !/[A-Z]/.test(pw)) return "needs an uppercase letter";
  if (policy.passwordRequireLower && !/[a-z]/.test(pw)) return "needs a lowercase letter";
  if (policy.passwordRequireDigit && !/[0-9]/.test(pw)) return "needs a digit";
  if (policy.passwordRequireSymbol && !/[^A-Za-z0-9]/.test(pw)) return "needs a symbol";
  return null;
}

/** A random password that meets any policy (printed once for the bootstrap admin). */
export function generatePassword(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return "Mx-" + Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("") + "-9a";
}
