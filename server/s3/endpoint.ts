/**
 * Turns a raw request into a closed union of S3 operations. The path is taken from the raw
 * request target (never normalized), so keys keep `//`, `..`, spaces and any UTF-8.
 */
import { S3Error } from "./errors.ts";

/** Operations addressed at a bucket (no key). */
export type BucketOp =
  | "CreateBucket"
  | "HeadBucket"
  | "DeleteBucket"
  | "ListObjects"
  | "ListObjectsV2"
  | "ListObjectVersions"
  | "ListMultipartUploads"
  | "GetBucketLocation"
  | "GetBucketVersioning"
  | "PutBucketVersioning"
  | "GetBucketTagging"
  | "PutBucketTagging"
  | "DeleteBucketTagging"
  | "GetBucketLifecycleConfiguration"
  | "PutBucketLifecycleConfiguration"
  | "DeleteBucketLifecycle"
  | "GetObjectLockConfiguration"
  | "PutObjectLockConfiguration"
  | "GetBucketPolicy"
  | "PutBucketPolicy"
  | "DeleteBucketPolicy"
  | "GetBucketPolicyStatus"
  | "GetBucketAcl"
  | "PutBucketAcl"
  | "GetBucketCors"
  | "PutBucketCors"
  | "DeleteBucketCors"
  | "GetBucketEncryption"
  | "PutBucketEncryption"
  | "DeleteBucketEncryption"
  | "GetPublicAccessBlock"
  | "PutPublicAccessBlock"
  | "DeletePublicAccessBlock"
  | "GetBucketOwnershipControls"
  | "PutBucketOwnershipControls"
  | "DeleteBucketOwnershipControls"
  | "GetBucketNotificationConfiguration"
  | "PutBucketNotificationConfiguration"
  | "GetBucketReplication"
  | "PutBucketReplication"
  | "DeleteBucketReplication"
  | "GetBucketWebsite"
  | "PutBucketWebsite"
  | "DeleteBucketWebsite"
  | "GetBucketLogging"
  | "PutBucketLogging"
  | "GetBucketAccelerateConfiguration"
  | "GetBucketRequestPayment"
  | "GetBucketInventoryConfiguration"
  | "ListBucketInventoryConfigurations"
  | "PutBucketInventoryConfiguration"
  | "DeleteBucketInventoryConfiguration"
  | "DeleteObjects"
  | "PostObject";

/** Operations addressed at an object key. */
export type ObjectOp =
  | "GetObject"
  | "HeadObject"
  | "PutObject"
  | "CopyObject"
  | "DeleteObject"
  | "GetObjectAttributes"
  | "GetObjectTagging"
  | "PutObjectTagging"
  | "DeleteObjectTagging"
  | "GetObjectAcl"
  | "PutObjectAcl"
  | "GetObjectRetention"
  | "PutObjectRetention"
  | "GetObjectLegalHold"
  | "PutObjectLegalHold"
  | "CreateMultipartUpload"
  | "UploadPart"
  | "UploadPartCopy"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "ListParts";

export interface RequestTarget {
  /** Decoded path (without bucket in virtual-host style). */
  path: string;
  /** Raw path as sent (still percent-encoded), used for signature checks. */
  rawPath: string;
  /** Raw query string without `?`. */
  rawQuery: string;
  query: URLSearchParams;
  host: string;
}

interface Base {
  query: URLSearchParams;
  style: "path" | "vhost";
}

export type Endpoint =
  | (Base & { op: "ListBuckets"; bucket: null; key: null })
  | (Base & { op: "Options"; bucket: string | null; key: string | null })
  | (Base & { op: BucketOp; bucket: string; key: null })
  | (Base & { op: ObjectOp; bucket: string; key: string });

/** Percent-decodes a path; `+` stays a plus. A malformed escape is `InvalidURI`. */
export function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new S3Error("InvalidURI");
  }
}

/** Splits a raw request URL into path and query without normalizing dot segments. */
export function splitTarget(req: Request): RequestTarget {
  const url = req.url;
  const schemeEnd = url.indexOf("://");
  const pathStart = url.indexOf("/", schemeEnd + 3);
  const hostPart = pathStart < 0 ? url.slice(schemeEnd + 3) : url.slice(schemeEnd + 3, pathStart);
  const rest = pathStart < 0 ? "/" : url.slice(pathStart);
  const q = rest.indexOf("?");
  const rawPath = q < 0 ? rest : rest.slice(0, q);
  const rawQuery = q < 0 ? "" : rest.slice(q + 1);
  const host = (req.headers.get("host") ?? hostPart).toLowerCase();
  return {
    path: decodePath(rawPath),
    rawPath,
    rawQuery,
    query: new URLSearchParams(rawQuery),
    host,
  };
}

/**
 * The configured domain as Host headers are compared with it: lower case, without a port (a
 * domain may be configured as `s3.example.com:9000`; the Host's port is ignored) or a final dot.
 */
export function normalizeDomain(domain: string | null): string | null {
  return domain ? domain.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "") : null;
}

/**
 * The bucket named by a virtual-host request (`bucket.domain`), or null for path style. `d` is
 * `normalizeDomain`'s result, made once.
 */
export function vhostBucket(host: string, d: string | null): string | null {
  if (!d) return null;
  const h = host.replace(/:\d+$/, "").replace(/\.$/, "");
  if (h === d || !h.endsWith("." + d)) return null;
  return h.slice(0, -(d.length + 1));
}

const has = (q: URLSearchParams, k: string) => q.has(k);

function bucketOp(method: string, q: URLSearchParams, req: Request): BucketOp {
  const sub = (k: string) => has(q, k);
  switch (method) {
    case "GET":
      if (sub("location")) return "GetBucketLocation";
      if (sub("versioning")) return "GetBucketVersioning";
      if (sub("versions")) return "ListObjectVersions";
      if (sub("uploads")) return "ListMultipartUploads";
      if (sub("tagging")) return "GetBucketTagging";
      if (sub("lifecycle")) return "GetBucketLifecycleConfiguration";
      if (sub("object-lock")) return "GetObjectLockConfiguration";
      if (sub("policyStatus")) return "GetBucketPolicyStatus";
      if (sub("policy")) return "GetBucketPolicy";
      if (sub("acl")) return "GetBucketAcl";
      if (sub("cors")) return "GetBucketCors";
      if (sub("encryption")) return "GetBucketEncryption";
      if (sub("publicAccessBlock")) return "GetPublicAccessBlock";
      if (sub("ownershipControls")) return "GetBucketOwnershipControls";
      if (sub("notification")) return "GetBucketNotificationConfiguration";
      if (sub("replication")) return "GetBucketReplication";
      if (sub("website")) return "GetBucketWebsite";
      if (sub("logging")) return "GetBucketLogging";
      if (sub("accelerate")) return "GetBucketAccelerateConfiguration";
      if (sub("requestPayment")) return "GetBucketRequestPayment";
      if (sub("inventory")) {
        return q.has("id")
          ? "GetBucketInventoryConfiguration"
          : "ListBucketInventoryConfigurations";
      }
      rejectUnknownSubresource(q);
      return q.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
    case "HEAD":
      return "HeadBucket";
    case "PUT":
      if (sub("versioning")) return "PutBucketVersioning";
      if (sub("tagging")) return "PutBucketTagging";
      if (sub("lifecycle")) return "PutBucketLifecycleConfiguration";
      if (sub("object-lock")) return "PutObjectLockConfiguration";
      if (sub("policy")) return "PutBucketPolicy";
      if (sub("acl")) return "PutBucketAcl";
      if (sub("cors")) return "PutBucketCors";
      if (sub("encryption")) return "PutBucketEncryption";
      if (sub("publicAccessBlock")) return "PutPublicAccessBlock";
      if (sub("ownershipControls")) return "PutBucketOwnershipControls";
      if (sub("notification")) return "PutBucketNotificationConfiguration";
      if (sub("replication")) return "PutBucketReplication";
      if (sub("website")) return "PutBucketWebsite";
      if (sub("logging")) return "PutBucketLogging";
      if (sub("inventory")) return "PutBucketInventoryConfiguration";
      rejectUnknownSubresource(q);
      return "CreateBucket";
    case "DELETE":
      if (sub("tagging")) return "DeleteBucketTagging";
      if (sub("lifecycle")) return "DeleteBucketLifecycle";
      if (sub("policy")) return "DeleteBucketPolicy";
      if (sub("cors")) return "DeleteBucketCors";
      if (sub("encryption")) return "DeleteBucketEncryption";
      if (sub("publicAccessBlock")) return "DeletePublicAccessBlock";
      if (sub("ownershipControls")) return "DeleteBucketOwnershipControls";
      if (sub("replication")) return "DeleteBucketReplication";
      if (sub("website")) return "DeleteBucketWebsite";
      if (sub("inventory")) return "DeleteBucketInventoryConfiguration";
      rejectUnknownSubresource(q);
      return "DeleteBucket";
    case "POST":
      if (sub("delete")) return "DeleteObjects";
      if ((req.headers.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data")) {
        return "PostObject";
      }
      rejectUnknownSubresource(q);
      throw new S3Error("MethodNotAllowed");
  }
  throw new S3Error("MethodNotAllowed");
}

function objectOp(method: string, q: URLSearchParams, req: Request): ObjectOp {
  const sub = (k: string) => has(q, k);
  const copy = req.headers.has("x-amz-copy-source");
  switch (method) {
    case "GET":
      if (sub("tagging")) return "GetObjectTagging";
      if (sub("acl")) return "GetObjectAcl";
      if (sub("retention")) return "GetObjectRetention";
      if (sub("legal-hold")) return "GetObjectLegalHold";
      if (sub("attributes")) return "GetObjectAttributes";
      if (sub("uploadId")) return "ListParts";
      rejectUnknownSubresource(q);
      return "GetObject";
    case "HEAD":
      return "HeadObject";
    case "PUT":
      if (sub("tagging")) return "PutObjectTagging";
      if (sub("acl")) return "PutObjectAcl";
      if (sub("retention")) return "PutObjectRetention";
      if (sub("legal-hold")) return "PutObjectLegalHold";
      if (sub("uploadId") || sub("partNumber")) return copy ? "UploadPartCopy" : "UploadPart";
      rejectUnknownSubresource(q);
      return copy ? "CopyObject" : "PutObject";
    case "DELETE":
      if (sub("tagging")) return "DeleteObjectTagging";
      if (sub("uploadId")) return "AbortMultipartUpload";
      rejectUnknownSubresource(q);
      return "DeleteObject";
    case "POST":
      if (sub("uploads")) return "CreateMultipartUpload";
      if (sub("uploadId")) return "CompleteMultipartUpload";
      rejectUnknownSubresource(q);
      throw new S3Error("MethodNotAllowed");
  }
  throw new S3Error("MethodNotAllowed");
}

/**
 * Subresources S3 defines that this server does not implement answer `NotImplemented`;
 * ordinary query parameters (list options, response-* overrides, signing) pass.
 */
const UNIMPLEMENTED_SUBRESOURCES = [
  "analytics",
  "metrics",
  "intelligent-tiering",
  "torrent",
  "restore",
  "select",
  "select-type",
  "session",
  "renameObject",
  "metadataTable",
  "metadataConfiguration",
];

/**
 * Subresources that are implemented for some method: reaching a default operation with one of
 * them means an unsupported method/subresource combination. Without this, `DELETE ?acl` on a key
 * would fall through to DeleteObject and `PUT ?accelerate` to CreateBucket.
 */
const ROUTED_SUBRESOURCES = [
  "accelerate",
  "acl",
  "attributes",
  "cors",
  "delete",
  "encryption",
  "inventory",
  "legal-hold",
  "lifecycle",
  "location",
  "logging",
  "notification",
  "object-lock",
  "ownershipControls",
  "policy",
  "policyStatus",
  "publicAccessBlock",
  "replication",
  "requestPayment",
  "retention",
  "tagging",
  "uploadId",
  "uploads",
  "versioning",
  "versions",
  "website",
];

/** Called where a method falls through to its default operation (GetObject, DeleteBucket...). */
function rejectUnknownSubresource(q: URLSearchParams): void {
  for (const k of UNIMPLEMENTED_SUBRESOURCES) {
    if (q.has(k)) {
      throw new S3Error("NotImplemented", { message: `The ${k} subresource is not implemented` });
    }
  }
  for (const k of ROUTED_SUBRESOURCES) {
    if (q.has(k)) {
      throw new S3Error("NotImplemented", {
        message: `The ${k} subresource is not implemented for this method`,
      });
    }
  }
}

/**
 * Parses method, host and path into an operation (`target`: the request's, when already split).
 * `opts.domain` is normalized (`normalizeDomain`).
 */
export function parseEndpoint(
  req: Request,
  opts: { domain: string | null },
  target: RequestTarget = splitTarget(req),
): Endpoint {
  const method = req.method.toUpperCase();
  const vb = vhostBucket(target.host, opts.domain);
  let bucket: string | null;
  let key: string | null;
  const style: "path" | "vhost" = vb ? "vhost" : "path";
  if (vb) {
    bucket = vb;
    const k = target.path.slice(1);
    key = k === "" ? null : k;
  } else {
    const p = target.path.slice(1);
    const slash = p.indexOf("/");
    if (p === "") {
      bucket = null;
      key = null;
    } else if (slash < 0) {
      bucket = p;
      key = null;
    } else {
      bucket = p.slice(0, slash);
      const k = p.slice(slash + 1);
      key = k === "" ? null : k;
    }
  }
  const q = target.query;
  if (method === "OPTIONS") return { op: "Options", bucket, key, query: q, style };
  if (bucket === null) {
    if (method === "GET") return { op: "ListBuckets", bucket: null, key: null, query: q, style };
    throw new S3Error("MethodNotAllowed");
  }
  if (key === null) return { op: bucketOp(method, q, req), bucket, key: null, query: q, style };
  return { op: objectOp(method, q, req), bucket, key, query: q, style };
}
