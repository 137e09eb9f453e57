/**
 * Server-side encryption headers: what a write asks for (`SseSpec`), the customer key a read
 * presents (`CustomerKey`), the checks AWS makes of both, and the headers that echo a stored
 * object's encryption. Every SSE error of the S3 front end is raised here, with AWS's code,
 * status and message (docs/decisions/0012-encryption-at-rest.md).
 */
import { S3Error } from "./errors.ts";
import { digestOf, fromBase64, newMd5, toBase64 } from "../storage/mod.ts";
import type { CustomerKey, SseSpec, StoredEncryption } from "../crypto/types.ts";

export const SSE_HEADER = "x-amz-server-side-encryption";
export const KMS_KEY_HEADER = "x-amz-server-side-encryption-aws-kms-key-id";
export const CONTEXT_HEADER = "x-amz-server-side-encryption-context";
export const BUCKET_KEY_HEADER = "x-amz-server-side-encryption-bucket-key-enabled";

/** The three SSE-C headers of a request's own object, or of its copy source. */
interface CustomerHeaders {
  algorithm: string;
  key: string;
  md5: string;
}

const OWN: CustomerHeaders = {
  algorithm: "x-amz-server-side-encryption-customer-algorithm",
  key: "x-amz-server-side-encryption-customer-key",
  md5: "x-amz-server-side-encryption-customer-key-md5",
};

const COPY_SOURCE: CustomerHeaders = {
  algorithm: "x-amz-copy-source-server-side-encryption-customer-algorithm",
  key: "x-amz-copy-source-server-side-encryption-customer-key",
  md5: "x-amz-copy-source-server-side-encryption-customer-key-md5",
};

/** Whether the connection may carry SSE-C keys (TLS, or `--sse-c-over-http`). */
export interface Transport {
  secure: boolean;
  sseCOverHttp: boolean;
}

function invalidArgument(message: string, name: string, value?: string): S3Error {
  const fields: Record<string, string> = { ArgumentName: name };
  if (value !== undefined) fields.ArgumentValue = value;
  return new S3Error("InvalidArgument", { message, fields });
}

/**
 * An SSE-C key as a request presents it (`source`: the copy source's headers), or undefined when
 * it sends none of the three headers. `forWrite`: the key encrypts new bytes, so its MD5 must be
 * sent and its length must be AES-256's (a read compares the key with the stored one instead,
 * and AWS answers a key of another length there as a wrong key, 403).
 */
export function customerKeyFrom(
  h: Headers,
  transport: Transport,
  opts: { source?: boolean; forWrite?: boolean } = {},
): CustomerKey | undefined {
  const names = opts.source ? COPY_SOURCE : OWN;
  const algorithm = h.get(names.algorithm);
  const key = h.get(names.key);
  const md5 = h.get(names.md5);
  if (algorithm === null && key === null && md5 === null) return undefined;
  if (!transport.secure && !transport.sseCOverHttp) {
    throw new S3Error("InvalidRequest", {
      message:
        "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.",
    });
  }
  if (algorithm === null) {
    throw invalidArgument(
      "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
      names.algorithm,
    );
  }
  if (algorithm !== "AES256") {
    throw new S3Error("InvalidEncryptionAlgorithmError", {
      message: "The encryption request you specified is not valid. The valid value is AES256.",
      fields: { ArgumentName: names.algorithm, ArgumentValue: algorithm },
    });
  }
  if (key === null || key.trim() === "") {
    throw invalidArgument(
      "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.",
      names.key,
    );
  }
  if (md5 === null && opts.forWrite) {
    throw invalidArgument(
      "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.",
      names.md5,
    );
  }
  const raw = fromBase64(key.trim()) ?? new Uint8Array(0);
  const keyMd5 = toBase64(digestOf(newMd5(), raw));
  if (md5 !== null && md5.trim() !== keyMd5) {
    throw invalidArgument(
      "The calculated MD5 hash of the key did not match the hash that was provided.",
      names.md5,
    );
  }
  if (raw.length !== 32 && (opts.forWrite || raw.length === 0)) {
    throw invalidArgument("The secret key was invalid for the specified algorithm.", names.key);
  }
  return { key: raw, keyMd5 };
}

/** Base64 of a JSON object whose values are strings, as `-context` must be. */
function validContext(v: string): boolean {
  const raw = fromBase64(v.trim());
  if (!raw) return false;
  try {
    const parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) &&
      Object.values(parsed).every((x) => typeof x === "string");
  } catch {
    return false;
  }
}

function bucketKeyFrom(h: Headers): boolean | undefined {
  const v = h.get(BUCKET_KEY_HEADER);
  if (v === null) return undefined;
  const lower = v.trim().toLowerCase();
  if (lower !== "true" && lower !== "false") {
    throw invalidArgument(`Invalid value for ${BUCKET_KEY_HEADER}`, BUCKET_KEY_HEADER, v);
  }
  return lower === "true";
}

/**
 * The encryption a write's headers ask for (PutObject, POST fields, CopyObject's destination,
 * CreateMultipartUpload); undefined when they ask for none, and the bucket default applies.
 */
export function writeSseFrom(h: Headers, transport: Transport): SseSpec | undefined {
  const mode = h.get(SSE_HEADER);
  const customer = customerKeyFrom(h, transport, { forWrite: true });
  if (customer && mode !== null) {
    throw invalidArgument(
      "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
      SSE_HEADER,
      mode,
    );
  }
  const kmsOnly = [KMS_KEY_HEADER, CONTEXT_HEADER].find((name) => h.has(name));
  if (kmsOnly && mode !== "aws:kms") {
    throw invalidArgument(
      "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
      SSE_HEADER,
      mode ?? undefined,
    );
  }
  const bucketKey = bucketKeyFrom(h);
  if (customer) return { mode: "SSE-C", key: customer.key, keyMd5: customer.keyMd5 };
  if (mode === null) return undefined;
  if (mode === "AES256") return { mode: "AES256" };
  if (mode === "aws:kms") {
    const context = h.get(CONTEXT_HEADER);
    if (context !== null && !validContext(context)) {
      throw invalidArgument(
        "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map",
        CONTEXT_HEADER,
      );
    }
    const keyId = h.get(KMS_KEY_HEADER)?.trim() || undefined;
    return {
      mode: "aws:kms",
      ...(keyId ? { keyId } : {}),
      ...(context !== null ? { context: context.trim() } : {}),
      ...(bucketKey !== undefined ? { bucketKey } : {}),
    };
  }
  if (mode === "aws:kms:dsse") {
    // Dual-layer encryption would be claimed but not done: refused rather than downgraded.
    throw new S3Error("NotImplemented", {
      message: "Dual-layer server-side encryption (aws:kms:dsse) is not implemented",
    });
  }
  throw invalidArgument("The encryption method specified is not supported", SSE_HEADER, mode);
}

/**
 * Requests that only read or add to an object (GET, HEAD, GetObjectAttributes, UploadPart,
 * UploadPartCopy) may not name an encryption: the object's own is used. AWS refuses them.
 */
export function refuseSseHeaders(h: Headers): void {
  for (const name of [SSE_HEADER, KMS_KEY_HEADER, CONTEXT_HEADER]) {
    if (h.has(name)) {
      throw invalidArgument(
        `${name} header is not supported for this operation.`,
        name,
        h.get(name) ?? undefined,
      );
    }
  }
}

/** What a customer key check answers: no SSE-C but a key, SSE-C but no key, another key. */
interface KeyAnswers {
  notApplicable(): S3Error;
  missing(): S3Error;
  wrong(): S3Error;
}

/** Reads of an object: GET, HEAD, GetObjectAttributes, copy sources. */
const OBJECT_KEY: KeyAnswers = {
  notApplicable: () =>
    new S3Error("InvalidRequest", {
      message: "The encryption parameters are not applicable to this object.",
    }),
  missing: () =>
    new S3Error("InvalidRequest", {
      message:
        "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
    }),
  wrong: () => new S3Error("AccessDenied"),
};

/** Parts of a multipart upload (UploadPart, UploadPartCopy, Complete). */
const UPLOAD_KEY: KeyAnswers = {
  notApplicable: () =>
    new S3Error("InvalidRequest", {
      message:
        "The multipart upload initiate request did not specify encryption with customer provided keys.",
    }),
  missing: () =>
    new S3Error("InvalidRequest", {
      message:
        "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.",
    }),
  wrong: () =>
    invalidArgument(
      "The provided encryption parameters did not match the ones used originally.",
      OWN.key,
    ),
};

function checkKey(
  enc: StoredEncryption | undefined,
  customer: CustomerKey | undefined,
  answers: KeyAnswers,
): void {
  if (enc?.mode !== "SSE-C") {
    if (customer) throw answers.notApplicable();
    return;
  }
  if (!customer) throw answers.missing();
  if (customer.key.length !== 32 || customer.keyMd5 !== enc.keyMd5) throw answers.wrong();
}

/**
 * Whether `customer` opens a stored object, with AWS's answers: an SSE-C object read without its
 * key is 400 InvalidRequest, with another key 403 AccessDenied; a key sent for an object that is
 * not SSE-C is 400 InvalidRequest. The key's MD5 the record keeps tells a wrong key before any
 * byte is read (HEAD too); storage checks the key itself again when it opens the data key.
 */
export function checkCustomerKey(
  enc: StoredEncryption | undefined,
  customer: CustomerKey | undefined,
): void {
  checkKey(enc, customer, OBJECT_KEY);
}

/**
 * The parts of a multipart upload are written under the upload's SSE-C key: a part without it
 * (400 InvalidRequest), with another one (400 InvalidArgument), or with one for an upload that
 * has none (400 InvalidRequest) is refused, as AWS refuses it.
 */
export function checkUploadCustomerKey(
  enc: StoredEncryption | undefined,
  customer: CustomerKey | undefined,
): void {
  checkKey(enc, customer, UPLOAD_KEY);
}

/**
 * The headers that echo a stored encryption. `context`: PutObject, CopyObject and
 * CreateMultipartUpload also echo the KMS encryption context; GET, HEAD, UploadPart and Complete
 * do not (AWS's response shapes).
 */
export function sseResponseHeaders(
  enc: StoredEncryption | undefined,
  opts: { context?: boolean; customer?: boolean } = {},
): Record<string, string> {
  if (!enc) return {};
  if (enc.mode === "SSE-C") {
    if (opts.customer === false) return {};
    return {
      "x-amz-server-side-encryption-customer-algorithm": "AES256",
      "x-amz-server-side-encryption-customer-key-md5": enc.keyMd5 ?? "",
    };
  }
  if (enc.mode === "AES256") return { [SSE_HEADER]: "AES256" };
  const h: Record<string, string> = { [SSE_HEADER]: "aws:kms" };
  if (enc.kmsKeyArn) h[KMS_KEY_HEADER] = enc.kmsKeyArn;
  if (opts.context && enc.context) h[CONTEXT_HEADER] = enc.context;
  if (enc.bucketKey) h[BUCKET_KEY_HEADER] = "true";
  return h;
}
