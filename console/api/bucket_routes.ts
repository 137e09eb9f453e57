/**
 * Buckets for the console, and the S3 passthrough: `/api/v1/s3/<bucket>/<key>?<query>` is handed
 * to the in-process S3 handler as the session user's principal (`S3Front.handleAs`), so the
 * console gets every S3 operation with the same authorization, quotas and audit as any S3 client,
 * with no credential to mint and no signature to compute. Global administrators add
 * `?tenantId=<id>` to work in a tenant's bucket namespace.
 */
import { IamError } from "../../server/iam/errors.ts";
import { grantedAccess } from "../../server/iam/grants.ts";
import { groupIdsOf } from "../../server/iam/groups.ts";
import { isAdmin, isGlobalAdmin, scopeTenant } from "./access.ts";
import { getTenant } from "../../server/iam/tenants.ts";
import { type Authed, json, markAudited, noContent, readJson, type Route, route } from "./http.ts";
import { publicFlags } from "./bucket_public.ts";
import { nsParam, runS3 } from "./s3_call.ts";

/**
 * Request headers that pass through to S3 (everything else is the API's business: the session
 * cookie or bearer token, and the signing headers S3 would try to verify).
 */
const PASS_HEADERS =
  /^(content-type|content-length|content-md5|content-encoding|content-disposition|content-language|cache-control|expires|range|if-match|if-none-match|if-modified-since|if-unmodified-since|user-agent|x-amz-(?!date$|content-sha256$|security-token$).*)$/;

/** The `/s3/*` routes: the API path and query, less `tenantId`, are S3's. */
function passthrough(ctx: Authed): Promise<Response> {
  const raw = ctx.req.url;
  const start = raw.indexOf("/api/v1/s3");
  const rest = raw.slice(start + "/api/v1/s3".length) || "/";
  const q = rest.indexOf("?");
  const query: [string, string][] = [];
  let tenantId: string | null = null;
  for (const [k, v] of new URLSearchParams(q < 0 ? "" : rest.slice(q + 1))) {
    // `tenantId` names the bucket namespace (not an S3 parameter): see `passthroughScope`.
    if (k === "tenantId") tenantId = v;
    else query.push([k, v]);
  }
  const headers = new Headers();
  for (const [k, v] of ctx.req.headers) if (PASS_HEADERS.test(k)) headers.set(k, v);
  return runS3(ctx, {
    method: ctx.req.method,
    path: q < 0 ? rest : rest.slice(0, q),
    query,
    headers,
    body: ctx.req.body,
    tenantId: passthroughScope(ctx, tenantId),
  });
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
    const publics = await publicFlags(ctx, ns, items.map((b) => b.name));
    return json({ items: items.map((b, i) => ({ ...b, public: publics[i] })) });
  }),
  route("POST", "/buckets", async (ctx) => {
    const body = await readJson(ctx.req);
    if (typeof body.name !== "string") throw new IamError("InvalidRequest", "name is required");
    const ns = nsOf(ctx, body.tenantId);
    const headers: Record<string, string> = {};
    if (body.objectLock === true) headers["x-amz-bucket-object-lock-enabled"] = "true";
    // S3 answers 200 to re-creating one's own bucket in us-east-1 (AWS's legacy behaviour);
    // creating a bucket here means a new one, so an existing name is a conflict.
    if (await ctx.deps.storage.getBucket(ns, body.name).then(() => true, () => false)) {
      throw new IamError("Conflict", `Bucket ${body.name} already exists`, {
        s3Code: "BucketAlreadyOwnedByYou",
      });
    }
    await s3Call(ctx, "PUT", { bucket: body.name, ns, headers });
    if (body.versioning === true && body.objectLock !== true) {
      // As an S3 PutBucketVersioning, so that it is authorized and audited as one.
      await s3Call(ctx, "PUT", {
        bucket: body.name,
        ns,
        headers: { "content-type": "application/xml" },
        query: [["versioning", ""]],
        body: VERSIONING_ENABLED,
      });
    }
    return json({ name: body.name, tenantId: ns || null }, 201);
  }, { audit: "bucket.create" }),
  route("DELETE", "/buckets/:bucket", async (ctx) => {
    const ns = nsOf(ctx, ctx.url.searchParams.get("tenantId") ?? undefined);
    await s3Call(ctx, "DELETE", { bucket: ctx.params.bucket, ns, headers: {} });
    return noContent();
  }, { audit: "bucket.delete" }),
  route("GET", "/s3/*rest", passthrough),
  route("HEAD", "/s3/*rest", passthrough),
  route("PUT", "/s3/*rest", passthrough),
  route("POST", "/s3/*rest", passthrough),
  route("DELETE", "/s3/*rest", passthrough),
];

/**
 * Runs a bucket-level S3 request as the session user in namespace `ns` (a global administrator's
 * `tenantId`, already checked by `scopeTenant`) and maps S3 errors to API errors.
 */
const VERSIONING_ENABLED =
  '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>';

async function s3Call(
  ctx: Authed,
  method: string,
  opts: {
    bucket: string;
    ns: string;
    headers: Record<string, string>;
    query?: [string, string][];
    body?: string;
  },
): Promise<void> {
  // The path is decoded before it is split: a `/` would name a bucket and a key.
  if (opts.bucket === "" || opts.bucket.includes("/")) {
    throw new IamError("InvalidRequest", "invalid bucket name", { s3Code: "InvalidBucketName" });
  }
  const headers = new Headers(opts.headers);
  if (ctx.userAgent) headers.set("user-agent", ctx.userAgent);
  const res = await runS3(ctx, {
    method,
    path: `/${encodeURIComponent(opts.bucket)}`,
    query: opts.query ?? [],
    headers,
    body: opts.body === undefined ? null : new Blob([opts.body]).stream(),
    tenantId: nsParam(ctx, opts.ns),
  });
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
