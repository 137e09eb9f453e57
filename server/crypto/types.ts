/**
 * Encryption at rest: the shapes every part shares (docs/decisions/0012-encryption-at-rest.md).
 * This module imports nothing; storage, the key service and the S3 layer all speak these types.
 */

/** The S3 server-side encryption modes, as the `x-amz-server-side-encryption` values name them. */
export type SseMode = "AES256" | "aws:kms" | "SSE-C";

/**
 * What a write asks for, resolved by the S3 layer from the request headers, then the bucket's
 * default encryption, then the server's `--encrypt-new-objects` option (absent: plaintext).
 */
export type SseSpec =
  | { mode: "AES256" }
  | {
    mode: "aws:kms";
    /** A key id, alias-free ARN or bare id, of the writer's namespace; absent: the default key. */
    keyId?: string;
    /** `x-amz-server-side-encryption-context`: the base64 JSON object, as sent. */
    context?: string;
    /** `x-amz-server-side-encryption-bucket-key-enabled`. */
    bucketKey?: boolean;
  }
  | {
    mode: "SSE-C";
    /** The 32-byte customer key (never stored, never logged). */
    key: Uint8Array;
    /** Base64 MD5 of the key, as sent and echoed. */
    keyMd5: string;
  };

/** The customer key a read of an SSE-C object must present (GET, HEAD, copy source). */
export interface CustomerKey {
  key: Uint8Array;
  keyMd5: string;
}

/**
 * How a stored object (or one multipart part) is encrypted, kept in its record. `size` fields of
 * records stay plaintext sizes; the blob holds `sealedSize(size, seg)` bytes.
 */
export interface StoredEncryption {
  mode: SseMode;
  /** Blob format: "seg1" (segments.ts). */
  fmt: "seg1";
  /** Plaintext bytes per segment. */
  seg: number;
  /** The object's data key, wrapped (AES-256-GCM: 12-byte nonce, 32-byte key, 16-byte tag). */
  dk: Uint8Array;
  /**
   * What wrapped `dk`: `m:<id>` a master key of the keyring (SSE-S3), `kms:<keyId>:<version>` a
   * version of a key-service key of the bucket's namespace (SSE-KMS), `c` the customer key.
   */
  kek: string;
  /** SSE-KMS: the key's ARN, echoed in `x-amz-server-side-encryption-aws-kms-key-id`. */
  kmsKeyArn?: string;
  /** SSE-KMS: the encryption context as sent (base64 JSON), echoed and bound to `dk`. */
  context?: string;
  /** SSE-KMS: the bucket key flag, echoed. */
  bucketKey?: boolean;
  /** SSE-C: base64 MD5 of the customer key, echoed. */
  keyMd5?: string;
  /** SSE-C: HMAC-SHA256 of the customer key under a server secret, to tell a wrong key. */
  keyMac?: Uint8Array;
}

/** A fresh data key: its plaintext (for this write only) and how the record keeps it. */
export interface NewDataKey {
  key: Uint8Array;
  enc: StoredEncryption;
}

/**
 * The keys storage needs: new data keys for writes, data keys of stored objects for reads.
 * Implemented over the master keyring and the key service (object_keys.ts); storage gets it at
 * open and never sees a master key itself.
 */
export interface ObjectKeys {
  /**
   * A new data key for a write in namespace `ns` (`KMS.NotFoundException`, `KMS.DisabledException`
   * and the SSE-C errors are thrown as S3 errors).
   */
  newDataKey(ns: string, spec: SseSpec): Promise<NewDataKey>;
  /**
   * The plaintext data key of a stored object. SSE-C needs `customer` (a missing or wrong key is
   * the S3 error AWS gives); the others ignore it.
   */
  openDataKey(ns: string, enc: StoredEncryption, customer?: CustomerKey): Promise<Uint8Array>;
}

/** A key-service key, as the console, the admin CLI and the API show it. */
export interface KmsKeyInfo {
  /** The id clients name (`testkey-1`, or a generated UUID). */
  id: string;
  /** `arn:aws:kms:<region>:<account>:key/<id>`; account = the namespace ("" global). */
  arn: string;
  ns: string;
  description: string;
  state: "Enabled" | "Disabled";
  created: number;
  /** Versions of key material; new data keys use the newest, reads any. */
  versions: number;
  rotated?: number;
}

/**
 * The key service SSE-KMS uses (builtin_kms.ts; an external one, e.g. Vault transit or KMIP,
 * implements the same). Data keys are wrapped under a key version the service names in `kek`.
 */
export interface KeyService {
  generateDataKey(
    ns: string,
    keyId: string | undefined,
    context: string | undefined,
  ): Promise<{ key: Uint8Array; wrapped: Uint8Array; kek: string; arn: string }>;
  decryptDataKey(
    ns: string,
    kek: string,
    wrapped: Uint8Array,
    context: string | undefined,
  ): Promise<Uint8Array>;
  createKey(ns: string, opts: { id?: string; description?: string }): Promise<KmsKeyInfo>;
  listKeys(ns: string): Promise<KmsKeyInfo[]>;
  describeKey(ns: string, keyId: string): Promise<KmsKeyInfo>;
  setKeyState(ns: string, keyId: string, state: "Enabled" | "Disabled"): Promise<KmsKeyInfo>;
  rotateKey(ns: string, keyId: string): Promise<KmsKeyInfo>;
}
