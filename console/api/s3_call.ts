/**
 * S3 requests the console runs in-process as the session user (`S3Front.handleAs`): the
 * passthrough, the bucket routes and the bucket list's public flags.
 */
import { createHash } from "node:crypto";
import { principalOf } from "../../server/iam/access_keys.ts";
import type { Principal } from "../../server/iam/types.ts";
import { IamError } from "../../server/iam/errors.ts";
import { scopeTenant } from "./access.ts";
import { type Authed, markAudited } from "./http.ts";

/** An S3 request the console runs in-process as the session user. */
export interface S3Call {
  method: string;
  /** Path style, percent-encoded: `/<bucket>[/<key>]`. */
  path: string;
  /** Decoded query parameters in order (an empty value is written as a bare name). */
  query: [string, string][];
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  /** A tenant's namespace for a global administrator (already checked), else null. */
  tenantId: string | null;
}

/** Runs an S3 request in-process as the session user (the passthrough and the bucket routes). */
export function runS3(ctx: Authed, call: S3Call): Promise<Response> {
  // Encoded again as S3 reads a query (RFC 3986; a browser's `+` was a space).
  const qs = call.query.map(([k, v]) => v === "" ? rfc3986(k) : `${rfc3986(k)}=${rfc3986(v)}`)
    .join("&");
  const hasBody = call.body !== null && !["GET", "HEAD"].includes(call.method);
  const req = new Request(`http://127.0.0.1${call.path}${qs ? "?" + qs : ""}`, {
    method: call.method,
    headers: call.headers,
    body: hasBody ? call.body : undefined,
    // @ts-ignore: Deno's RequestInit accepts duplex for streaming bodies
    duplex: hasBody ? "half" : undefined,
  });
  return ctx.deps.s3HandleAs(req, sessionPrincipal(ctx, call.tenantId), ctx.client);
}

/**
 * The S3 principal of the session's user, as its access keys would have; with `tenantId` (a
 * global administrator, checked by bucket_routes.ts `passthroughScope`) it acts in that tenant's namespace.
 */
export function sessionPrincipal(ctx: Authed, tenantId: string | null): Principal {
  const u = ctx.user;
  const principal = principalOf({
    id: u.id,
    username: u.username,
    tenant_id: u.tenantId,
    role: u.role,
  });
  return tenantId === null ? principal : { ...principal, tenantId };
}

/** The `tenantId` of an S3 call in namespace `ns` (already checked): null for the caller's own. */
export function nsParam(ctx: Authed, ns: string): string | null {
  return ns === (ctx.user.tenantId ?? "") ? null : ns;
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/**
 * Runs a bucket subresource request (`?encryption`, `?inventory&id=...`) on the route's bucket
 * (`:bucket`, in `?tenantId=` for global administrators) as the session user; `xml` is the
 * document of a PUT (sent with its Content-MD5).
 */
export function bucketSubresourceCall(
  ctx: Authed,
  method: string,
  query: [string, string][],
  xml: string | null = null,
): Promise<Response> {
  const bucket = ctx.params.bucket;
  if (bucket === "" || bucket.includes("/")) {
    throw new IamError("InvalidRequest", "invalid bucket name", { s3Code: "InvalidBucketName" });
  }
  const ns = scopeTenant(ctx, ctx.url.searchParams.get("tenantId") ?? undefined) ?? "";
  const headers = new Headers();
  if (ctx.userAgent) headers.set("user-agent", ctx.userAgent);
  let stream: ReadableStream<Uint8Array> | null = null;
  if (xml !== null) {
    const bytes = new TextEncoder().encode(xml);
    headers.set("content-type", "application/xml");
    headers.set("content-md5", createHash("md5").update(bytes).digest("base64"));
    stream = new Blob([bytes]).stream();
  }
  return runS3(ctx, {
    method,
    path: `/${encodeURIComponent(bucket)}`,
    query,
    headers,
    body: stream,
    tenantId: nsParam(ctx, ns),
  });
}

/**
 * The S3 error answer of a console call as the API's error (`extra.s3Code`: the S3 code); the
 * S3 handler has audited the request, failure included.
 */
export async function s3Failure(res: Response): Promise<IamError> {
  const text = await res.text();
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? "InternalError";
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? code;
  const api = code === "NoSuchBucket" || res.status === 404
    ? "NotFound"
    : code === "AccessDenied"
    ? "Forbidden"
    : res.status === 400
    ? "InvalidRequest"
    : "InternalError";
  return markAudited(new IamError(api, message, { s3Code: code }));
}
