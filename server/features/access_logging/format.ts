/**
 * One server access log record in AWS's format: space-separated fields, `-` for none, the time
 * in brackets and the request line, referrer and user agent in double quotes, in this order:
 *
 *   bucketOwner bucket [time] remoteIp requester requestId operation key "requestUri" status
 *   errorCode bytesSent objectSize totalTime turnAroundTime "referer" "userAgent" versionId
 *   hostId signatureVersion cipherSuite authType hostHeader tlsVersion accessPointArn aclRequired
 *   sourceRegion
 *
 * What this server cannot know is `-`: the TLS cipher suite and version (the runtime does not
 * tell them), the turn-around time (the body is read by the operation itself), access points,
 * whether an ACL was needed and the AWS Region a request came from.
 */
import type { RequestInfo } from "../../s3/context.ts";

/** The names of the fields, in order (what `parseLogRecord` returns). */
export const LOG_FIELDS = [
  "bucketOwner",
  "bucket",
  "time",
  "remoteIp",
  "requester",
  "requestId",
  "operation",
  "key",
  "requestUri",
  "httpStatus",
  "errorCode",
  "bytesSent",
  "objectSize",
  "totalTime",
  "turnAroundTime",
  "referer",
  "userAgent",
  "versionId",
  "hostId",
  "signatureVersion",
  "cipherSuite",
  "authType",
  "hostHeader",
  "tlsVersion",
  "accessPointArn",
  "aclRequired",
  "sourceRegion",
] as const;

/** Operations whose AWS name is not `REST.<METHOD>.<subresource>`. */
const OPERATION_NAMES: Record<string, string> = {
  GetObject: "REST.GET.OBJECT",
  HeadObject: "REST.HEAD.OBJECT",
  PutObject: "REST.PUT.OBJECT",
  PostObject: "REST.POST.OBJECT",
  CopyObject: "REST.COPY.OBJECT",
  DeleteObject: "REST.DELETE.OBJECT",
  DeleteObjects: "REST.POST.MULTI_OBJECT_DELETE",
  ListObjects: "REST.GET.BUCKET",
  ListObjectsV2: "REST.GET.BUCKET",
  ListObjectVersions: "REST.GET.BUCKETVERSIONS",
  HeadBucket: "REST.HEAD.BUCKET",
  CreateBucket: "REST.PUT.BUCKET",
  DeleteBucket: "REST.DELETE.BUCKET",
  CreateMultipartUpload: "REST.POST.UPLOADS",
  UploadPart: "REST.PUT.PART",
  UploadPartCopy: "REST.COPY.PART",
  CompleteMultipartUpload: "REST.POST.UPLOAD",
  AbortMultipartUpload: "REST.DELETE.UPLOAD",
  ListParts: "REST.GET.UPLOAD",
  ListMultipartUploads: "REST.GET.UPLOADS",
  GetBucketLogging: "REST.GET.LOGGING_STATUS",
  PutBucketLogging: "REST.PUT.LOGGING_STATUS",
  GetObjectTagging: "REST.GET.OBJECT_TAGGING",
  PutObjectTagging: "REST.PUT.OBJECT_TAGGING",
  DeleteObjectTagging: "REST.DELETE.OBJECT_TAGGING",
  GetBucketPolicy: "REST.GET.BUCKETPOLICY",
  PutBucketPolicy: "REST.PUT.BUCKETPOLICY",
  DeleteBucketPolicy: "REST.DELETE.BUCKETPOLICY",
  GetObjectLockConfiguration: "REST.GET.OBJECT_LOCK_CONFIGURATION",
  PutObjectLockConfiguration: "REST.PUT.OBJECT_LOCK_CONFIGURATION",
  GetObjectAttributes: "REST.GET.OBJECT_ATTRIBUTES",
};

/** The subresources an operation name is made of (`?versioning` -> `VERSIONING`). */
const SUBRESOURCES = [
  "acl",
  "cors",
  "encryption",
  "inventory",
  "legal-hold",
  "lifecycle",
  "location",
  "notification",
  "ownershipControls",
  "policyStatus",
  "publicAccessBlock",
  "replication",
  "retention",
  "tagging",
  "versioning",
  "website",
  "accelerate",
  "requestPayment",
];

/** AWS's operation name of a request: `REST.PUT.OBJECT`, `REST.GET.VERSIONING`... */
export function operationName(op: string, method: string, query: URLSearchParams): string {
  const named = OPERATION_NAMES[op];
  if (named) return named;
  const m = method.toUpperCase();
  for (const s of SUBRESOURCES) {
    if (query.has(s)) {
      return `REST.${m}.${s.replace(/([a-z])([A-Z])/g, "$1_$2").replace(/-/g, "_").toUpperCase()}`;
    }
  }
  return `REST.${m}.${op.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase()}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** `[06/Feb/2019:00:00:38 +0000]` (UTC). */
export function logTime(ms: number): string {
  const d = new Date(ms);
  return `[${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${
    pad(d.getUTCHours())
  }:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000]`;
}

const dash = (v: string | number | null | undefined) =>
  v === null || v === undefined || v === "" ? "-" : String(v);
/** A quoted field: quotes and backslashes inside escaped, so the line always splits the same. */
const quoted = (v: string | null | undefined) =>
  v === null || v === undefined || v === ""
    ? '"-"'
    : `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/** A key as logs write it: URL-encoded except `/` (no spaces, so fields split on spaces). */
export function logKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, "/");
}

/** The request line target: the raw path and query exactly as sent. */
function rawTarget(url: string): string {
  const schemeEnd = url.indexOf("://");
  const pathStart = url.indexOf("/", schemeEnd + 3);
  return pathStart < 0 ? "/" : url.slice(pathStart);
}

function signatureVersion(method: string | null | undefined): string | null {
  if (method === "v4" || method === "v4-presigned" || method === "post-policy") return "SigV4";
  if (method === "v2" || method === "v2-presigned") return "SigV2";
  return null;
}

function authType(method: string | null | undefined): string | null {
  if (method === "v4" || method === "v2" || method === "post-policy") return "AuthHeader";
  if (method === "v4-presigned" || method === "v2-presigned") return "QueryString";
  return null;
}

/** The object's size: what a PUT stored, what a GET/HEAD found (a range's full length). */
function objectSize(info: RequestInfo): number | null {
  if (info.status >= 300) return null;
  if (info.op === "PutObject" || info.op === "UploadPart" || info.op === "PostObject") {
    return info.bytesIn;
  }
  if (info.op !== "GetObject" && info.op !== "HeadObject") return null;
  const h = info.responseHeaders;
  const range = h?.get("content-range");
  const total = range ? /\/(\d+)$/.exec(range)?.[1] : undefined;
  if (total !== undefined) return Number(total);
  const len = h?.get("content-length");
  return len ? Number(len) : null;
}

/**
 * The record of a finished request to a bucket owned by `bucketOwner`, as of `now` (its time is
 * when the request arrived).
 */
export function logRecord(
  info: RequestInfo,
  bucketOwner: string,
  bucketName: string,
  now: number,
): string {
  const req = info.req;
  const url = new URL(req.url);
  const bytesSent = info.bytesOut && info.bytesOut > 0 ? info.bytesOut : null;
  const total = Math.round(info.durationMs);
  const fields = [
    dash(bucketOwner),
    dash(bucketName),
    logTime(now - info.durationMs),
    dash(info.client.ip),
    dash(info.principal?.userId),
    info.requestId,
    operationName(info.op, req.method, url.searchParams),
    info.key === null ? "-" : logKey(info.key),
    quoted(`${req.method} ${rawTarget(req.url)} HTTP/1.1`),
    String(info.status),
    dash(info.errorCode),
    dash(bytesSent),
    dash(objectSize(info)),
    String(total),
    "-",
    quoted(req.headers.get("referer")),
    quoted(req.headers.get("user-agent")),
    dash(info.responseHeaders?.get("x-amz-version-id") ?? url.searchParams.get("versionId")),
    info.requestId,
    dash(signatureVersion(info.authMethod)),
    "-",
    dash(authType(info.authMethod)),
    dash(req.headers.get("host") ?? url.host),
    "-",
    "-",
    "-",
    "-",
  ];
  return fields.join(" ");
}

/**
 * Splits a record into its named fields (tests, and anyone reading the logs back): bracketed
 * and quoted fields are one field each.
 */
export function parseLogRecord(line: string): Record<typeof LOG_FIELDS[number], string> {
  const values: string[] = [];
  const re = /\[[^\]]*\]|"(?:[^"\\]|\\.)*"|\S+/g;
  for (const m of line.matchAll(re)) {
    const v = m[0];
    values.push(
      v.startsWith('"')
        ? v.slice(1, -1).replace(/\\(.)/g, "$1")
        : v.startsWith("[")
        ? v.slice(1, -1)
        : v,
    );
  }
  if (values.length !== LOG_FIELDS.length) {
    throw new Error(`Cannot parse log record: ${values.length} fields, not ${LOG_FIELDS.length}`);
  }
  return Object.fromEntries(LOG_FIELDS.map((f, i) => [f, values[i]])) as Record<
    typeof LOG_FIELDS[number],
    string
  >;
}
