/**
 * The S3 front end: parse -> authenticate -> authorize -> dispatch -> write. Only this module
 * writes responses, request ids and error documents.
 */
import { randomHex } from "../hex.ts";
import { isS3Error, S3Error } from "./errors.ts";
import {
  type Endpoint,
  normalizeDomain,
  parseEndpoint,
  type RequestTarget,
  splitTarget,
} from "./endpoint.ts";
import { authenticate, authenticatedAs, type AuthResult } from "./auth/mod.ts";
import { SigningKeys } from "./auth/sigv4.ts";
import { validateBucketRef, validateEndpointNames } from "./names.ts";
import { resolveBucket } from "./bucket_ref.ts";
import { MAX_DOCUMENT_BYTES } from "./body.ts";
import { buildXml } from "./xml.ts";
import { namespaceOf, type Principal } from "../iam/types.ts";
import type { OpContext, OpResult, S3Deps, S3Handler } from "./context.ts";
import type { Client } from "../iam/net.ts";
import type { BucketRecord } from "../storage/types.ts";
import * as service from "./ops/service.ts";
import * as bucketOps from "./ops/bucket.ts";
import * as getOps from "./ops/object_get.ts";
import * as putOps from "./ops/object_put.ts";
import * as copyOps from "./ops/copy.ts";
import * as deleteOps from "./ops/delete.ts";
import * as listOps from "./ops/list.ts";
import * as attrOps from "./ops/attributes.ts";
import * as postOps from "./ops/post_object.ts";
import * as mpOps from "./ops/multipart.ts";
import * as versionOps from "./ops/versioning.ts";
import * as tagOps from "./ops/tagging.ts";
import * as lockOps from "./ops/lock.ts";
import * as lifecycleOps from "./ops/lifecycle.ts";
import * as configOps from "./ops/bucket_config.ts";
import * as notificationOps from "./ops/notification.ts";
import * as policyOps from "./ops/bucket_policy.ts";
import * as corsOps from "./ops/cors.ts";
import * as pabOps from "./ops/public_access.ts";
import * as aclOps from "./ops/acl.ts";
import * as encryptionOps from "./ops/encryption.ts";
import * as ownershipOps from "./ops/ownership.ts";
import * as websiteOps from "./ops/website.ts";
import { answerWebsite, type WebsiteAnswer, websiteSiteOf } from "./website_serve.ts";
import { hideMissingKeys } from "./hide_missing.ts";
import { DEFAULT_LIST_DOCUMENT_BYTES, ListDocuments } from "./ops/list_documents.ts";
import * as loggingOps from "./ops/logging.ts";
import * as inventoryOps from "./ops/inventory.ts";
import * as replicationOps from "./ops/replication.ts";

export function newRequestId(): string {
  return randomHex(8).toUpperCase();
}

function notImplemented(ep: Endpoint): never {
  throw new S3Error("NotImplemented", { message: `${ep.op} is not implemented` });
}

/** Routes an authorized request to its operation. */
function dispatch(ctx: OpContext): Promise<OpResult> {
  const ep = ctx.ep;
  switch (ep.op) {
    case "ListBuckets":
      return service.listBuckets(ctx);
    case "Options":
      return corsOps.preflight(ctx.deps, ctx.req, ctx.target, ep);
    case "CreateBucket":
      return bucketOps.createBucket(ctx);
    case "HeadBucket":
      return bucketOps.headBucket(ctx);
    case "DeleteBucket":
      return bucketOps.deleteBucket(ctx);
    case "GetBucketLocation":
      return bucketOps.getBucketLocation(ctx);
    case "ListObjects":
      return listOps.listObjectsV1(ctx);
    case "ListObjectsV2":
      return listOps.listObjectsV2(ctx);
    case "GetObject":
      return getOps.getObject(ctx);
    case "HeadObject":
      return getOps.headObject(ctx);
    case "PutObject":
      return putOps.putObject(ctx);
    case "CopyObject":
      return copyOps.copyObject(ctx);
    case "DeleteObject":
      return deleteOps.deleteObject(ctx);
    case "DeleteObjects":
      return deleteOps.deleteObjects(ctx);
    case "GetObjectAttributes":
      return attrOps.getObjectAttributes(ctx);
    case "PostObject":
      return postOps.postObject(ctx);
    case "CreateMultipartUpload":
      return mpOps.createMultipartUpload(ctx);
    case "UploadPart":
      return mpOps.uploadPart(ctx);
    case "UploadPartCopy":
      return mpOps.uploadPartCopy(ctx);
    case "CompleteMultipartUpload":
      return mpOps.completeMultipartUpload(ctx);
    case "AbortMultipartUpload":
      return mpOps.abortMultipartUpload(ctx);
    case "ListParts":
      return mpOps.listParts(ctx);
    case "ListMultipartUploads":
      return mpOps.listMultipartUploads(ctx);
    case "GetBucketVersioning":
      return versionOps.getBucketVersioning(ctx);
    case "PutBucketVersioning":
      return versionOps.putBucketVersioning(ctx);
    case "ListObjectVersions":
      return versionOps.listObjectVersions(ctx);
    case "GetObjectTagging":
      return tagOps.getObjectTagging(ctx);
    case "PutObjectTagging":
      return tagOps.putObjectTagging(ctx);
    case "DeleteObjectTagging":
      return tagOps.deleteObjectTagging(ctx);
    case "GetBucketTagging":
      return tagOps.getBucketTagging(ctx);
    case "PutBucketTagging":
      return tagOps.putBucketTagging(ctx);
    case "DeleteBucketTagging":
      return tagOps.deleteBucketTagging(ctx);
    case "GetObjectLockConfiguration":
      return lockOps.getObjectLockConfiguration(ctx);
    case "PutObjectLockConfiguration":
      return lockOps.putObjectLockConfiguration(ctx);
    case "GetObjectRetention":
      return lockOps.getObjectRetention(ctx);
    case "PutObjectRetention":
      return lockOps.putObjectRetention(ctx);
    case "GetObjectLegalHold":
      return lockOps.getObjectLegalHold(ctx);
    case "PutObjectLegalHold":
      return lockOps.putObjectLegalHold(ctx);
    case "GetBucketLifecycleConfiguration":
      return lifecycleOps.getBucketLifecycle(ctx);
    case "PutBucketLifecycleConfiguration":
      return lifecycleOps.putBucketLifecycle(ctx);
    case "DeleteBucketLifecycle":
      return lifecycleOps.deleteBucketLifecycle(ctx);
    case "GetBucketAcl":
      return aclOps.getBucketAcl(ctx);
    case "PutBucketAcl":
      return aclOps.putBucketAcl(ctx);
    case "GetObjectAcl":
      return aclOps.getObjectAcl(ctx);
    case "PutObjectAcl":
      return aclOps.putObjectAcl(ctx);
    case "GetBucketOwnershipControls":
      return ownershipOps.getBucketOwnershipControls(ctx);
    case "PutBucketOwnershipControls":
      return ownershipOps.putBucketOwnershipControls(ctx);
    case "DeleteBucketOwnershipControls":
      return ownershipOps.deleteBucketOwnershipControls(ctx);
    case "GetBucketPolicy":
      return policyOps.getBucketPolicy(ctx);
    case "PutBucketPolicy":
      return policyOps.putBucketPolicy(ctx);
    case "DeleteBucketPolicy":
      return policyOps.deleteBucketPolicy(ctx);
    case "GetBucketPolicyStatus":
      return policyOps.getBucketPolicyStatus(ctx);
    case "GetBucketCors":
      return corsOps.getBucketCors(ctx);
    case "PutBucketCors":
      return corsOps.putBucketCors(ctx);
    case "DeleteBucketCors":
      return corsOps.deleteBucketCors(ctx);
    case "GetPublicAccessBlock":
      return pabOps.getPublicAccessBlock(ctx);
    case "PutPublicAccessBlock":
      return pabOps.putPublicAccessBlock(ctx);
    case "DeletePublicAccessBlock":
      return pabOps.deletePublicAccessBlock(ctx);
    case "GetBucketEncryption":
      return encryptionOps.getBucketEncryption(ctx);
    case "PutBucketEncryption":
      return encryptionOps.putBucketEncryption(ctx);
    case "DeleteBucketEncryption":
      return encryptionOps.deleteBucketEncryption(ctx);
    case "GetBucketWebsite":
      return websiteOps.getBucketWebsite(ctx);
    case "PutBucketWebsite":
      return websiteOps.putBucketWebsite(ctx);
    case "DeleteBucketWebsite":
      return websiteOps.deleteBucketWebsite(ctx);
    case "GetBucketLogging":
      return loggingOps.getBucketLogging(ctx);
    case "PutBucketLogging":
      return loggingOps.putBucketLogging(ctx);
    case "GetBucketInventoryConfiguration":
      return inventoryOps.getBucketInventoryConfiguration(ctx);
    case "ListBucketInventoryConfigurations":
      return inventoryOps.listBucketInventoryConfigurations(ctx);
    case "PutBucketInventoryConfiguration":
      return inventoryOps.putBucketInventoryConfiguration(ctx);
    case "DeleteBucketInventoryConfiguration":
      return inventoryOps.deleteBucketInventoryConfiguration(ctx);
    case "GetBucketReplication":
      return replicationOps.getBucketReplication(ctx);
    case "PutBucketReplication":
      return replicationOps.putBucketReplication(ctx);
    case "DeleteBucketReplication":
      return replicationOps.deleteBucketReplication(ctx);
    case "GetBucketNotificationConfiguration":
      return notificationOps.getBucketNotificationConfiguration(ctx);
    case "PutBucketNotificationConfiguration":
      return notificationOps.putBucketNotificationConfiguration(ctx);
    case "GetBucketAccelerateConfiguration":
    case "GetBucketRequestPayment":
      return configOps.bucketConfig(ctx);
    default: {
      const _never: never = ep;
      return notImplemented(_never);
    }
  }
}

function resourceOf(ep: Endpoint | null, path: string): string {
  if (!ep) return path;
  if (ep.bucket === null) return "/";
  return ep.key === null ? `/${ep.bucket}` : `/${ep.bucket}/${ep.key}`;
}

/**
 * A response not yet made a `Response`: its headers stay ours to read and to add to. Reading a
 * `Response`'s `headers` makes Deno drop the native response it prepared when it was built (body
 * included) and prepare it again when it is sent: for a 200 KB LIST document that second pass
 * was a quarter of the request's CPU.
 */
interface Answer {
  status: number;
  headers: Headers;
  body: BodyInit | null;
}

const responseOf = (a: Answer): Response =>
  new Response(a.body, { status: a.status, headers: a.headers });

/** Builds the error document (empty body for HEAD). */
export function errorResponse(
  err: S3Error,
  opts: { method: string; resource: string; requestId: string },
): Response {
  return responseOf(errorAnswer(err, opts));
}

function errorAnswer(
  err: S3Error,
  opts: { method: string; resource: string; requestId: string },
): Answer {
  const headers = new Headers({
    "x-amz-request-id": opts.requestId,
    "x-amz-id-2": opts.requestId,
    "server": "MaxIOFS",
    ...err.headers,
  });
  if (opts.method === "HEAD" || err.status === 304) {
    return { body: null, status: err.status, headers };
  }
  headers.set("content-type", "application/xml");
  const xml = buildXml("Error", {
    Code: err.code,
    Message: err.message,
    ...err.fields,
    Resource: opts.resource,
    RequestId: opts.requestId,
    HostId: opts.requestId,
  }, { ns: null });
  return { body: xml, status: err.status, headers };
}

function writeResult(res: OpResult, requestId: string, method: string): Answer {
  const headers = new Headers(res.headers);
  headers.set("x-amz-request-id", requestId);
  headers.set("x-amz-id-2", requestId);
  headers.set("server", "MaxIOFS");
  let body: BodyInit | null = null;
  if (res.xml !== undefined) {
    headers.set("content-type", "application/xml");
    body = res.xml;
  } else if (res.body !== undefined && res.body !== null) {
    body = res.body as BodyInit;
  }
  const status = res.status ?? 200;
  if (method === "HEAD") {
    if (body instanceof ReadableStream) body.cancel().catch(() => {});
    body = null;
  }
  if (body === null && status === 200 && method !== "HEAD" && !headers.has("content-length")) {
    headers.set("content-length", "0");
  }
  return { body, status, headers };
}

/**
 * The bucket's CORS rules answer an actual request that has an Origin, error answers included.
 * The bucket is the one the request resolved; a request that did not authenticate resolves it as
 * a preflight does. Requests without Origin (and the console's, `as`) skip this entirely.
 */
async function addCors(
  deps: S3Deps,
  req: Request,
  res: Answer,
  ep: Endpoint,
  target: RequestTarget,
  resolved: { bucket: Promise<BucketRecord> | null; authenticated: boolean },
): Promise<void> {
  const origin = req.headers.get("origin");
  if (!origin || ep.bucket === null || ep.op === "Options") return;
  const bucket = resolved.bucket ? await resolved.bucket.catch(() => null) : null;
  const unresolved = bucket || resolved.authenticated ? null : { target, name: ep.bucket };
  const headers = await corsOps.actualCorsHeaders(deps, req, origin, bucket, unresolved);
  if (!headers) return;
  for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
}

/** The two ways into the S3 front end; both share everything after authentication. */
export interface S3Front {
  /** An S3 request from the network: the caller is whoever its signature says. */
  handle: S3Handler;
  /**
   * An S3 request from inside the server on behalf of `principal`, whom the caller has already
   * authenticated (the console's session): no signature, the body as sent. Authorization, quotas,
   * response writing and the `onRequest` hook are exactly those of `handle`. The per-address rate
   * limit applies only with `opts.limitAddress` (a share link's anonymous visitor; the console's
   * users are limited by their session, not their address).
   */
  handleAs(
    req: Request,
    principal: Principal,
    client: Client,
    opts?: { limitAddress?: boolean },
  ): Promise<Response>;
  /** Requests being handled now (arrived, not yet answered), both ways in. */
  inFlight(): number;
}

export function createS3Handler(deps: S3Deps): S3Front {
  const endpointOpts = { domain: normalizeDomain(deps.domain) };
  const websiteDomain = normalizeDomain(deps.websiteDomain ?? null);
  const signingKeys = new SigningKeys(deps.tuning?.on("signing-keys") === false ? 0 : 1000);
  const listDocuments = new ListDocuments(
    deps.tuning?.on("list-documents") === false ? 0 : DEFAULT_LIST_DOCUMENT_BYTES,
  );
  /** Requests between arrival and their `onRequest` call (metrics read it when scraped). */
  let inFlight = 0;
  const serve = async (
    req: Request,
    client: Client,
    as: Principal | null,
    limitAddress = false,
  ): Promise<Response> => {
    const requestId = newRequestId();
    const started = performance.now();
    let ep: Endpoint | null = null;
    let target: RequestTarget | null = null;
    let bucketCache: Promise<BucketRecord> | null = null;
    let bucketRecord: BucketRecord | null = null;
    let authMethod: AuthResult["method"] | null = null;
    let path = "/";
    let principal = null;
    let bytesIn: number | null = null;
    let body: ReadableStream<Uint8Array> | null = null;
    let authenticating = false;
    let errorCode: string | null = null;
    let authFailed = false;
    let website: WebsiteAnswer | null = null;
    let response: Answer;
    inFlight++;
    const runOp = async (t: RequestTarget, ep: Endpoint): Promise<Answer> => {
      validateEndpointNames(ep);
      deps.gate?.admitRequest(ep, as && !limitAddress ? null : client);
      authenticating = true;
      const auth = as ? authenticatedAs(req, as) : await authenticate(req, t, {
        credentials: deps.credentials,
        now: () => deps.clock.now(),
        signingKeys,
      });
      authenticating = false;
      authMethod = auth.method;
      principal = auth.principal;
      body = auth.body;
      if (!as && auth.accessKeyId !== null) deps.gate?.admitKey(auth.accessKeyId);
      bytesIn = auth.contentLength;
      refuseOversizedDocument(ep, auth.contentLength);
      const ns = principal ? namespaceOf(principal) : "";
      const callerNs = principal ? ns : null;
      const ctx: OpContext = {
        req,
        client,
        ep,
        target: t,
        auth,
        principal,
        ns,
        deps,
        requestId,
        bucket: () => {
          if (ep.bucket === null) throw new S3Error("NoSuchBucket");
          bucketCache ??= ctx.bucketNamed(ep.bucket).then((b) => bucketRecord = b);
          return bucketCache;
        },
        bucketNamed: (name) =>
          resolveBucket(deps.storage, deps.namespaces, callerNs, validateBucketRef(name)),
        listDocuments,
      };
      if (ep.op !== "PostObject") {
        const needsBucket = ep.bucket !== null && ep.op !== "CreateBucket";
        const bucket = needsBucket ? await ctx.bucket() : null;
        await deps.authorizer.authorize(ctx, bucket);
      }
      return writeResult(await hideMissingKeys(ctx, dispatch), requestId, req.method);
    };
    try {
      target = splitTarget(req);
      path = target.path;
      // One comparison on the S3 path: the Host is under the website domain or it is not. The
      // console's requests (`as`) are S3 requests whatever host they name.
      const site = as || websiteDomain === null ? null : websiteSiteOf(target.host, websiteDomain);
      if (site !== null) {
        const answer = await answerWebsite(deps, { req, client, target, site, requestId });
        website = answer;
        errorCode = answer.errorCode;
        response = writeResult(answer.result, requestId, req.method);
      } else {
        ep = parseEndpoint(req, endpointOpts, target);
        // A preflight carries no credentials: its bucket's CORS rules answer it, unauthenticated.
        response = ep.op === "Options"
          ? writeResult(await corsOps.preflight(deps, req, target, ep), requestId, req.method)
          : await runOp(target, ep);
      }
    } catch (e) {
      let err: S3Error;
      if (isS3Error(e)) err = e;
      else {
        deps.log.error("request failed", {
          requestId,
          op: ep?.op,
          error: String((e as Error)?.stack ?? e),
        });
        err = new S3Error("InternalError");
      }
      errorCode = err.code;
      // Only authentication checks signatures: one that fails in the body is its failure too.
      authFailed = authenticating || err.code === "SignatureDoesNotMatch";
      discardUnreadBody(req, body);
      response = errorAnswer(err, {
        method: req.method,
        resource: resourceOf(ep, path),
        requestId,
      });
    }
    inFlight--;
    // Website requests are logged as AWS logs them (WEBSITE.GET.OBJECT): their own operations.
    const served = website;
    deps.onRequest?.({
      op: served
        ? (req.method === "HEAD" ? "WebsiteHeadObject" : "WebsiteGetObject")
        : ep?.op ?? "Unknown",
      status: response.status,
      durationMs: performance.now() - started,
      bucket: served ? served.bucket : ep?.bucket ?? null,
      key: served ? served.key : ep?.key ?? null,
      principal,
      requestId,
      bytesIn,
      bytesOut: contentLengthOf(response.headers),
      errorCode,
      authFailed,
      req,
      client,
      bucketRecord,
      authMethod,
      responseHeaders: response.headers,
    });
    closeUnansweredExpect(req, response);
    if (!as && ep && target && req.headers.has("origin")) {
      await addCors(deps, req, response, ep, target, {
        bucket: bucketCache,
        authenticated: principal !== null,
      });
    }
    return responseOf(response);
  };
  return {
    handle: (req, client) => serve(req, client, null),
    handleAs: (req, principal, client, opts) =>
      serve(req, client, principal, opts?.limitAddress ?? false),
    inFlight: () => inFlight,
  };
}

/** A response's Content-Length, when it declares one. */
function contentLengthOf(headers: Headers): number | null {
  const v = headers.get("content-length");
  return v === null ? null : Number(v);
}

/** Operations whose body is object data; every other operation reads its body whole. */
const DATA_OPS: ReadonlySet<Endpoint["op"]> = new Set(["PutObject", "UploadPart", "PostObject"]);

/**
 * A document body (configuration, DeleteObjects, Complete...) declared longer than any document
 * is refused before it is read, as PutObject refuses a declared size over its limit: otherwise the
 * request would wait for bytes that will be refused anyway.
 */
function refuseOversizedDocument(ep: Endpoint, contentLength: number | null): void {
  if (contentLength !== null && contentLength > MAX_DOCUMENT_BYTES && !DATA_OPS.has(ep.op)) {
    throw new S3Error("MaxMessageLengthExceeded");
  }
}

/**
 * An error answered before the body was read: the body is cancelled. The verified stream that
 * authentication made of the body is piping the request's own stream, so it is the one to cancel:
 * left alone, that pipe kept the connection open even after the peer hung up (CLOSE-WAIT). A
 * stream an operation is still reading (locked) is left to it.
 */
function discardUnreadBody(req: Request, verified: ReadableStream<Uint8Array> | null): void {
  const stream = verified ?? req.body;
  if (stream && !stream.locked) stream.cancel().catch(() => {});
}

/**
 * A request with `Expect: 100-continue` may get its final status without a 100 Continue: the
 * server sends that only when a body is read, never for an empty one, nor when an error answers
 * first. botocore then keeps the early status for the next request on the same connection and
 * hangs until its read timeout; asking the client to close the connection resets it.
 */
function closeUnansweredExpect(req: Request, res: Answer): void {
  if ((req.headers.get("expect") ?? "").toLowerCase() !== "100-continue") return;
  if (req.headers.get("content-length") === "0" || res.status >= 300) {
    res.headers.set("connection", "close");
  }
}
