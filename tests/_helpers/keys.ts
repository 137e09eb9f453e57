/**
 * Keys for storage tests of encryption at rest: the real keyring in the data dir, and a small
 * key service that does the real cryptography (data keys wrapped under per-key material with
 * the encryption context bound) without the built-in service's database.
 */
import { randomBytes } from "node:crypto";
import { Keyring, unwrapKey, wrapKey } from "../../server/crypto/keyring.ts";
import { createObjectKeys } from "../../server/crypto/object_keys.ts";
import type { KeyService, KmsKeyInfo, ObjectKeys } from "../../server/crypto/types.ts";
import { S3Error } from "../../server/s3/errors.ts";

interface TestKey {
  info: KmsKeyInfo;
  /** Key material by version (1-based). */
  versions: Uint8Array[];
}

/** A `KeyService` held in memory: named keys per namespace, versions, enabled or not. */
export class TestKeyService implements KeyService {
  readonly #keys = new Map<string, TestKey>();

  #get(ns: string, keyId: string): TestKey {
    const id = keyId.includes(":key/") ? keyId.slice(keyId.lastIndexOf("/") + 1) : keyId;
    const k = this.#keys.get(`${ns}\n${id}`);
    if (!k) throw new S3Error("InvalidArgument", { message: `KMS key ${keyId} not found` });
    return k;
  }

  #aad(kek: string, context: string | undefined) {
    return new TextEncoder().encode(`${kek}\n${context ?? ""}`);
  }

  generateDataKey(ns: string, keyId: string | undefined, context: string | undefined) {
    const k = this.#get(ns, keyId ?? "default");
    if (k.info.state !== "Enabled") {
      return Promise.reject(new S3Error("InvalidArgument", { message: "KMS key disabled" }));
    }
    const version = k.versions.length;
    const kek = `kms:${k.info.id}:${version}`;
    const key = new Uint8Array(randomBytes(32));
    const wrapped = wrapKey(k.versions[version - 1], key, this.#aad(kek, context));
    return Promise.resolve({ key, wrapped, kek, arn: k.info.arn });
  }

  decryptDataKey(ns: string, kek: string, wrapped: Uint8Array, context: string | undefined) {
    const [, id, version] = kek.split(":");
    const k = this.#get(ns, id);
    return Promise.resolve(
      unwrapKey(k.versions[Number(version) - 1], wrapped, this.#aad(kek, context)),
    );
  }

  createKey(ns: string, opts: { id?: string; description?: string }) {
    const id = opts.id ?? crypto.randomUUID();
    const info: KmsKeyInfo = {
      id,
      arn: `arn:aws:kms:us-east-1:${ns}:key/${id}`,
      ns,
      description: opts.description ?? "",
      state: "Enabled",
      created: 0,
      versions: 1,
    };
    this.#keys.set(`${ns}\n${id}`, { info, versions: [new Uint8Array(randomBytes(32))] });
    return Promise.resolve({ ...info });
  }

  listKeys(ns: string) {
    return Promise.resolve(
      [...this.#keys.values()].filter((k) => k.info.ns === ns).map((k) => ({ ...k.info })),
    );
  }

  describeKey(ns: string, keyId: string) {
    return Promise.resolve({ ...this.#get(ns, keyId).info });
  }

  setKeyState(ns: string, keyId: string, state: "Enabled" | "Disabled") {
    const k = this.#get(ns, keyId);
    k.info.state = state;
    return Promise.resolve({ ...k.info });
  }

  rotateKey(ns: string, keyId: string) {
    const k = this.#get(ns, keyId);
    k.versions.push(new Uint8Array(randomBytes(32)));
    k.info.versions = k.versions.length;
    return Promise.resolve({ ...k.info });
  }
}

/**
 * `ObjectKeys` for a storage test: the keyring of `dataDir` (created there as at first start) and
 * `kms` (a fresh `TestKeyService` with a key "default" in the global namespace by default).
 */
export async function testObjectKeys(
  dataDir: string,
  kms?: KeyService,
): Promise<{ keys: ObjectKeys; keyring: Keyring; kms: KeyService }> {
  const keyring = await Keyring.open(dataDir);
  if (!kms) {
    kms = new TestKeyService();
    await kms.createKey("", { id: "default" });
  }
  return { keys: createObjectKeys({ keyring, kms, macSecret: keyring.secret }), keyring, kms };
}
