/**
 * The website endpoint (docs/decisions/0019): a request whose Host is `<bucket>.<website domain>`
 * (or `<bucket>.<tenant>.<website domain>` for a tenant's bucket) is answered as AWS's S3 website
 * endpoint answers it: GET and HEAD only, every caller anonymous (the bucket policy, ACLs and
 * public access blocks decide, through the one authorizer), `/` and `dir/` served from the index
 * document, RoutingRules and RedirectAllRequestsTo applied, `x-amz-website-redirect-location`
 * followed, and errors as HTML pages (or the bucket's error document, with the error's status).
 */
import { isS3Error, S3Error } from "./errors.ts";
import { escapeXml } from "./xml.ts";
import {
  encodeKeyPath,
  matchRoutingRule,
  redirectAllLocation,
  type RequestOrigin,
  routingRedirect,
  WEBSITE_CONFIG,
  type WebsiteConfig,
  websiteKeyOf,
} from "./website.ts";
import { hideMissingKeys } from "./hide_missing.ts";
import { resolveBucket } from "./bucket_ref.ts";
import { validateBucketRef } from "./names.ts";
import * as getOps from "./ops/object_get.ts";
import type { AuthResult } from "./auth/mod.ts";
import type { Endpoint, RequestTarget } from "./endpoint.ts";
import type { Namespaces } from "./bucket_ref.ts";
import type { OpContext, OpResult, S3Deps } from "./context.ts";
import type { Client } from "../iam/net.ts";
import type { Backend } from "../storage/mod.ts";
import type { BucketRecord } from "../storage/types.ts";

/**
 * The site a Host names under the website domain `d` (normalized, `normalizeDomain`): what comes
 * before `.<d>`, port and final dot ignored; null when the Host is not under it.
 */
export function websiteSiteOf(host: string, d: string): string | null {
  // Most requests are S3's: one substring search decides, with no string made.
  if (!host.includes(d)) return null;
  const h = host.replace(/:\d+$/, "").replace(/\.$/, "");
  if (h.length <= d.length + 1 || !h.endsWith(d) || h[h.length - d.length - 1] !== ".") {
    return null;
  }
  return h.slice(0, -(d.length + 1));
}

/** A site's bucket, and the name the request used for it (`tenant:bucket` for a tenant's). */
export interface SiteBucket {
  bucket: BucketRecord;
  ref: string;
}

/**
 * The bucket a site name names: `bucket.tenant` is that tenant's bucket when a tenant of that
 * name exists and has it, else the name is a bucket of the global namespace (where anonymous
 * callers resolve plain names). Null when neither exists.
 */
export async function resolveSite(
  storage: Backend,
  namespaces: Namespaces,
  site: string,
): Promise<SiteBucket | null> {
  const dot = site.lastIndexOf(".");
  if (dot > 0) {
    const account = site.slice(dot + 1);
    const ns = namespaces.nsOf(account);
    if (ns !== null && ns !== "") {
      const name = site.slice(0, dot);
      const bucket = await storage.getBucket(ns, name).catch(missingBucket);
      if (bucket) return { bucket, ref: `${account}:${name}` };
    }
  }
  const bucket = await storage.getBucket("", site).catch(missingBucket);
  return bucket ? { bucket, ref: site } : null;
}

function missingBucket(e: unknown): null {
  if (isS3Error(e) && (e.code === "NoSuchBucket" || e.code === "InvalidBucketName")) return null;
  throw e;
}

/** What serving needs of the S3 front end. */
export interface WebsiteDeps {
  storage: Backend;
  namespaces: Namespaces;
  /**
   * GetObject (HeadObject with `head`) of `key` as an anonymous caller: authorized as any
   * unsigned request is (a missing key is AccessDenied to callers who may not list), then run.
   * `plain`: without the request's Range and conditional headers (the website's own reads).
   */
  readAnonymous(site: SiteBucket, key: string, head: boolean, plain: boolean): Promise<OpResult>;
}

/** One website request. */
export interface WebsiteRequest {
  req: Request;
  target: RequestTarget;
  /** The site name the Host gave (`websiteSiteOf`). */
  site: string;
  /** Whether the request came over TLS (the protocol of redirects that name none). */
  secure: boolean;
  requestId: string;
}

/** The answer, and what the request log records of it. */
export interface WebsiteAnswer {
  result: OpResult;
  /** The bucket's name as the request named it, once resolved. */
  bucket: string | null;
  /** The key served (or tried). */
  key: string | null;
  /** The S3 error code of an error answer, else null. */
  errorCode: string | null;
}

/** Answers a website request; never throws an S3 error (they become HTML pages). */
export async function serveWebsite(deps: WebsiteDeps, w: WebsiteRequest): Promise<WebsiteAnswer> {
  const answer: WebsiteAnswer = { result: {}, bucket: null, key: null, errorCode: null };
  const head = w.req.method === "HEAD";
  let cfg: WebsiteConfig | null = null;
  let site: SiteBucket | null = null;
  try {
    if (w.req.method !== "GET" && !head) throw new S3Error("MethodNotAllowed");
    site = await resolveSite(deps.storage, deps.namespaces, w.site);
    if (!site) throw new S3Error("NoSuchBucket", { fields: { BucketName: w.site } });
    answer.bucket = site.ref;
    cfg = await deps.storage.getBucketConfig<WebsiteConfig>(site.bucket.id, WEBSITE_CONFIG);
    if (!cfg) {
      throw new S3Error("NoSuchWebsiteConfiguration", { fields: { BucketName: site.bucket.name } });
    }
  } catch (e) {
    return failed(answer, websiteErrorPage(asS3Error(e), w, null), e);
  }
  const origin: RequestOrigin = {
    protocol: w.secure ? "https" : "http",
    host: w.req.headers.get("host") ?? w.target.host,
  };
  if (cfg.redirectAll) {
    answer.result = redirect(301, redirectAllLocation(cfg.redirectAll, w.target.rawPath, origin));
    return answer;
  }
  const requested = w.target.path.startsWith("/") ? w.target.path.slice(1) : w.target.path;
  const before = matchRoutingRule(cfg.rules, requested, null);
  if (before) {
    const r = routingRedirect(before, requested, origin);
    answer.result = redirect(r.status, r.location);
    return answer;
  }
  const key = websiteKeyOf(w.target.path, cfg.indexSuffix ?? "");
  answer.key = key;
  try {
    const res = await deps.readAnonymous(site, key, head, false);
    const location = res.headers?.["x-amz-website-redirect-location"];
    if (location !== undefined) {
      if (res.body instanceof ReadableStream) await res.body.cancel().catch(() => {});
      answer.result = redirect(301, location);
      return answer;
    }
    answer.result = res;
    return answer;
  } catch (e) {
    const err = asS3Error(e);
    if (err.status === 304) return failed(answer, { status: 304, headers: err.headers }, e);
    if (err.code === "NoSuchKey" || err.code === "AccessDenied") {
      const dir = await indexRedirect(deps, site, requested, cfg.indexSuffix ?? "");
      if (dir) {
        answer.result = redirect(302, dir);
        return answer;
      }
    }
    const after = matchRoutingRule(cfg.rules, requested, err.status);
    if (after) {
      const r = routingRedirect(after, requested, origin);
      answer.result = redirect(r.status, r.location);
      return answer;
    }
    return failed(answer, await errorAnswer(deps, site, cfg, err, w, head), e);
  }
}

function failed(answer: WebsiteAnswer, result: OpResult, e: unknown): WebsiteAnswer {
  answer.result = result;
  answer.errorCode = asS3Error(e).code;
  return answer;
}

function asS3Error(e: unknown): S3Error {
  return isS3Error(e) ? e : new S3Error("InternalError");
}

function redirect(status: number, location: string): OpResult {
  return { status, headers: { location }, body: null };
}

/**
 * `/dir` when the key `dir` does not exist and `dir/<index>` may be read: the browser is sent
 * to the directory (302, as AWS), whose relative links then resolve under it.
 */
async function indexRedirect(
  deps: WebsiteDeps,
  site: SiteBucket,
  requested: string,
  suffix: string,
): Promise<string | null> {
  if (requested === "" || requested.endsWith("/")) return null;
  const exists = await deps.storage.getObjectRecord(site.bucket, requested).then(
    () => true,
    () => false,
  );
  if (exists) return null;
  try {
    await deps.readAnonymous(site, `${requested}/${suffix}`, true, true);
    return `/${encodeKeyPath(requested)}/`;
  } catch {
    return null;
  }
}

/**
 * A 4XX error answered with the bucket's error document (its bytes, the error's status) when it
 * may be read; otherwise, and for other errors, the HTML error page.
 */
async function errorAnswer(
  deps: WebsiteDeps,
  site: SiteBucket,
  cfg: WebsiteConfig,
  err: S3Error,
  w: WebsiteRequest,
  head: boolean,
): Promise<OpResult> {
  if (cfg.errorKey === undefined || err.status < 400 || err.status > 499) {
    return websiteErrorPage(err, w, null);
  }
  try {
    const doc = await deps.readAnonymous(site, cfg.errorKey, head, true);
    if (doc.headers?.["x-amz-website-redirect-location"] !== undefined) {
      if (doc.body instanceof ReadableStream) await doc.body.cancel().catch(() => {});
      throw new S3Error("AccessDenied");
    }
    return { ...doc, status: err.status, headers: { ...doc.headers, ...errorHeaders(err) } };
  } catch (e) {
    return websiteErrorPage(err, w, asS3Error(e));
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  412: "Precondition Failed",
  416: "Requested Range Not Satisfiable",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

/** The `x-amz-error-*` headers AWS's website endpoint sends with an error. */
function errorHeaders(err: S3Error): Record<string, string> {
  const h: Record<string, string> = {
    ...err.headers,
    "x-amz-error-code": err.code,
    "x-amz-error-message": err.message,
  };
  if (err.fields.Key !== undefined) h["x-amz-error-detail-Key"] = encodeURI(err.fields.Key);
  return h;
}

/**
 * AWS's HTML error page: the status as title and heading, then Code, Message, the error's
 * fields, RequestId and HostId as a list; `docError`: why the error document could not be
 * served.
 */
export function websiteErrorPage(
  err: S3Error,
  w: WebsiteRequest,
  docError: S3Error | null,
): OpResult {
  const title = `${err.status} ${STATUS_TEXT[err.status] ?? "Error"}`;
  const items = (pairs: [string, string][]) =>
    pairs.map(([k, v]) => `<li>${k}: ${escapeXml(v)}</li>\n`).join("");
  const fields = Object.entries(err.fields).filter(([k]) => k !== "RequestId" && k !== "HostId");
  let html = `<html>\n<head><title>${title}</title></head>\n<body>\n<h1>${title}</h1>\n<ul>\n` +
    items([["Code", err.code], ["Message", err.message], ...fields]) +
    items([["RequestId", w.requestId], ["HostId", w.requestId]]) +
    "</ul>\n";
  if (docError) {
    html += "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n" +
      "<ul>\n" + items([["Code", docError.code], ["Message", docError.message]]) + "</ul>\n";
  }
  html += "<hr/>\n</body>\n</html>\n";
  const bytes = new TextEncoder().encode(html);
  return {
    status: err.status,
    headers: {
      ...errorHeaders(err),
      "content-type": "text/html; charset=utf-8",
      "content-length": String(bytes.byteLength),
    },
    body: bytes,
  };
}

/**
 * A request to the website endpoint, as the S3 handler hands it over. Each object it reads is an anonymous
 * GetObject or HeadObject: the same authorizer, operation and missing-key rule as the S3 path.
 */
export async function answerWebsite(
  deps: S3Deps,
  r: { req: Request; client: Client; target: RequestTarget; site: string; requestId: string },
): Promise<WebsiteAnswer> {
  const { req, client, target, requestId } = r;
  const w: WebsiteRequest = { req, target, site: r.site, secure: client.secure, requestId };
  try {
    deps.gate?.admitRequest(WEBSITE_READ, client);
  } catch (e) {
    if (!isS3Error(e)) throw e;
    return { result: websiteErrorPage(e, w, null), bucket: null, key: null, errorCode: e.code };
  }
  // Nothing a website answers reads a body (only GET and HEAD are served).
  if (req.body && !req.body.locked) req.body.cancel().catch(() => {});
  /** `plain`: without the request's range and conditions (the index probe, the error document). */
  const readAnonymous = async (
    s: SiteBucket,
    key: string,
    head: boolean,
    plain: boolean,
  ): Promise<OpResult> => {
    const ctx: OpContext = {
      req: plain ? withoutReadConditions(req) : req,
      client,
      ep: {
        op: head ? "HeadObject" : "GetObject",
        bucket: s.ref,
        key,
        query: new URLSearchParams(),
        style: "vhost",
      },
      target,
      auth: anonymousAuth(),
      principal: null,
      ns: "",
      deps,
      requestId,
      bucket: () => Promise.resolve(s.bucket),
      bucketNamed: (name) =>
        resolveBucket(deps.storage, deps.namespaces, null, validateBucketRef(name)),
    };
    await deps.authorizer.authorize(ctx, s.bucket);
    return await hideMissingKeys(ctx, head ? getOps.headObject : getOps.getObject);
  };
  return await serveWebsite(
    { storage: deps.storage, namespaces: deps.namespaces, readAnonymous },
    w,
  );
}

/** What the S3 gate is asked about a website request (a read: maintenance lets it through). */
const WEBSITE_READ: Endpoint = {
  op: "GetObject",
  bucket: "",
  key: "",
  query: new URLSearchParams(),
  style: "vhost",
};

/** Website requests are anonymous whatever they carry: no signature is read, no body. */
function anonymousAuth(): AuthResult {
  return {
    principal: null,
    accessKeyId: null,
    method: "anonymous",
    body: null,
    contentLength: null,
    trailers: new Map(),
  };
}

const READ_CONDITIONS = [
  "range",
  "if-match",
  "if-none-match",
  "if-modified-since",
  "if-unmodified-since",
];

/** The request without its range and conditional headers (a website's own reads). */
function withoutReadConditions(req: Request): Request {
  const headers = new Headers(req.headers);
  for (const h of READ_CONDITIONS) headers.delete(h);
  return new Request(req.url, { method: "GET", headers });
}
