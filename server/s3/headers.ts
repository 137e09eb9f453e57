/** Request header parsing shared by PUT, COPY, CreateMultipartUpload and POST uploads. */
import { S3Error } from "./errors.ts";
import { utf8HeaderText } from "./auth/sigv4.ts";
import type { ContentHeaders, ObjectRecord, WriteConditions } from "../storage/types.ts";
import {
  CHECKSUM_ALGORITHMS,
  CHECKSUM_LENGTH,
  type ChecksumAlgorithm,
  checksumHeaderName,
  fromBase64,
} from "../storage/mod.ts";
import type { ExpectedChecksum } from "../storage/types.ts";

/** User metadata may not exceed 2 KB (names and values, as AWS counts them). */
export const MAX_USER_METADATA = 2048;

const CONTENT_HEADERS: [keyof ContentHeaders, string][] = [
  ["contentType", "content-type"],
  ["contentEncoding", "content-encoding"],
  ["contentDisposition", "content-disposition"],
  ["contentLanguage", "content-language"],
  ["cacheControl", "cache-control"],
  ["expires", "expires"],
  ["websiteRedirectLocation", "x-amz-website-redirect-location"],
];

/** AWS's limit on `x-amz-website-redirect-location`. */
const MAX_REDIRECT_LOCATION = 2048;

/**
 * An object's `x-amz-website-redirect-location` as S3 accepts it: a path in the bucket's website
 * (`/...`) or an absolute http(s) URL, at most 2 KB; else `InvalidRedirectLocation`.
 */
export function checkRedirectLocation(v: string): string {
  if (!/^(\/|https?:\/\/)/.test(v)) throw new S3Error("InvalidRedirectLocation");
  if (v.length > MAX_REDIRECT_LOCATION) {
    throw new S3Error("InvalidRedirectLocation", {
      message: "The length of website redirect location cannot exceed 2,048 characters.",
    });
  }
  return v;
}

/** Stored content headers from a request (or a POST form given as a Headers object). */
export function contentHeadersFrom(h: Headers): ContentHeaders {
  const out: ContentHeaders = {};
  for (const [field, name] of CONTENT_HEADERS) {
    let v = h.get(name);
    if (v === null) continue;
    if (field === "contentEncoding") {
      v = storedContentEncoding(v);
      if (!v) continue;
    }
    if (field === "websiteRedirectLocation") v = checkRedirectLocation(v);
    out[field] = v;
  }
  return out;
}

/**
 * The Content-Encoding an object keeps: the value as sent, less `aws-chunked` (a transfer detail
 * of the request, not an encoding of the object), as AWS keeps `gzip, br` but stores `gzip` for
 * `gzip, aws-chunked`.
 */
export function storedContentEncoding(v: string): string {
  const codings = v.split(",");
  if (!codings.some((c) => c.trim().toLowerCase() === "aws-chunked")) return v;
  return codings.map((c) => c.trim()).filter((c) => c && c.toLowerCase() !== "aws-chunked")
    .join(", ");
}

/**
 * The declared length of object data: Content-Length (or the decoded length of aws-chunked), or
 * null for a `Transfer-Encoding: chunked` body, whose size is known once it is read (storage
 * holds it to the size limit while it streams). Neither is `MissingContentLength`.
 */
export function declaredDataLength(h: Headers, contentLength: number | null): number | null {
  if (contentLength !== null) return contentLength;
  const te = h.get("transfer-encoding") ?? "";
  if (te.split(",").some((c) => c.trim().toLowerCase() === "chunked")) return null;
  throw new S3Error("MissingContentLength");
}

/** Writes stored content headers back as response headers. */
export function contentHeadersTo(c: ContentHeaders, out: Record<string, string>): void {
  for (const [field, name] of CONTENT_HEADERS) {
    const v = c[field];
    if (v !== undefined) out[name] = v;
  }
}

/** `x-amz-meta-*` headers, lower-cased names; over 2 KB is `MetadataTooLarge`. */
export function userMetadataFrom(h: Headers): Record<string, string> {
  const meta: Record<string, string> = {};
  let size = 0;
  for (const [k, v] of h) {
    if (!k.startsWith("x-amz-meta-")) continue;
    const name = k.slice("x-amz-meta-".length);
    // Values arrive one char per byte: UTF-8 bytes (the SDKs, botocore, Go) are kept as the
    // text they encode, other bytes (Latin-1 from older clients) as they are.
    meta[name] = utf8HeaderText(v) ?? v;
    // Header values are byte strings (one char per byte as received), so length is bytes;
    // re-encoding them as UTF-8 would count every non-ASCII byte twice.
    size += name.length + v.length;
  }
  if (size > MAX_USER_METADATA) {
    throw new S3Error("MetadataTooLarge", { fields: { MaxSizeAllowed: "2048" } });
  }
  return meta;
}

/**
 * A stored metadata value as a response header. Text within Latin-1 goes out one byte per
 * character, as S3 returns it (boto3 reads "Hello World\u00e9" back as sent); text beyond
 * cannot be a header byte string and is RFC 2047-encoded (`=?UTF-8?B?...?=`), as S3 documents.
 */
export function metadataHeaderValue(v: string): string {
  if (!/[\u0100-\uffff]/.test(v)) return v;
  return `=?UTF-8?B?${btoa(String.fromCharCode(...new TextEncoder().encode(v)))}?=`;
}

export function userMetadataTo(meta: Record<string, string>, out: Record<string, string>): void {
  for (const [k, v] of Object.entries(meta)) out[`x-amz-meta-${k}`] = metadataHeaderValue(v);
}

export function writeConditionsFrom(h: Headers): WriteConditions | undefined {
  const ifMatch = h.get("if-match") ?? undefined;
  const ifNoneMatch = h.get("if-none-match") ?? undefined;
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  return { ifMatch, ifNoneMatch };
}

/**
 * The additional checksum a request asks for: a value header (`x-amz-checksum-crc32: ...`), a
 * trailer announced in `x-amz-trailer`, or only `x-amz-checksum-algorithm` / `x-amz-sdk-checksum-algorithm`.
 */
export function expectedChecksumFrom(
  h: Headers,
  trailers: Map<string, string>,
): ExpectedChecksum | undefined {
  let found: ExpectedChecksum | undefined;
  for (const alg of CHECKSUM_ALGORITHMS) {
    const name = checksumHeaderName(alg);
    const v = h.get(name);
    if (v === null) continue;
    if (found) {
      throw new S3Error("InvalidRequest", { message: "Expecting a single x-amz-checksum- header" });
    }
    const raw = fromBase64(v.trim());
    if (!raw || raw.length !== CHECKSUM_LENGTH[alg]) {
      throw new S3Error("InvalidRequest", { message: `Value for ${name} header is invalid.` });
    }
    found = { algorithm: alg, expected: () => v.trim() };
  }
  const trailer = (h.get("x-amz-trailer") ?? "").trim().toLowerCase();
  if (trailer.startsWith("x-amz-checksum-")) {
    const alg = trailer.slice("x-amz-checksum-".length).toUpperCase() as ChecksumAlgorithm;
    if (!CHECKSUM_ALGORITHMS.includes(alg)) {
      throw new S3Error("InvalidRequest", {
        message: `The value specified in the x-amz-trailer header is not supported`,
      });
    }
    if (found) {
      throw new S3Error("InvalidRequest", { message: "Expecting a single x-amz-checksum- header" });
    }
    found = { algorithm: alg, expected: () => trailers.get(trailer) };
  }
  if (!found) {
    const a = (h.get("x-amz-checksum-algorithm") ?? h.get("x-amz-sdk-checksum-algorithm"))
      ?.toUpperCase();
    if (a) {
      if (!CHECKSUM_ALGORITHMS.includes(a as ChecksumAlgorithm)) {
        throw new S3Error("InvalidRequest", {
          message: "Checksum algorithm provided is unsupported.",
        });
      }
      found = { algorithm: a as ChecksumAlgorithm, expected: () => undefined };
    }
  }
  return found;
}

/** Response headers common to GET/HEAD of an object. */
export function objectResponseHeaders(
  rec: ObjectRecord,
  opts: { checksumMode: boolean },
): Record<string, string> {
  const h: Record<string, string> = {
    "etag": rec.etag,
    "last-modified": new Date(rec.lastModified).toUTCString(),
    "accept-ranges": "bytes",
  };
  if (!rec.content.contentType) h["content-type"] = "binary/octet-stream";
  contentHeadersTo(rec.content, h);
  userMetadataTo(rec.meta, h);
  if (rec.versionId !== "null") h["x-amz-version-id"] = rec.versionId;
  if (rec.storageClass && rec.storageClass !== "STANDARD") {
    h["x-amz-storage-class"] = rec.storageClass;
  }
  // x-amz-mp-parts-count is sent only with ?partNumber= (GetObject/HeadObject set it), as AWS.
  if (rec.tags && Object.keys(rec.tags).length) {
    h["x-amz-tagging-count"] = String(Object.keys(rec.tags).length);
  }
  if (rec.retention) {
    h["x-amz-object-lock-mode"] = rec.retention.mode;
    h["x-amz-object-lock-retain-until-date"] = new Date(rec.retention.until).toISOString();
  }
  if (rec.legalHold !== undefined) h["x-amz-object-lock-legal-hold"] = rec.legalHold ? "ON" : "OFF";
  if (rec.replication) h["x-amz-replication-status"] = rec.replication;
  if (opts.checksumMode && rec.checksum) {
    h[checksumHeaderName(rec.checksum.algorithm)] = rec.checksum.value;
    h["x-amz-checksum-type"] = rec.checksum.type;
  }
  return h;
}

/** S3's timestamp format in XML bodies (ISO 8601 with milliseconds). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Object Lock settings of a write (PUT, COPY, CreateMultipartUpload): `x-amz-object-lock-mode`
 * with `-retain-until-date` (both or neither), and `-legal-hold` ON/OFF. Whether the bucket
 * allows them is checked when the version is published.
 */
export function objectLockFrom(
  h: Headers,
  now: number,
): Pick<ObjectRecord, "retention" | "legalHold"> {
  const out: Pick<ObjectRecord, "retention" | "legalHold"> = {};
  const mode = h.get("x-amz-object-lock-mode");
  const until = h.get("x-amz-object-lock-retain-until-date");
  if ((mode === null) !== (until === null)) {
    throw new S3Error("InvalidArgument", {
      message:
        "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
    });
  }
  if (mode !== null && until !== null) {
    if (mode !== "GOVERNANCE" && mode !== "COMPLIANCE") {
      throw new S3Error("InvalidArgument", { message: "Unknown wormMode directive." });
    }
    const t = Date.parse(until);
    if (Number.isNaN(t)) {
      throw new S3Error("InvalidArgument", {
        message: "The retain until date must be provided in ISO 8601 format",
      });
    }
    if (t <= now) {
      throw new S3Error("InvalidArgument", {
        message: "The retain until date must be in the future!",
      });
    }
    out.retention = { mode, until: t };
  }
  const hold = h.get("x-amz-object-lock-legal-hold");
  if (hold !== null) {
    if (hold !== "ON" && hold !== "OFF") {
      throw new S3Error("InvalidArgument", {
        message: "Legal Hold must be either of 'ON' or 'OFF'",
      });
    }
    out.legalHold = hold === "ON";
  }
  return out;
}
