/**
 * The built-in key service of SSE-KMS (docs/decisions/0012): named keys per namespace ("" global,
 * else a tenant id), each with versions of 256-bit material kept in IAM's database, sealed by the
 * active master key of the keyring. A data key is wrapped (AES-256-GCM) by the key's newest
 * version, with the namespace, the key, the version and the encryption context as additional
 * data; any version unwraps what it wrapped. Errors on the data path are the ones S3 answers:
 * `KMS.NotFoundException` (unknown key, or a key of another namespace), `KMS.DisabledException`,
 * and `AccessDenied` for a data key that does not open (another context).
 *
 * @example
 * ```ts ignore
 * const kms = new BuiltinKms({ db, keyring, region: "us-east-1" });
 * await kms.createKey("", { id: "testkey-1" });
 * const dk = await kms.generateDataKey("", "testkey-1", undefined);
 * const same = await kms.decryptDataKey("", dk.kek, dk.wrapped, undefined);
 * ```
 */
import { openWithNonce, sealWithNonce } from "./gcm.ts";
import type { Db } from "../db/mod.ts";
import { type Clock, systemClock } from "../clock.ts";
import { S3Error } from "../s3/errors.ts";
import type { KeyService, KmsKeyInfo } from "./types.ts";
import { type KeyRow, KmsStore, type VersionRow } from "./kms_store.ts";

/**
 * What the key service needs of the master keyring (server/crypto/keyring.ts): seal material
 * under the active master key (`kek` = `m:<id>`), open it under the key that sealed it.
 */
export interface MasterKeys {
  wrap(
    dk: Uint8Array,
  ): Promise<{ wrapped: Uint8Array; kek: string }> | { wrapped: Uint8Array; kek: string };
  unwrap(kek: string, wrapped: Uint8Array): Promise<Uint8Array> | Uint8Array;
}

/** A refused change of the key service's keys (the console answers it as a bad request). */
export class KmsAdminError extends Error {
  constructor(readonly code: "InvalidArgument" | "AlreadyExists", message: string) {
    super(message);
    this.name = "KmsAdminError";
  }
}

/**
 * Ids an operator may give a key (`testkey-1`); generated ids are UUIDs. No `:` or `/`, so an
 * id reads back unambiguously from an ARN and from a `kek`.
 */
export const KMS_KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** The name AWS gives the S3 managed key; here, the namespace's default key. */
export const DEFAULT_KEY_ALIAS = "alias/aws/s3";
const DEFAULT_KEY_DESCRIPTION = "Default key for SSE-KMS writes that name no key (aws/s3)";
const MAX_DESCRIPTION = 8192;

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Cached material of key versions, bounded: every SSE-KMS request opens one. */
const MATERIAL_CACHE_MAX = 1024;

export interface BuiltinKmsOptions {
  /** IAM's database (migration 3 holds the key service's tables). */
  db: Db;
  keyring: MasterKeys;
  /** The server's region, in the keys' ARNs. */
  region: string;
  clock?: Clock;
}

/** A key of the namespace, by bare id or ARN, or the namespace's default key. */
type KeyRef = { id: string } | { default: true };

export class BuiltinKms implements KeyService {
  readonly #store: KmsStore;
  readonly #keyring: MasterKeys;
  readonly #region: string;
  readonly #clock: Clock;
  /** `ns\0id\0version` -> the version's material, with the sealed bytes it was opened from. */
  readonly #material = new Map<string, { kek: string; sealed: Uint8Array; key: Uint8Array }>();

  constructor(opts: BuiltinKmsOptions) {
    this.#store = new KmsStore(opts.db);
    this.#keyring = opts.keyring;
    this.#region = opts.region;
    this.#clock = opts.clock ?? systemClock;
  }

  /** `arn:aws:kms:<region>:<namespace>:key/<id>`. */
  arnOf(ns: string, id: string): string {
    return `arn:aws:kms:${this.#region}:${ns}:key/${id}`;
  }

  async generateDataKey(
    ns: string,
    keyId: string | undefined,
    context: string | undefined,
  ): Promise<{ key: Uint8Array; wrapped: Uint8Array; kek: string; arn: string }> {
    const ref = this.#parseRef(ns, keyId);
    const row = "id" in ref ? this.#store.key(ns, ref.id) : await this.#defaultKey(ns);
    const key = this.#enabled(ns, "id" in ref ? ref.id : "", row);
    const v = this.#store.version(ns, key.id, key.versions);
    if (!v) throw new Error(`Cannot use KMS key "${key.id}": version ${key.versions} is missing`);
    const material = await this.#open(v);
    const dk = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
    return {
      key: dk,
      wrapped: sealDataKey(material, dk, dataKeyAad(ns, key.id, v.version, context)),
      kek: `kms:${key.id}:${v.version}`,
      arn: this.arnOf(ns, key.id),
    };
  }

  async decryptDataKey(
    ns: string,
    kek: string,
    wrapped: Uint8Array,
    context: string | undefined,
  ): Promise<Uint8Array> {
    const m = /^kms:([^:]+):([1-9][0-9]*)$/.exec(kek);
    if (!m) throw new Error(`Cannot open a data key wrapped by "${kek}": not a KMS key version`);
    const [id, version] = [m[1], Number(m[2])];
    this.#enabled(ns, id, this.#store.key(ns, id));
    const v = this.#store.version(ns, id, version);
    if (!v) throw notFound(this.arnOf(ns, id));
    const material = await this.#open(v);
    try {
      return openDataKey(material, wrapped, dataKeyAad(ns, id, version, context));
    } catch {
      // What S3 answers when KMS refuses to decrypt an object's key.
      throw new S3Error("AccessDenied", {
        message:
          "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
      });
    }
  }

  async createKey(ns: string, opts: { id?: string; description?: string }): Promise<KmsKeyInfo> {
    const id = opts.id ?? crypto.randomUUID();
    if (typeof id !== "string" || !KMS_KEY_ID.test(id)) {
      throw new KmsAdminError(
        "InvalidArgument",
        `Cannot create KMS key "${id}": an id is 1-128 letters, digits, "-", "_" or "." and starts with a letter or digit`,
      );
    }
    const description = opts.description ?? "";
    if (typeof description !== "string" || description.length > MAX_DESCRIPTION) {
      throw new KmsAdminError(
        "InvalidArgument",
        `Cannot create KMS key "${id}": the description is a string of at most ${MAX_DESCRIPTION} characters`,
      );
    }
    const created = this.#clock.now();
    const first = await this.#newMaterial();
    if (!this.#store.insertKey({ ns, id, description, isDefault: false, created }, first)) {
      throw new KmsAdminError("AlreadyExists", `Cannot create KMS key "${id}": it exists`);
    }
    return this.#info(this.#store.key(ns, id)!);
  }

  // deno-lint-ignore require-await -- errors reject, as every method of the interface does
  async listKeys(ns: string): Promise<KmsKeyInfo[]> {
    return this.#store.keys(ns).map((k) => this.#info(k));
  }

  // deno-lint-ignore require-await
  async describeKey(ns: string, keyId: string): Promise<KmsKeyInfo> {
    return this.#info(this.#existing(ns, keyId));
  }

  // deno-lint-ignore require-await
  async setKeyState(
    ns: string,
    keyId: string,
    state: "Enabled" | "Disabled",
  ): Promise<KmsKeyInfo> {
    if (state !== "Enabled" && state !== "Disabled") {
      throw new KmsAdminError("InvalidArgument", `A KMS key's state is Enabled or Disabled`);
    }
    const key = this.#existing(ns, keyId);
    this.#store.setState(ns, key.id, state);
    return this.#info(this.#store.key(ns, key.id)!);
  }

  /** Adds a version of new material: new data keys use it; older versions still open theirs. */
  async rotateKey(ns: string, keyId: string): Promise<KmsKeyInfo> {
    const key = this.#existing(ns, keyId);
    const material = await this.#newMaterial();
    if (this.#store.addVersion(ns, key.id, material, this.#clock.now()) === null) {
      throw notFound(this.arnOf(ns, key.id));
    }
    return this.#info(this.#store.key(ns, key.id)!);
  }

  /**
   * Reseals the material sealed by the master keys `from` accepts with the keyring's active key
   * (master-key rotation); how many versions were resealed. Material sealed by the active key
   * is left alone, so a rotation's walk may call this again after a restart.
   */
  async rewrapMaterial(from: (kek: string) => boolean): Promise<number> {
    let done = 0;
    for (const { kek } of this.#store.materialKeks()) {
      if (!from(kek)) continue;
      for (const v of this.#store.versionsUnder(kek)) {
        const material = await this.#open(v);
        const next = await this.#seal(material);
        if (next.kek === v.kek) continue;
        if (this.#store.resealVersion(v, next)) done++;
      }
    }
    return done;
  }

  /** How many key versions the master keys `from` accepts still seal. */
  materialUnder(from: (kek: string) => boolean): number {
    return this.#store.materialKeks().reduce((n, m) => n + (from(m.kek) ? m.count : 0), 0);
  }

  /** The key a management call names (bare id, ARN or the default key's alias); NotFound. */
  #existing(ns: string, keyId: string): KeyRow {
    const ref = this.#parseRef(ns, keyId);
    const row = "id" in ref ? this.#store.key(ns, ref.id) : this.#store.defaultKey(ns);
    if (!row) throw notFound("id" in ref ? this.arnOf(ns, ref.id) : keyId);
    return row;
  }

  #parseRef(ns: string, keyId: string | undefined): KeyRef {
    if (keyId === undefined || keyId === "") return { default: true };
    let ref = keyId;
    if (ref.startsWith("arn:")) {
      const m = /^arn:aws:kms:([^:]*):([^:]*):(key|alias)\/(.+)$/.exec(ref);
      // Another region's or another namespace's key does not exist here.
      if (!m || m[1] !== this.#region) throw notFound(keyId);
      if (m[2] !== ns) throw notFound(keyId);
      ref = m[3] === "alias" ? `alias/${m[4]}` : m[4];
    }
    if (ref === DEFAULT_KEY_ALIAS) return { default: true };
    if (!KMS_KEY_ID.test(ref)) {
      throw new S3Error("KMS.NotFoundException", { message: `Invalid keyId ${keyId}` });
    }
    return { id: ref };
  }

  /** The namespace's default key, created at its first use (as AWS creates aws/s3). */
  async #defaultKey(ns: string): Promise<KeyRow> {
    const known = this.#store.defaultKey(ns);
    if (known) return known;
    const first = await this.#newMaterial();
    // Two first uses at once: one insert wins, the other reads the winner's key.
    this.#store.insertKey({
      ns,
      id: crypto.randomUUID(),
      description: DEFAULT_KEY_DESCRIPTION,
      isDefault: true,
      created: this.#clock.now(),
    }, first);
    return this.#store.defaultKey(ns)!;
  }

  #enabled(ns: string, id: string, row: KeyRow | null): KeyRow {
    if (!row) throw notFound(this.arnOf(ns, id));
    if (row.state !== "Enabled") {
      throw new S3Error("KMS.DisabledException", {
        message: `${this.arnOf(ns, row.id)} is disabled.`,
      });
    }
    return row;
  }

  #newMaterial(): Promise<{ kek: string; sealed: Uint8Array }> {
    return this.#seal(crypto.getRandomValues(new Uint8Array(KEY_BYTES)));
  }

  /** Material sealed by the keyring's active master key. */
  async #seal(material: Uint8Array): Promise<{ kek: string; sealed: Uint8Array }> {
    const { wrapped, kek } = await this.#keyring.wrap(material);
    return { kek, sealed: wrapped };
  }

  async #open(v: VersionRow): Promise<Uint8Array> {
    const slot = `${v.ns}\0${v.keyId}\0${v.version}`;
    const cached = this.#material.get(slot);
    if (cached && cached.kek === v.kek && sameBytes(cached.sealed, v.sealed)) return cached.key;
    const key = await this.#keyring.unwrap(v.kek, v.sealed);
    if (this.#material.size >= MATERIAL_CACHE_MAX) this.#material.clear();
    this.#material.set(slot, { kek: v.kek, sealed: v.sealed, key });
    return key;
  }

  #info(k: KeyRow): KmsKeyInfo {
    return {
      id: k.id,
      arn: this.arnOf(k.ns, k.id),
      ns: k.ns,
      description: k.description,
      state: k.state,
      created: k.created,
      versions: k.versions,
      ...(k.rotated === null ? {} : { rotated: k.rotated }),
    };
  }
}

function notFound(what: string): S3Error {
  return new S3Error("KMS.NotFoundException", { message: `Key '${what}' does not exist` });
}

/**
 * The additional data a data key is wrapped with: where it may be opened (namespace, key,
 * version) and the encryption context as sent (absent and empty differ).
 */
function dataKeyAad(ns: string, id: string, version: number, context: string | undefined) {
  return new TextEncoder().encode(JSON.stringify(["kms-dk-1", ns, id, version, context ?? null]));
}

/** `nonce (12) || ciphertext (32) || tag (16)`, the shape of `StoredEncryption.dk`. */
function sealDataKey(material: Uint8Array, dk: Uint8Array, aad: Uint8Array): Uint8Array {
  return sealWithNonce(material, dk, aad);
}

function openDataKey(material: Uint8Array, wrapped: Uint8Array, aad: Uint8Array): Uint8Array {
  if (wrapped.length !== NONCE_BYTES + KEY_BYTES + TAG_BYTES) {
    throw new Error("Cannot open a data key: wrong length");
  }
  return openWithNonce(material, wrapped, aad);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
