/** Groups, bucket permissions (grants), policies and the policy simulator. */
import { IamError } from "../../server/iam/errors.ts";
import {
  addMember,
  createGroup,
  deleteGroup,
  getGroup,
  listGroups,
  removeMember,
  updateGroup,
} from "../../server/iam/groups.ts";
import { createGrant, deleteGrant, getGrant, listGrants } from "../../server/iam/grants.ts";
import {
  attachPolicy,
  createPolicy,
  deletePolicy,
  detachPolicy,
  getPolicy,
  listPolicies,
  updatePolicy,
} from "../../server/iam/policy_store.ts";
import { isS3Error } from "../../server/s3/errors.ts";
import type { SimulationInput } from "../../server/iam/simulate.ts";
import type { BucketRecord } from "../../server/storage/types.ts";
import { inReach, isAdmin, isGlobalAdmin, requireAdmin, scopeTenant } from "./access.ts";
import { audit } from "./admin_routes.ts";
import { type Authed, json, noContent, readJson, type Route, route } from "./http.ts";

function groupInReach(ctx: Authed) {
  requireAdmin(ctx);
  const g = getGroup(ctx.deps.iam.core, ctx.params.id);
  if (!g || !inReach(ctx.user, g.tenantId)) throw new IamError("NotFound", "no such group");
  return g;
}

function policyInReach(ctx: Authed) {
  requireAdmin(ctx);
  const p = getPolicy(ctx.deps.iam.core, ctx.params.id);
  if (!p || !inReach(ctx.user, p.tenantId)) throw new IamError("NotFound", "no such policy");
  return p;
}

/** Lists for admins: global admins see all (or `?tenantId=`), tenant admins their tenant. */
function listScope(ctx: Authed): string | null | undefined {
  requireAdmin(ctx);
  if (!isGlobalAdmin(ctx.user)) return ctx.user.tenantId;
  const t = ctx.url.searchParams.get("tenantId");
  return t ? scopeTenant(ctx, t) : undefined;
}

const groupRoutes: Route[] = [
  route("GET", "/groups", (ctx) => json({ items: listGroups(ctx.deps.iam.core, listScope(ctx)) })),
  route("POST", "/groups", async (ctx) => {
    requireAdmin(ctx);
    const body = await readJson(ctx.req);
    const tenantId = scopeTenant(ctx, body.tenantId);
    const g = createGroup(ctx.deps.iam.core, { ...body, name: body.name, tenantId });
    audit(ctx, { action: "group.create", resource: `group/${g.name}`, tenantId });
    return json(g, 201);
  }, { audit: "group.create" }),
  route("GET", "/groups/:id", (ctx) => json(groupInReach(ctx))),
  route("PATCH", "/groups/:id", async (ctx) => {
    const g0 = groupInReach(ctx);
    const g = updateGroup(ctx.deps.iam.core, g0.id, await readJson(ctx.req));
    audit(ctx, { action: "group.update", resource: `group/${g.name}`, tenantId: g.tenantId });
    return json(g);
  }, { audit: "group.update" }),
  route("DELETE", "/groups/:id", (ctx) => {
    const g = groupInReach(ctx);
    deleteGroup(ctx.deps.iam.core, g.id);
    audit(ctx, { action: "group.delete", resource: `group/${g.name}`, tenantId: g.tenantId });
    return noContent();
  }, { audit: "group.delete" }),
  route("PUT", "/groups/:id/members/:userId", (ctx) => {
    const g = groupInReach(ctx);
    addMember(ctx.deps.iam.core, g.id, ctx.params.userId);
    audit(ctx, {
      action: "group.member_add",
      resource: `group/${g.name}`,
      tenantId: g.tenantId,
      detail: ctx.params.userId,
    });
    return noContent();
  }, { audit: "group.member_add" }),
  route("DELETE", "/groups/:id/members/:userId", (ctx) => {
    const g = groupInReach(ctx);
    removeMember(ctx.deps.iam.core, g.id, ctx.params.userId);
    audit(ctx, {
      action: "group.member_remove",
      resource: `group/${g.name}`,
      tenantId: g.tenantId,
      detail: ctx.params.userId,
    });
    return noContent();
  }, { audit: "group.member_remove" }),
];

/** The bucket in the caller's namespace (global admins: `?tenantId=`), owner or admin only. */
async function bucketInReach(ctx: Authed): Promise<{ ns: string; bucket: BucketRecord }> {
  const ns = scopeTenant(ctx, ctx.url.searchParams.get("tenantId") ?? undefined) ?? "";
  let bucket: BucketRecord;
  try {
    bucket = await ctx.deps.storage.getBucket(ns, ctx.params.bucket);
  } catch (e) {
    if (isS3Error(e)) throw new IamError("NotFound", "no such bucket");
    throw e;
  }
  if (!isAdmin(ctx.user) && bucket.ownerId !== ctx.user.id) {
    throw new IamError("Forbidden", "only the bucket owner and administrators manage permissions");
  }
  return { ns, bucket };
}

const grantRoutes: Route[] = [
  route("GET", "/buckets/:bucket/permissions", async (ctx) => {
    const { ns, bucket } = await bucketInReach(ctx);
    return json({ items: listGrants(ctx.deps.iam.core, ns, bucket.id) });
  }),
  route("POST", "/buckets/:bucket/permissions", async (ctx) => {
    const { ns, bucket } = await bucketInReach(ctx);
    const body = await readJson(ctx.req);
    const g = createGrant(ctx.deps.iam.core, {
      ns,
      bucket: bucket.name,
      bucketId: bucket.id,
      subjectType: body.subjectType,
      subjectId: body.subjectId,
      access: body.access,
      expiresAt: body.expiresAt,
      createdBy: ctx.user.id,
    });
    audit(ctx, {
      action: "grant.create",
      resource: `bucket/${bucket.name}`,
      tenantId: ns || null,
      detail: `${g.subjectType} ${g.subjectId} ${g.access}`,
    });
    return json(g, 201);
  }, { audit: "grant.create" }),
  route("DELETE", "/buckets/:bucket/permissions/:grantId", async (ctx) => {
    const { ns, bucket } = await bucketInReach(ctx);
    const g = getGrant(ctx.deps.iam.core, ctx.params.grantId);
    if (!g || g.bucketId !== bucket.id) throw new IamError("NotFound", "no such permission");
    deleteGrant(ctx.deps.iam.core, g.id);
    audit(ctx, {
      action: "grant.delete",
      resource: `bucket/${bucket.name}`,
      tenantId: ns || null,
      detail: `${g.subjectType} ${g.subjectId} ${g.access}`,
    });
    return noContent();
  }, { audit: "grant.delete" }),
];

function attachment(ctx: Authed): { kind: "user" | "group"; id: string } {
  const kind = ctx.params.kind === "users" ? "user" : ctx.params.kind === "groups" ? "group" : null;
  if (!kind) throw new IamError("NotFound", "no such attachment kind");
  return { kind, id: ctx.params.subjectId };
}

const policyRoutes: Route[] = [
  route(
    "GET",
    "/policies",
    (ctx) => json({ items: listPolicies(ctx.deps.iam.core, listScope(ctx)) }),
  ),
  route("POST", "/policies", async (ctx) => {
    requireAdmin(ctx);
    const body = await readJson(ctx.req);
    const tenantId = scopeTenant(ctx, body.tenantId);
    const p = createPolicy(ctx.deps.iam.core, {
      name: body.name,
      document: body.document,
      tenantId,
    });
    audit(ctx, { action: "policy.create", resource: `policy/${p.name}`, tenantId });
    return json(p, 201);
  }, { audit: "policy.create" }),
  route("GET", "/policies/:id", (ctx) => json(policyInReach(ctx))),
  route("PATCH", "/policies/:id", async (ctx) => {
    const p0 = policyInReach(ctx);
    const p = updatePolicy(ctx.deps.iam.core, p0.id, await readJson(ctx.req));
    audit(ctx, { action: "policy.update", resource: `policy/${p.name}`, tenantId: p.tenantId });
    return json(p);
  }, { audit: "policy.update" }),
  route("DELETE", "/policies/:id", (ctx) => {
    const p = policyInReach(ctx);
    deletePolicy(ctx.deps.iam.core, p.id);
    audit(ctx, { action: "policy.delete", resource: `policy/${p.name}`, tenantId: p.tenantId });
    return noContent();
  }, { audit: "policy.delete" }),
  route("PUT", "/policies/:id/attachments/:kind/:subjectId", (ctx) => {
    const p = policyInReach(ctx);
    const a = attachment(ctx);
    attachPolicy(ctx.deps.iam.core, p.id, a.kind, a.id);
    audit(ctx, {
      action: "policy.attach",
      resource: `policy/${p.name}`,
      tenantId: p.tenantId,
      detail: `${a.kind} ${a.id}`,
    });
    return noContent();
  }, { audit: "policy.attach" }),
  route("DELETE", "/policies/:id/attachments/:kind/:subjectId", (ctx) => {
    const p = policyInReach(ctx);
    const a = attachment(ctx);
    detachPolicy(ctx.deps.iam.core, p.id, a.kind, a.id);
    audit(ctx, {
      action: "policy.detach",
      resource: `policy/${p.name}`,
      tenantId: p.tenantId,
      detail: `${a.kind} ${a.id}`,
    });
    return noContent();
  }, { audit: "policy.detach" }),
];

/**
 * The bucket as the simulator names it: `tenantId` (the namespace the bucket lives in; tenant
 * admins default to their own) qualifies an unqualified name as `tenant:bucket`, so the question is
 * about that bucket whichever principal is asked about.
 */
function simulatedBucket(ctx: Authed, body: Record<string, unknown>): unknown {
  const bucket = body.bucket;
  if (typeof bucket !== "string" || bucket.includes(":")) return bucket;
  const ns = scopeTenant(ctx, body.tenantId) ?? "";
  if (ns === "") return bucket;
  const account = ctx.deps.iam.namespaces.accountOf(ns);
  if (account === null) throw new IamError("NotFound", "no such tenant");
  return `${account}:${bucket}`;
}

const simulateRoutes: Route[] = [
  route("POST", "/access/simulate", async (ctx) => {
    requireAdmin(ctx);
    const body = await readJson(ctx.req);
    // Tenant admins may ask only about their own tenant's buckets; global admins about any.
    const visibleNs = isGlobalAdmin(ctx.user) ? null : ctx.user.tenantId ?? "";
    const input: SimulationInput = {
      principal: body.principal,
      op: body.op,
      bucket: simulatedBucket(ctx, body),
      key: body.key,
      sourceIp: body.sourceIp,
      secure: body.secure,
    };
    return json(await ctx.deps.iam.simulate(input, visibleNs));
  }, { duringMaintenance: true }),
];

export const accessRoutes: Route[] = [
  ...groupRoutes,
  ...grantRoutes,
  ...policyRoutes,
  ...simulateRoutes,
];
