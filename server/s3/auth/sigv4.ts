/** AWS Signature Version 4: canonical request, signing key, header and presigned verification. */
import { createHash, createHmac } from "node:crypto";
import { S3Error } from "../errors.ts";
import type { RequestTarget } from "../endpoint.ts";

export const ALGORITHM = "AWS4-HMAC-SHA256";
export const MAX_SKEW_MS = 15 * 60 * 1000;
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** RFC 3986 encoding as SigV4 wants it (unreserved kept, all else %XX upper-case). */
const UNRESERVED = /^[A-Za-z0-9\-_.~]*$/;
const UNRESERVED_OR_SLASH = /^[A-Za-z0-9\-_.~/]*$/;
/** `%XX` of every byte value, and whether the byte is an unreserved character. */
const PCT = Array.from(
  { length: 256 },
  (_, b) => "%" + b.toString(16).toUpperCase().padStart(2, "0"),
);
const KEEP = Uint8Array.from(
  { length: 256 },
  (_, b) => UNRESERVED.test(String.fromCharCode(b)) ? 1 : 0,
);

/**
 * SigV4 URI encoding (every byte but A-Z a-z 0-9 - _ . ~ percent-encoded, `/` kept on request).
 * It runs on every signed request and every name of a URL-encoded listing: plain names return
 * at once, others go through a table instead of a regex per byte.
 */
export function uriEncode(s: string, keepSlash = false): string {
  if ((keepSlash ? UNRESERVED_OR_SLASH : UNRESERVED).test(s)) return s;
  let out = "";
  for (const byte of new TextEncoder().encode(s)) {
    out += KEEP[byte] || (keepSlash && byte === 0x2f) ? String.fromCharCode(byte) : PCT[byte];
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error("InvalidURI");
  }
}

/** Parses a raw query into decoded [name, value] pairs, keeping order and empty values. */
export function parseRawQuery(raw: string): [string, string][] {
  if (!raw) return [];
  return raw.split("&").filter((p) => p !== "").map((p) => {
    const i = p.indexOf("=");
    return i < 0 ? [safeDecode(p), ""] : [safeDecode(p.slice(0, i)), safeDecode(p.slice(i + 1))];
  });
}

export function canonicalQuery(pairs: [string, string][], omit?: string): string {
  return pairs
    .filter(([k]) => k !== omit)
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

export function canonicalHeaderValue(v: string): string {
  return v.trim().replace(/\s+/g, " ");
}

export function sha256Hex(s: string | Uint8Array): string {
  return createHash("sha256").update(s).digest("hex");
}

export function hmac(key: Uint8Array | string, data: string): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(data).digest());
}

/** HMAC-SHA256 of `data` as lowercase hex (a signature). */
export function hmacHex(key: Uint8Array, data: string): string {
  return createHmac("sha256", key).update(data).digest("hex");
}

/** kSigning = HMAC chain over date, region, service, "aws4_request". */
export function deriveSigningKey(
  secret: string,
  date: string,
  region: string,
  service: string,
): Uint8Array {
  const kDate = hmac("AWS4" + secret, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, "aws4_request");
}

/**
 * Signing keys by secret and scope. A key serves every request of its scope for a day, and
 * deriving one is four HMACs per request (docs/performance.md). Owned by the S3 handler;
 * bounded: past `max` scopes it starts again (0: keeps none).
 */
export class SigningKeys {
  readonly #keys = new Map<string, Uint8Array>();
  readonly max: number;
  constructor(max = 1000) {
    this.max = max;
  }

  of(secret: string, scope: Scope): Uint8Array {
    if (this.max === 0) return deriveSigningKey(secret, scope.date, scope.region, scope.service);
    const id = `${secret}\n${scope.date}\n${scope.region}\n${scope.service}`;
    const hit = this.#keys.get(id);
    if (hit) return hit;
    const k = deriveSigningKey(secret, scope.date, scope.region, scope.service);
    if (this.#keys.size >= this.max) this.#keys.clear();
    this.#keys.set(id, k);
    return k;
  }
}

/** Constant-time equality of two lowercase hex strings (false when `a` is not one). */
export function hexEqual(a: string, b: string): boolean {
  if (a.length !== b.length || !/^[0-9a-f]*$/.test(a)) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export interface Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

/** Parses `AKID/20130524/us-east-1/s3/aws4_request`. */
export function parseCredential(
  s: string,
  errorCode: "AuthorizationHeaderMalformed" | "AuthorizationQueryParametersError",
): Scope {
  const parts = s.split("/");
  if (parts.length !== 5 || parts[4] !== "aws4_request" || !/^\d{8}$/.test(parts[1])) {
    throw new S3Error(errorCode, { message: `Cannot parse credential "${s}"` });
  }
  if (parts[3] !== "s3") {
    throw new S3Error(errorCode, {
      message: `Credential should be scoped to correct service: 's3'.`,
    });
  }
  return { accessKeyId: parts[0], date: parts[1], region: parts[2], service: parts[3] };
}

/** Parses `20130524T000000Z` into epoch ms. */
export function parseAmzDate(s: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return null;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Number.isNaN(t) ? null : t;
}

export interface ParsedAuthHeader {
  scope: Scope;
  signedHeaders: string[];
  signature: string;
}

export function parseAuthorizationHeader(h: string): ParsedAuthHeader {
  const rest = h.slice(ALGORITHM.length).trim();
  const fields = new Map<string, string>();
  for (const part of rest.split(",")) {
    const i = part.indexOf("=");
    if (i < 0) throw new S3Error("AuthorizationHeaderMalformed");
    fields.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const cred = fields.get("Credential");
  const sh = fields.get("SignedHeaders");
  const sig = fields.get("Signature");
  if (!cred || !sh || !sig) {
    throw new S3Error("AuthorizationHeaderMalformed", {
      message:
        "The authorization header is malformed; it must contain Credential, SignedHeaders and Signature.",
    });
  }
  return {
    scope: parseCredential(cred, "AuthorizationHeaderMalformed"),
    signedHeaders: sh.split(";").map((x) => x.trim().toLowerCase()),
    signature: sig.toLowerCase(),
  };
}

export interface CanonicalInput {
  method: string;
  target: RequestTarget;
  headers: Headers;
  signedHeaders: string[];
  payloadHash: string;
  /** Query parameter left out of the canonical query (X-Amz-Signature when presigned). */
  omitQuery?: string;
  /** Header values as the UTF-8 text of their bytes (see `canonicalRequests`). */
  utf8Headers?: boolean;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The UTF-8 text of a header value that arrived as raw bytes, or null when it is plain ASCII or
 * its bytes are not UTF-8. HTTP headers are read one Latin-1 character per byte.
 */
export function utf8HeaderText(v: string): string | null {
  if (!/[\x80-\xff]/.test(v)) return null;
  try {
    return UTF8.decode(Uint8Array.from(v, (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

function signedHeaderValue(i: CanonicalInput, h: string): string {
  const v = h === "host" ? (i.headers.get("host") ?? i.target.host) : i.headers.get(h);
  if (v === null) throw new S3Error("AccessDenied", { message: `Signed header ${h} is missing` });
  return i.utf8Headers ? (utf8HeaderText(v) ?? v) : v;
}

/**
 * The canonical requests a signature may have been computed over. Signers hash header values as
 * UTF-8 text, but clients put different bytes on the wire for non-ASCII text: botocore and fetch
 * send Latin-1 (one byte per character), Go, Java and curl the UTF-8 bytes. The first form reads
 * the bytes as Latin-1 characters (hashed as their UTF-8); the second, only when a signed value
 * has non-ASCII bytes that are UTF-8, reads them as the UTF-8 text they encode.
 */
export function canonicalRequests(i: CanonicalInput): string[] {
  const first = canonicalRequest(i);
  const nonAscii = i.signedHeaders.some((h) => utf8HeaderText(i.headers.get(h) ?? "") !== null);
  return nonAscii ? [first, canonicalRequest({ ...i, utf8Headers: true })] : [first];
}

export function canonicalRequest(i: CanonicalInput): string {
  const path = uriEncode(i.target.path, true);
  const headers = i.signedHeaders.map((h) =>
    `${h}:${canonicalHeaderValue(signedHeaderValue(i, h))}\n`
  ).join("");
  return [
    i.method,
    path,
    canonicalQuery(parseRawQuery(i.target.rawQuery), i.omitQuery),
    headers,
    i.signedHeaders.join(";"),
    i.payloadHash,
  ].join("\n");
}

export function stringToSign(amzDate: string, scope: Scope, canonical: string): string {
  return [
    ALGORITHM,
    amzDate,
    `${scope.date}/${scope.region}/${scope.service}/aws4_request`,
    sha256Hex(canonical),
  ].join("\n");
}

/** The signature of a string to sign: HMAC of it under the scope's signing key. */
export function signatureFor(key: Uint8Array, sts: string): string {
  return hmacHex(key, sts);
}
