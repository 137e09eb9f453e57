/**
 * AWS Signature Version 2: `Authorization: AWS AKID:signature` and the presigned query
 * (`AWSAccessKeyId`, `Expires`, `Signature`). The signature is base64 HMAC-SHA1 over
 * verb, Content-MD5, Content-Type, date (or Expires), the x-amz-* headers and the resource.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { S3Error } from "../errors.ts";
import type { RequestTarget } from "../endpoint.ts";
import {
  type AuthDeps,
  type AuthResult,
  contentLengthOf,
  lookupSecret,
  verifiedBody,
} from "./mod.ts";
import { MAX_SKEW_MS } from "./sigv4.ts";

/**
 * Query parameters that are part of the V2 canonical resource: S3's documented sub-resource
 * list plus those botocore adds.
 */
export const V2_SUBRESOURCES = new Set([
  "accelerate",
  "acl",
  "analytics",
  "cors",
  "defaultObjectAcl",
  "delete",
  "inventory",
  "lifecycle",
  "location",
  "logging",
  "metrics",
  "notification",
  "object-lock",
  "partNumber",
  "policy",
  "replication",
  "requestPayment",
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
  "response-content-language",
  "response-content-type",
  "response-expires",
  "restore",
  "select",
  "select-type",
  "storageClass",
  "tagging",
  "torrent",
  "uploadId",
  "uploads",
  "versionId",
  "versioning",
  "versions",
  "website",
]);

/** Newer sub-resources some V2 signers also include; tried as a second reading. */
const V2_NEWER_SUBRESOURCES = new Set([
  ...V2_SUBRESOURCES,
  "attributes",
  "encryption",
  "intelligent-tiering",
  "legal-hold",
  // Older botocore (Debian's 1.29) signs ListObjectsV2 over `?list-type=2`.
  "list-type",
  "ownershipControls",
  "policyStatus",
  "publicAccessBlock",
  "retention",
]);

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, "%20"));
  } catch {
    throw new S3Error("InvalidURI");
  }
}

/** `?acl&versionId=3` style suffix: sub-resources sorted by name, values decoded. */
export function canonicalSubresources(
  rawQuery: string,
  names: Set<string> = V2_SUBRESOURCES,
): string {
  const picked: [string, string | null][] = [];
  for (const part of rawQuery.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    if (!names.has(name)) continue;
    picked.push([name, eq < 0 ? null : decodeComponent(part.slice(eq + 1))]);
  }
  if (!picked.length) return "";
  picked.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return "?" + picked.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join("&");
}

/** `x-amz-*` headers: lower-case names, sorted, repeated values joined by commas. */
export function canonicalAmzHeaders(h: Headers): string {
  const names: string[] = [];
  for (const [k] of h) if (k.startsWith("x-amz-") && !names.includes(k)) names.push(k);
  names.sort();
  // Repeated headers arrive joined by ", " (as most clients also sign them).
  return names.map((n) => `${n}:${h.get(n)!.trim().replace(/\s*\n\s*/g, " ")}\n`).join("");
}

export interface V2StringToSignInput {
  method: string;
  headers: Headers;
  /** The Date line: the Date header, "" when x-amz-date is used, or Expires when presigned. */
  date: string;
  /** Canonical resource: `/bucket/key` as sent, plus sub-resources. */
  resource: string;
}

export function v2StringToSign(i: V2StringToSignInput): string {
  return [
    i.method,
    i.headers.get("content-md5") ?? "",
    i.headers.get("content-type") ?? "",
    i.date,
    canonicalAmzHeaders(i.headers) + i.resource,
  ].join("\n");
}

export function v2Signature(secret: string, sts: string): string {
  return createHmac("sha1", secret).update(sts).digest("base64");
}

function base64Equal(a: string, b: string): boolean {
  const x = Buffer.from(a, "base64");
  const y = Buffer.from(b, "base64");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * The resource paths the client may have signed: the path as sent, and for a virtual-host
 * request (`bucket.host/key`) the same path with the bucket from the host name in front.
 */
function resourceCandidates(target: RequestTarget): string[] {
  const paths = new Set<string>([target.rawPath]);
  // Bucket-level requests: botocore (and AWS's examples) sign "/bucket/".
  if (/^\/[^/]+$/.test(target.rawPath)) paths.add(target.rawPath + "/");
  const host = target.host.replace(/:\d+$/, "");
  const labels = host.split(".");
  const isIp = /^[\d.]+$/.test(host) || host.startsWith("[");
  if (!isIp && labels.length >= 3) paths.add(`/${labels[0]}${target.rawPath}`);
  return [...paths];
}

function verifyAny(
  secret: string,
  signature: string,
  base: Omit<V2StringToSignInput, "resource">,
  target: RequestTarget,
): { ok: true } | { ok: false; sts: string } {
  const subs = new Set([
    canonicalSubresources(target.rawQuery),
    canonicalSubresources(target.rawQuery, V2_NEWER_SUBRESOURCES),
  ]);
  let first = "";
  for (const path of resourceCandidates(target)) {
    for (const sub of subs) {
      const sts = v2StringToSign({ ...base, resource: path + sub });
      first ||= sts;
      if (base64Equal(signature, v2Signature(secret, sts))) return { ok: true };
    }
  }
  return { ok: false, sts: first };
}

function mismatch(sts: string, accessKeyId: string, signature: string): S3Error {
  return new S3Error("SignatureDoesNotMatch", {
    fields: { AWSAccessKeyId: accessKeyId, StringToSign: sts, SignatureProvided: signature },
  });
}

function bodyOf(req: Request): Pick<AuthResult, "body" | "contentLength" | "trailers"> {
  const payloadHash = req.headers.get("x-amz-content-sha256") ?? "";
  const trailers = new Map<string, string>();
  // A declared SHA-256 is still checked, and an unsigned aws-chunked body is decoded; V2 has no
  // seed signature, so signed streaming modes are refused by the decoder.
  if (/^[0-9a-f]{64}$/.test(payloadHash) || payloadHash.startsWith("STREAMING-")) {
    return { ...verifiedBody(req, payloadHash, null, trailers), trailers };
  }
  return { body: req.body, contentLength: contentLengthOf(req), trailers };
}

/** Authenticates a V2 request: `header` is the Authorization value, or null when presigned. */
export async function authenticateV2(
  req: Request,
  target: RequestTarget,
  deps: AuthDeps,
  header: string | null,
): Promise<AuthResult> {
  if (header !== null) {
    const m = /^AWS ([^:\s]+):(\S+)$/.exec(header.trim());
    if (!m) {
      throw new S3Error("InvalidArgument", {
        message: "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
        fields: { ArgumentName: "Authorization", ArgumentValue: header },
      });
    }
    const [, accessKeyId, signature] = m;
    const { secret, principal } = await lookupSecret(deps, accessKeyId);
    const amzDate = req.headers.get("x-amz-date");
    const dateHeader = req.headers.get("date");
    const t = Date.parse(amzDate ?? dateHeader ?? "");
    if (Number.isNaN(t)) {
      throw new S3Error("AccessDenied", {
        message: "AWS authentication requires a valid Date or x-amz-date header",
      });
    }
    const now = deps.now();
    if (Math.abs(now - t) > MAX_SKEW_MS) {
      throw new S3Error("RequestTimeTooSkewed", {
        fields: {
          RequestTime: amzDate ?? dateHeader ?? "",
          ServerTime: new Date(now).toISOString(),
          MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
        },
      });
    }
    // With x-amz-date the Date line is empty (AWS); some clients still sign the Date header.
    const dates = amzDate !== null ? ["", ...(dateHeader !== null ? [dateHeader] : [])] : [
      dateHeader ?? "",
    ];
    let res: { ok: true } | { ok: false; sts: string } = { ok: false, sts: "" };
    for (const date of dates) {
      res = verifyAny(
        secret,
        signature,
        { method: req.method, headers: req.headers, date },
        target,
      );
      if (res.ok) break;
    }
    if (!res.ok) throw mismatch(res.sts, accessKeyId, signature);
    deps.credentials.touch?.(accessKeyId);
    return {
      principal,
      accessKeyId,
      method: "v2",
      ...bodyOf(req),
    };
  }

  const q = target.query;
  const accessKeyId = q.get("AWSAccessKeyId") ?? "";
  // A "+" left unencoded in the base64 signature arrives as a space.
  const signature = (q.get("Signature") ?? "").replaceAll(" ", "+");
  const expires = q.get("Expires");
  if (expires === null || !/^\d+$/.test(expires)) {
    throw new S3Error("AccessDenied", {
      message:
        "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
    });
  }
  const { secret, principal } = await lookupSecret(deps, accessKeyId);
  const now = deps.now();
  if (now > Number(expires) * 1000) {
    throw new S3Error("AccessDenied", {
      message: "Request has expired",
      fields: {
        Expires: new Date(Number(expires) * 1000).toISOString(),
        ServerTime: new Date(now).toISOString(),
      },
    });
  }
  const res = verifyAny(secret, signature, {
    method: req.method,
    headers: req.headers,
    date: expires,
  }, target);
  if (!res.ok) throw mismatch(res.sts, accessKeyId, signature);
  deps.credentials.touch?.(accessKeyId);
  return {
    principal,
    accessKeyId,
    method: "v2-presigned",
    ...bodyOf(req),
  };
}
