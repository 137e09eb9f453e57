/**
 * The data keys storage asks for (`ObjectKeys`, docs/decisions/0012-encryption-at-rest.md):
 * SSE-S3 keys wrapped by the keyring's active master key, SSE-KMS keys from the key service,
 * SSE-C keys wrapped under the customer's key. Errors are the S3 errors AWS answers with; the
 * error table is the one thing of the S3 layer this module uses.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { S3Error } from "../s3/errors.ts";
import { unwrapKey, wrapKey } from "./keyring.ts";
import type { Keyring } from "./keyring.ts";
import { DATA_KEY_BYTES, SEGMENT_SIZE } from "./segments.ts";
import type {
  CustomerKey,
  KeyService,
  NewDataKey,
  ObjectKeys,
  SseSpec,
  StoredEncryption,
} from "./types.ts";

export interface ObjectKeysOptions {
  keyring: Keyring;
  /** SSE-KMS's key service; null: SSE-KMS writes and reads fail (`NotImplemented`). */
  kms: KeyService | null;
  /** The server secret of SSE-C's key check (`Keyring.secret`: it never rotates). */
  macSecret: Uint8Array;
}

/** The `kek` of data keys wrapped under the customer's key (SSE-C). */
export const CUSTOMER_KEK = "c";

const SSE_C_AAD = new TextEncoder().encode(CUSTOMER_KEK);
const SSE_C_INFO = new TextEncoder().encode("maxiofs sse-c data key wrap v1");

/** The key that wraps data keys under a customer key: HKDF-SHA256 of it. */
function customerKek(key: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", key, new Uint8Array(0), SSE_C_INFO, 32));
}

function keyMacOf(secret: Uint8Array, key: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", secret).update(key).digest());
}

function kmsUnavailable(): S3Error {
  return new S3Error("NotImplemented", {
    message: "Server side encryption with KMS keys was requested but no key service is configured",
  });
}

/** GET/HEAD of an SSE-C object without its key (AWS: 400 InvalidRequest). */
export function customerKeyMissing(): S3Error {
  return new S3Error("InvalidRequest", {
    message:
      "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
  });
}

/** SSE-C with another key than the object's (AWS: 403). */
export function customerKeyWrong(): S3Error {
  return new S3Error("AccessDenied");
}

function checkCustomerKey(key: Uint8Array): void {
  if (key.byteLength !== 32) {
    throw new S3Error("InvalidArgument", {
      message:
        "The secret key was invalid for the specified algorithm. The customer key must be 256 bits.",
      fields: {
        ArgumentName: "x-amz-server-side-encryption-customer-key",
        ArgumentValue: "null",
      },
    });
  }
}

/** `ObjectKeys` over the keyring, the key service and customer keys. */
export function createObjectKeys(opts: ObjectKeysOptions): ObjectKeys {
  const { keyring, kms, macSecret } = opts;
  return {
    async newDataKey(ns: string, spec: SseSpec): Promise<NewDataKey> {
      const base = { fmt: "seg1" as const, seg: SEGMENT_SIZE };
      switch (spec.mode) {
        case "AES256": {
          const key = new Uint8Array(randomBytes(DATA_KEY_BYTES));
          const { wrapped, kek } = keyring.wrap(key);
          return { key, enc: { mode: "AES256", ...base, dk: wrapped, kek } };
        }
        case "aws:kms": {
          if (!kms) throw kmsUnavailable();
          const g = await kms.generateDataKey(ns, spec.keyId, spec.context);
          const enc: StoredEncryption = {
            mode: "aws:kms",
            ...base,
            dk: g.wrapped,
            kek: g.kek,
            kmsKeyArn: g.arn,
          };
          if (spec.context !== undefined) enc.context = spec.context;
          if (spec.bucketKey !== undefined) enc.bucketKey = spec.bucketKey;
          return { key: g.key, enc };
        }
        case "SSE-C": {
          checkCustomerKey(spec.key);
          const key = new Uint8Array(randomBytes(DATA_KEY_BYTES));
          return {
            key,
            enc: {
              mode: "SSE-C",
              ...base,
              dk: wrapKey(customerKek(spec.key), key, SSE_C_AAD),
              kek: CUSTOMER_KEK,
              keyMd5: spec.keyMd5,
              keyMac: keyMacOf(macSecret, spec.key),
            },
          };
        }
      }
    },

    async openDataKey(
      ns: string,
      enc: StoredEncryption,
      customer?: CustomerKey,
    ): Promise<Uint8Array> {
      if (enc.kek === CUSTOMER_KEK) {
        if (!customer) throw customerKeyMissing();
        checkCustomerKey(customer.key);
        const mac = keyMacOf(macSecret, customer.key);
        if (
          !enc.keyMac || enc.keyMac.byteLength !== mac.byteLength ||
          !timingSafeEqual(mac, enc.keyMac)
        ) {
          throw customerKeyWrong();
        }
        try {
          return unwrapKey(customerKek(customer.key), enc.dk, SSE_C_AAD);
        } catch {
          throw customerKeyWrong();
        }
      }
      if (enc.kek.startsWith("kms:")) {
        if (!kms) throw kmsUnavailable();
        return await kms.decryptDataKey(ns, enc.kek, enc.dk, enc.context);
      }
      return keyring.unwrap(enc.kek, enc.dk);
    },
  };
}
