/**
 * Buckets for the console, and the S3 passthrough: `/api/v1/s3/<bucket>/<key>?<query>` is handed
 * to the in-process S3 handler as the session user's principal (`S3Front.handleAs`), so the
 * console gets every S3 operation with the same authorization, quotas and audit as any S3 client,
 * with no credential to mint and no signature to compute. Global administrators add
 * `?tenantId=<id>` to work in a tenant's bucket namespace.
 */
import { IamError } from "../../server/iam/errors.ts";
import { isS3Error } from "../../server/s3/errors.ts";
import { principalOf } from "../../server/iam/access_keys.ts";
import type { Principal } from "../../server/iam/types.ts";
import { dropBucketGrants, grantedAccess } from "../../server/iam/grants.ts";
import { groupIdsOf } from "../../server/iam/groups.ts";
import { isAdmin, isGlobalAdmin, scopeTenant } from "./access.ts";
import { getTenant } from "../../server/iam/tenants.ts";
import { audit } from "./admin_routes.ts";
import { type Authed, json, markAudited, noContent, readJson, type Route, route } from "./http.ts";

/**
 * Request headers that pass through to S3 (everything else is the API's business: the session
 * cookie or bearer token, and the signing headers S3 would try to verify).
 */
const PASS_HEADERS =
  /^(content-type|content-length|content-md5|content-encoding|content-disposition|content-language|cache-control|expires|range|if-match|if-none-match|if-modified-since|if-unmodified-since|user-agent|x-amz-(?!date$|content-sha256$|security-token$).*)$/;

async function passthrough(ctx: Authed): Promise<Response> {
  const raw = ctx.req.url;
  const start = raw.indexOf("/api/v1/s3");
  const rest = raw.slice(start + "/api/v1/s3".length) || "/";
  const q = rest.indexOf("?");
  const path = q < 0 ? rest : rest.slice(0, q);
  const rawQuery = q < 0 ? "" : rest.slice(q + 1);
  const params: string[] = [];
  let tenantId: string | null = null;
  // Decoded and encoded again as S3 reads a query (RFC 3986; a browser's `+` is a space).
  for (const [k, v] of new URLSearchParams(rawQuery)) {
    // `tenantId` names the bucket namespace (not an S3 parameter): see `passthroughScope`.
    if (k === "tenantId") tenantId = v;
    else params.push(v === "" ? rfc3986(k) : `${rfc3986(k)}=${rfc3986(v)}`);
  }
  const principal = sessionPrincipal(ctx, passthroughScope(ctx, tenantId));
  const headers = new Headers();
  for (const [k, v] of ctx.req.headers) if (PASS_HEADERS.test(k)) headers.set(k, v);
  const hasBody = ctx.req.body !== null && !["GET", "HEAD"].includes(ctx.req.method);
  const qs = params.join("&");
  const s3Req = new Request(`http://127.0.0.1${path}${qs ? "?" + qs : ""}`, {
    method: ctx.req.method,
    headers,
    body: hasBody ? ctx.req.body : undefined,
    // @ts-ignore: Deno's RequestInit accepts duplex for streaming bodies
    duplex: hasBody ? "half" : undefined,
  });
  return await ctx.deps.s3HandleAs(s3Req, principal, ctx.client);
}

/**
 * The S3 principal of the session's user, as its access keys would have; with `tenantId` (a
 * global administrator, checked by `passthroughScope`) it acts in that tenant's namespace.
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

/**
 * The namespace a passthrough request addresses: `?tenantId=` lets a global administrator reach
 * a tenant's buckets. Anyone else may only name their own tenant (a no-op); naming another one
 * is refused before any S3 request is made, so it cannot reveal whether a bucket exists.
 */
function passthroughScope(ctx: Authed, tenantId: string | null): string | null {
  if (tenantId === null || tenantId === "" || tenantId === ctx.user.tenantId) return null;
  if (!isGlobalAdmin(ctx.user)) {
    throw new IamError("Forbidden", "tenantId is only for global administrators");
  }
  if (!getTenant(ctx.deps.iam.core, tenantId)) throw new IamError("NotFound", "no such tenant");
  return tenantId;
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

function nsOf(ctx: Authed, requested: unknown): string {
  return scopeTenant(ctx, requested) ?? "";
}

export const bucketRoutes: Route[] = [
  route("GET", "/buckets", async (ctx) => {
    const ns = nsOf(ctx, ctx.url.searchParams.get("tenantId") ?? undefined);
    const core = ctx.deps.iam.core;
    const groupIds = groupIdsOf(core, ctx.user.id);
    const all = await ctx.deps.storage.listBuckets(ns);
    const visible = all.filter((b) =>
      isAdmin(ctx.user) || b.ownerId === ctx.user.id ||
      grantedAccess(core, b.id, { id: ctx.user.id, tenantId: ctx.user.tenantId, groupIds }) !== null
    );
    const items = await Promise.all(visible.map(async (b) => {
      const s = await ctx.deps.storage.bucketStats(b.id);
      return {
        name: b.name,
        tenantId: b.ns || null,
        ownerId: b.ownerId,
        createdAt: b.created,
        region: b.region,
        versioning: b.versioning,
        objectLock: b.objectLock,
        objects: s.objects,
        bytes: s.bytes,
      };
    }));
    return json({ items });
  }),
  route("POST", "/buckets", async (ctx) => {
    const body = await readJson(ctx.req);
    if (typeof body.name !== "string") throw new IamError("InvalidRequest", "name is required");
    const ns = nsOf(ctx, body.tenantId);
    if (ns !== (ctx.user.tenantId ?? "")) {
      // A global admin creating in a tenant's namespace: storage directly, audited here.
      try {
        await ctx.deps.storage.createBucket({
          ns,
          name: body.name,
          ownerId: ctx.user.id,
          region: ctx.deps.region,
          objectLock: body.objectLock === true,
        });
      } catch (e) {
        throw s3ToApi(e);
      }
      audit(ctx, { action: "bucket.create", resource: `bucket/${body.name}`, tenantId: ns });
    } else {
      const headers: Record<string, string> = {};
      if (body.objectLock === true) headers["x-amz-bucket-object-lock-enabled"] = "true";
      await s3Call(ctx, "PUT", `/${body.name}`, headers);
    }
    if (body.versioning === true && body.objectLock !== true) {
      const b = await ctx.deps.storage.getBucket(ns, body.name);
      await ctx.deps.storage.updateBucket(b, (x) => ({ ...x, versioning: "Enabled" }));
    }
    return json({ name: body.name, tenantId: ns || null }, 201);
  }, { audit: "bucket.create" }),
  route("DELETE", "/buckets/:bucket", async (ctx) => {
    const ns = nsOf(ctx, ctx.url.searchParams.get("tenantId") ?? undefined);
    if (ns !== (ctx.user.tenantId ?? "")) {
      try {
        await ctx.deps.storage.deleteBucket(ns, ctx.params.bucket);
      } catch (e) {
        throw s3ToApi(e);
      }
      dropBucketGrants(ctx.deps.iam.core, ns, ctx.params.bucket);
      audit(ctx, {
        action: "bucket.delete",
        resource: `bucket/${ctx.params.bucket}`,
        tenantId: ns,
      });
    } else {
      await s3Call(ctx, "DELETE", `/${encodeURIComponent(ctx.params.bucket)}`, {});
    }
    return noContent();
  }, { audit: "bucket.delete" }),
  route("GET", "/s3/*rest", passthrough),
  route("HEAD", "/s3/*rest", passthrough),
  route("PUT", "/s3/*rest", passthrough),
  route("POST", "/s3/*rest", passthrough),
  route("DELETE", "/s3/*rest", passthrough),
];

/** Runs an S3 request as the session user and maps S3 errors to API errors. */
async function s3Call(ctx: Authed, method: string, path: string, headers: Record<string, string>) {
  const url = new URL(ctx.req.url);
  const req = new Request(`${url.origin}/api/v1/s3${path}`, { method, headers });
  const res = await passthrough({ ...ctx, req });
  if (res.ok) {
    await res.body?.cancel();
    return;
  }
  const text = await res.text();
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? "InternalError";
  // The S3 handler has audited this bucket create/delete, failure included.
  throw markAudited(s3CodeToApi(code, /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? code));
}

function s3CodeToApi(code: string, message: string): IamError {
  switch (code) {
    case "NoSuchBucket":
      return new IamError("NotFound", message, { s3Code: code });
    case "AccessDenied":
      return new IamError("Forbidden", message, { s3Code: code });
    case "BucketAlreadyExists":
    case "BucketAlreadyOwnedByYou":
    case "BucketNotEmpty":
    case "OperationAborted":
      return new IamError("Conflict", message, { s3Code: code });
    case "TooManyBuckets":
    case "QuotaExceeded":
      return new IamError("QuotaExceeded", message, { s3Code: code });
    case "InvalidBucketName":
    case "InvalidArgument":
      return new IamError("InvalidRequest", message, { s3Code: code });
    default:
      return new IamError("InternalError", message, { s3Code: code });
  }
}

function s3ToApi(e: unknown): unknown {
  return isS3Error(e) ? s3CodeToApi(e.code, e.message) : e;
}
