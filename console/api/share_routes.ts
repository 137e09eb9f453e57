/**
 * Share links and presigned URLs (docs/api.md "Share links"). A link is created only by a user who
 * can read the object now (a HEAD as the session user decides, with S3's own authorization), and
 * opens `/_share/<token>` on the S3 listener; the token is answered once, at creation. Users see
 * and revoke their own links, tenant administrators their tenant's, global administrators all.
 * A presigned URL is signed here with one of the session user's own access keys: the secret never
 * leaves the server.
 */
import { IamError } from "../../server/iam/errors.ts";
import { getAccessKey } from "../../server/iam/access_keys.ts";
import { expiryProblem, type ShareLink } from "../../server/features/shares/store.ts";
import { SHARE_PREFIX } from "../../server/features/shares/serve.ts";
import { MAX_PRESIGN_SECONDS, presignUrl } from "../../server/s3/auth/presign_url.ts";
import { isGlobalAdmin, scopeTenant } from "./access.ts";
import { audit } from "./admin_routes.ts";
import { type Authed, json, noContent, readJson, type Route, route } from "./http.ts";
import { nsParam, runS3 } from "./s3_call.ts";

/** The API's view of a link (never its token). */
function linkView(ctx: Authed, l: ShareLink) {
  return {
    id: l.id,
    bucket: l.bucket,
    tenantId: l.ns || null,
    key: l.key,
    versionId: l.versionId,
    createdBy: l.createdBy,
    createdByName: l.createdByName,
    createdAt: l.createdAt,
    expiresAt: l.expiresAt,
    revokedAt: l.revokedAt,
    status: ctx.deps.shares.status(l),
    accessCount: l.accessCount,
    lastAccessAt: l.lastAccessAt,
  };
}

/** Whether the session user may see (and revoke) a link. */
function mayManage(ctx: Authed, l: ShareLink): boolean {
  if (l.createdBy === ctx.user.id || isGlobalAdmin(ctx.user)) return true;
  return ctx.user.role === "tenant_admin" && l.ns === (ctx.user.tenantId ?? "\0");
}

function stringField(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== "string" || v === "") {
    throw new IamError("InvalidRequest", `${name} is required`);
  }
  return v;
}

function optionalString(body: Record<string, unknown>, name: string): string | null {
  const v = body[name];
  if (v === undefined || v === null || v === "") return null;
  if (typeof v !== "string") throw new IamError("InvalidRequest", `${name} must be a string`);
  return v;
}

/** `/bucket/key` as S3 reads a path (the key's segments percent-encoded, slashes kept). */
function objectPath(bucket: string, key: string): string {
  if (bucket === "" || bucket.includes("/")) {
    throw new IamError("InvalidRequest", "invalid bucket name", { s3Code: "InvalidBucketName" });
  }
  return `/${encodeURIComponent(bucket)}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

/** A HEAD of the object as the session user: refused unless they may read it now. */
async function requireReadable(
  ctx: Authed,
  ns: string,
  bucket: string,
  key: string,
  versionId: string | null,
): Promise<void> {
  const res = await runS3(ctx, {
    method: "HEAD",
    path: objectPath(bucket, key),
    query: versionId ? [["versionId", versionId]] : [],
    headers: new Headers(),
    body: null,
    tenantId: nsParam(ctx, ns),
  });
  if (res.ok) return;
  if (res.status === 403) throw new IamError("Forbidden", "you may not read this object");
  if (res.status === 404) throw new IamError("NotFound", "no such object or version");
  throw new IamError("InvalidRequest", `the object cannot be shared (status ${res.status})`);
}

function listFilterAll(ctx: Authed): boolean {
  const v = ctx.url.searchParams.get("all");
  return v === "1" || v === "true";
}

/** The links the session user may see, of one bucket or all. */
function visibleLinks(ctx: Authed, f: { ns?: string; bucket?: string }) {
  const all = listFilterAll(ctx);
  const shares = ctx.deps.shares;
  let links: ShareLink[];
  if (isGlobalAdmin(ctx.user)) links = shares.list({ ...f, all });
  else if (ctx.user.role === "tenant_admin") {
    const own = ctx.user.tenantId ?? "";
    if (f.ns !== undefined && f.ns !== own) return [];
    links = shares.list({ ...f, ns: own, all });
  } else links = shares.list({ ...f, createdBy: ctx.user.id, all });
  return links.map((l) => linkView(ctx, l));
}

export const shareRoutes: Route[] = [
  route("POST", "/buckets/:bucket/shares", async (ctx) => {
    const body = await readJson(ctx.req);
    const ns = scopeTenant(ctx, body.tenantId) ?? "";
    const key = stringField(body, "key");
    const versionId = optionalString(body, "versionId");
    const seconds = body.expiresInSeconds;
    const problem = expiryProblem(typeof seconds === "number" ? seconds * 1000 : seconds);
    if (problem) throw new IamError("InvalidRequest", problem);
    const bucketName = ctx.params.bucket;
    await requireReadable(ctx, ns, bucketName, key, versionId);
    const bucket = await ctx.deps.storage.getBucket(ns, bucketName);
    const { link, token } = ctx.deps.shares.create({
      ns,
      bucket: bucketName,
      bucketId: bucket.id,
      key,
      versionId,
      createdBy: ctx.user.id,
      createdByName: ctx.user.username,
      expiresInMs: (seconds as number) * 1000,
    });
    audit(ctx, {
      action: "share.create",
      resource: `bucket/${bucketName}/${key}`,
      tenantId: ns || null,
      detail: `share ${link.id}${versionId ? `, version ${versionId}` : ""}, expires ${
        new Date(link.expiresAt).toISOString()
      }`,
    });
    const url = `${ctx.deps.s3PublicUrl(ctx.req)}${SHARE_PREFIX}${token}`;
    return json({ share: linkView(ctx, link), url }, 201);
  }, { audit: "share.create" }),
  route("GET", "/buckets/:bucket/shares", (ctx) => {
    const ns = scopeTenant(ctx, ctx.url.searchParams.get("tenantId") ?? undefined) ?? "";
    return json({ items: visibleLinks(ctx, { ns, bucket: ctx.params.bucket }) });
  }),
  route("GET", "/shares", (ctx) => json({ items: visibleLinks(ctx, {}) })),
  route("DELETE", "/shares/:id", (ctx) => {
    const link = ctx.deps.shares.get(ctx.params.id);
    if (!link || !mayManage(ctx, link)) throw new IamError("NotFound", "no such share link");
    ctx.deps.shares.revoke(link.id, ctx.user.id);
    audit(ctx, {
      action: "share.revoke",
      resource: `bucket/${link.bucket}/${link.key}`,
      tenantId: link.ns || null,
      detail: `share ${link.id}`,
    });
    return noContent();
  }, { audit: "share.revoke" }),
  route("POST", "/buckets/:bucket/presign", async (ctx) => {
    const body = await readJson(ctx.req);
    const key = stringField(body, "key");
    const versionId = optionalString(body, "versionId");
    const method = stringField(body, "method").toUpperCase();
    if (method !== "GET" && method !== "PUT") {
      throw new IamError("InvalidRequest", "method must be GET or PUT");
    }
    const seconds = body.expiresInSeconds;
    if (
      typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 1 ||
      seconds > MAX_PRESIGN_SECONDS
    ) {
      throw new IamError(
        "InvalidRequest",
        `expiresInSeconds must be a whole number from 1 to ${MAX_PRESIGN_SECONDS} (7 days)`,
      );
    }
    const accessKeyId = stringField(body, "accessKeyId");
    const k = getAccessKey(ctx.deps.iam.core, accessKeyId);
    // Only one's own keys: signing with another user's key would act as them.
    if (!k || k.userId !== ctx.user.id) throw new IamError("NotFound", "no such access key");
    if (k.status !== "active") throw new IamError("InvalidRequest", "the access key is inactive");
    const cred = await ctx.deps.iam.credentials.lookup(accessKeyId);
    if (!cred) throw new IamError("InvalidRequest", "the access key cannot sign now");
    objectPath(ctx.params.bucket, key);
    const url = presignUrl({
      method,
      endpoint: ctx.deps.s3PublicUrl(ctx.req),
      bucket: ctx.params.bucket,
      key,
      query: versionId && method === "GET" ? [["versionId", versionId]] : [],
      accessKeyId,
      secretAccessKey: cred.secretAccessKey,
      region: ctx.deps.region,
      expiresSeconds: seconds,
      now: ctx.deps.iam.core.clock.now(),
    });
    audit(ctx, {
      action: "object.presign",
      resource: `bucket/${ctx.params.bucket}/${key}`,
      detail: `${method}, ${seconds} s, key ${accessKeyId}`,
    });
    return json({
      url,
      method,
      expiresAt: ctx.deps.iam.core.clock.now() + seconds * 1000,
    });
  }, { audit: "object.presign" }),
];
