/**
 * The master keys (docs/decisions/0012-encryption-at-rest.md): `data_dir/keyring.json`, mode
 * 0600, created at first start with one random 256-bit key and written atomically (temp file,
 * fsync, rename). The active key wraps new data keys (`kek = "m:<id>"`); older keys stay until
 * the rotation job has rewrapped everything they wrapped, then are retired.
 *
 * The file also holds `secret`, a random 256-bit value that never rotates: the server secret of
 * SSE-C's key check (object_keys.ts). It must outlive every master key, since an SSE-C record
 * keeps an HMAC of its customer key under it and is never rewritten.
 */
import { randomBytes } from "node:crypto";
import { openWithNonce, sealWithNonce } from "./gcm.ts";
import { DATA_KEY_BYTES } from "./segments.ts";

/** The file's form (version 1). Keys and the secret are base64. */
export interface KeyringFile {
  v: 1;
  active: string;
  keys: { id: string; key: string; created: number }[];
  secret: string;
}

/** A wrapped data key: 12-byte nonce, 32-byte ciphertext, 16-byte tag. */
export const WRAPPED_BYTES = 12 + DATA_KEY_BYTES + 16;

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/**
 * Wraps a 32-byte key under `kek` (AES-256-GCM, random nonce), binding `aad`: the wrapped key
 * opens only under the same kek and additional data.
 */
export function wrapKey(kek: Uint8Array, dk: Uint8Array, aad: Uint8Array): Uint8Array {
  if (dk.byteLength !== DATA_KEY_BYTES) {
    throw new Error(`Cannot wrap a key of ${dk.byteLength} bytes: data keys have 32`);
  }
  return sealWithNonce(kek, dk, aad);
}

/** Opens what `wrapKey` wrapped; throws when the kek or the additional data differ. */
export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array, aad: Uint8Array): Uint8Array {
  if (wrapped.byteLength !== WRAPPED_BYTES) {
    throw new Error(`Cannot unwrap a key of ${wrapped.byteLength} bytes`);
  }
  return openWithNonce(kek, wrapped, aad);
}

/** The path of a data dir's keyring. */
export function keyringPath(dataDir: string): string {
  return `${dataDir}/keyring.json`;
}

function newKeyId(): string {
  return Array.from(randomBytes(6), (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Keyring {
  #file: KeyringFile;
  #keys: Map<string, Uint8Array>;
  /** Saves in turn: a rotate and a retire never interleave their writes. */
  #saving: Promise<void> = Promise.resolve();

  private constructor(readonly path: string, file: KeyringFile) {
    this.#file = file;
    this.#keys = new Map(file.keys.map((k) => [k.id, unb64(k.key)]));
  }

  /** Opens `data_dir/keyring.json`, creating it (one fresh key and secret) when absent. */
  static async open(dataDir: string, now = Date.now()): Promise<Keyring> {
    const path = keyringPath(dataDir);
    let text: string | null = null;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (text === null) {
      await Deno.mkdir(dataDir, { recursive: true });
      const id = newKeyId();
      const file: KeyringFile = {
        v: 1,
        active: id,
        keys: [{ id, key: b64(randomBytes(32)), created: now }],
        secret: b64(randomBytes(32)),
      };
      await writeAtomically(path, file);
      return new Keyring(path, file);
    }
    return new Keyring(path, parseKeyring(text, path));
  }

  /** The id of the key new data keys are wrapped with. */
  get activeId(): string {
    return this.#file.active;
  }

  /** Every key id, oldest first. */
  ids(): string[] {
    return this.#file.keys.map((k) => k.id);
  }

  /** The SSE-C key check's server secret (never rotates; see the module doc). */
  get secret(): Uint8Array {
    return unb64(this.#file.secret);
  }

  /** Wraps a data key with the active master key. */
  wrap(dk: Uint8Array): { wrapped: Uint8Array; kek: string } {
    const kek = `m:${this.activeId}`;
    const key = this.#keys.get(this.activeId)!;
    return { wrapped: wrapKey(key, dk, new TextEncoder().encode(kek)), kek };
  }

  /** Opens a data key wrapped by `wrap` under `kek` (`m:<id>`), which must still be here. */
  unwrap(kek: string, wrapped: Uint8Array): Uint8Array {
    const key = kek.startsWith("m:") ? this.#keys.get(kek.slice(2)) : undefined;
    if (!key) {
      throw new Error(`Cannot unwrap a data key: master key "${kek}" is not in the keyring`);
    }
    return unwrapKey(key, wrapped, new TextEncoder().encode(kek));
  }

  /** Adds a fresh key and makes it the active one; returns its id. */
  rotate(now = Date.now()): Promise<string> {
    const id = newKeyId();
    const key = randomBytes(32);
    return this.#update((f) => ({
      ...f,
      active: id,
      keys: [...f.keys, { id, key: b64(key), created: now }],
    }), () => this.#keys.set(id, new Uint8Array(key))).then(() => id);
  }

  /** Removes a key nothing is wrapped under any more; the active key cannot be retired. */
  retire(id: string): Promise<void> {
    return this.#update((f) => {
      if (id === f.active) {
        throw new Error(`Cannot retire master key "${id}": it is the active key`);
      }
      if (!f.keys.some((k) => k.id === id)) {
        throw new Error(`Cannot retire master key "${id}": no such key`);
      }
      return { ...f, keys: f.keys.filter((k) => k.id !== id) };
    }, () => this.#keys.delete(id));
  }

  /** Writes the changed file, then applies it in memory (a failed write changes nothing). */
  #update(change: (f: KeyringFile) => KeyringFile, apply: () => void): Promise<void> {
    const run = this.#saving.then(async () => {
      const next = change(this.#file);
      await writeAtomically(this.path, next);
      apply();
      this.#file = next;
    });
    this.#saving = run.catch(() => {});
    return run;
  }
}

function parseKeyring(text: string, path: string): KeyringFile {
  let f: KeyringFile;
  try {
    f = JSON.parse(text);
  } catch (e) {
    throw new Error(`Cannot parse "${path}": ${(e as Error).message}`);
  }
  const ok = f?.v === 1 && Array.isArray(f.keys) && typeof f.secret === "string" &&
    f.keys.some((k) => k.id === f.active) &&
    f.keys.every((k) => typeof k.id === "string" && unb64(k.key).byteLength === 32);
  if (!ok) throw new Error(`Cannot parse "${path}": not a version 1 keyring with its active key`);
  return f;
}

/** Writes `file` as JSON with mode 0600 via a synced temp file renamed into place. */
export async function writeAtomically(path: string, file: KeyringFile): Promise<void> {
  const tmp = `${path}.${newKeyId()}.tmp`;
  const f = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
  try {
    const data = new TextEncoder().encode(JSON.stringify(file, null, 2) + "\n");
    for (let off = 0; off < data.byteLength;) off += await f.write(data.subarray(off));
    await f.syncData();
  } catch (e) {
    f.close();
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  f.close();
  await Deno.chmod(tmp, 0o600);
  await Deno.rename(tmp, path);
  const dir = path.slice(0, path.lastIndexOf("/")) || ".";
  const d = await Deno.open(dir, { read: true });
  try {
    await d.syncData().catch(() => {});
  } finally {
    d.close();
  }
}
