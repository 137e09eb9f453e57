/**
 * S3 requests the console runs in-process as the session user (`S3Front.handleAs`): the
 * passthrough, the bucket routes and the bucket list's public flags.
 */
import { principalOf } from "../../server/iam/access_keys.ts";
import type { Principal } from "../../server/iam/types.ts";
import type { Authed } from "./http.ts";

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
function sessionPrincipal(ctx: Authed, tenantId: string | null): Principal {
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
