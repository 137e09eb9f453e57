/**
 * Server secrets generated at first start and kept in the data dir: the master key (wraps
 * stored secrets) and the signing key (console tokens). No constant secrets anywhere.
 */
import { Buffer } from "node:buffer";

export interface ServerSecrets {
  v: 1;
  /** 32 random bytes, base64: AES-256-GCM key for secrets at rest. */
  masterKey: string;
  /** 32 random bytes, base64: HMAC key for console session tokens. */
  signingKey: string;
}

function randomB64(n: number): string {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b);
  return Buffer.from(b).toString("base64");
}

/** Loads `secrets.json`, creating it (mode 0600) on first start. */
export async function loadOrCreateSecrets(dataDir: string): Promise<ServerSecrets> {
  const path = `${dataDir}/secrets.json`;
  try {
    const s = JSON.parse(await Deno.readTextFile(path)) as ServerSecrets;
    if (s.v !== 1 || !s.masterKey || !s.signingKey) throw new Error("bad secrets file");
    return s;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new Error(`Cannot read "${path}": ${(e as Error).message}`);
    }
  }
  const s: ServerSecrets = { v: 1, masterKey: randomB64(32), signingKey: randomB64(32) };
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(s), { mode: 0o600 });
  await Deno.rename(tmp, path);
  return s;
}

/** AES-256-GCM sealing of small secrets (access key secrets, TOTP seeds) with the master key. */
export class SecretBox {
  #key: Promise<CryptoKey>;

  constructor(masterKeyB64: string) {
    const raw = new Uint8Array(Buffer.from(masterKeyB64, "base64"));
    this.#key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
  }

  /** Returns `v1:<iv b64>:<ciphertext b64>`. */
  async seal(plain: string): Promise<string> {
    const iv = new Uint8Array(12);
    crypto.getRandomValues(iv);
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv },
      await this.#key,
      new TextEncoder().encode(plain),
    );
    return `v1:${Buffer.from(iv).toString("base64")}:${Buffer.from(ct).toString("base64")}`;
  }

  async open(sealed: string): Promise<string> {
    const [v, iv, ct] = sealed.split(":");
    if (v !== "v1" || !iv || !ct) throw new Error("Cannot open sealed secret: unknown format");
    const pt = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: new Uint8Array(Buffer.from(iv, "base64")) },
      await this.#key,
      new Uint8Array(Buffer.from(ct, "base64")),
    );
    return new TextDecoder().decode(pt);
  }
}

const ALNUM_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function randomFrom(alphabet: string, n: number): string {
  const out: string[] = [];
  const buf = new Uint8Array(n * 2);
  while (out.length < n) {
    crypto.getRandomValues(buf);
    for (const x of buf) {
      // Rejection sampling keeps the distribution uniform.
      if (x < 256 - (256 % alphabet.length) && out.length < n) {
        out.push(alphabet[x % alphabet.length]);
      }
    }
  }
  return out.join("");
}

/** `AKIA` + 16 uppercase alphanumerics. */
export function generateAccessKeyId(): string {
  return "AKIA" + randomFrom(ALNUM_UPPER, 16);
}

/** 40-character secret access key. */
export function generateSecretKey(): string {
  return randomFrom(SECRET_CHARS, 40);
}
