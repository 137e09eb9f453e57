/**
 * Bucket replication in the console API (docs/api.md, "Replication"): the namespace's
 * destinations (`/replication/destinations`, secrets accepted, never returned), a bucket's rules
 * as JSON (`/buckets/:bucket/replication`, put and removed through S3's
 * Put/DeleteBucketReplication as the session user, so validation, authorization and the S3 audit
 * are S3's), their status, the failure list with retry, pause and resume, and sync now.
 * Administrators of the namespace only; a global administrator adds `?tenantId=`.
 */
import { IamError } from "../../server/iam/errors.ts";
import { EndpointRefused } from "../../server/http/outbound.ts";
import { DestinationError } from "../../server/features/replication/destinations.ts";
import {
  type ReplicationConfig,
  type ReplicationRule,
  replicationXml,
} from "../../server/features/replication/config.ts";
import type { Replication } from "../../server/features/replication/service.ts";
import type { ReplicationMode } from "../../server/features/replication/modes.ts";
import { buildXml } from "../../server/s3/xml.ts";
import { isS3Error } from "../../server/s3/errors.ts";
import { requireAdmin, scopeTenant } from "./access.ts";
import { audit } from "./admin_routes.ts";
import { type Authed, json, noContent, readJson, type Route, route } from "./http.ts";
import { bucketSubresourceCall, s3Failure } from "./s3_call.ts";

function service(ctx: Authed): Replication {
  const r = ctx.deps.replication;
  if (!r) throw new IamError("NotFound", "replication is not enabled");
  return r;
}

function namespaceOf(ctx: Authed): string {
  requireAdmin(ctx);
  return scopeTenant(ctx, ctx.url.searchParams.get("tenantId") ?? undefined) ?? "";
}

async function administeredBucket(ctx: Authed) {
  const ns = namespaceOf(ctx);
  const b = await ctx.deps.storage.getBucket(ns, ctx.params.bucket).catch(() => null);
  if (!b) throw new IamError("NotFound", "no such bucket");
  return b;
}

function str(v: unknown, what: string): string {
  if (typeof v !== "string") throw new IamError("InvalidRequest", `${what} must be a string`);
  return v;
}

/** The JSON rules of the console editor as S3's stored form (S3 validates the document). */
export function configFromJson(body: Record<string, unknown>): ReplicationConfig {
  if (!Array.isArray(body.rules)) throw new IamError("InvalidRequest", "rules must be a list");
  const rules = body.rules.map((x, i): ReplicationRule => {
    const r = (x ?? {}) as Record<string, unknown>;
    const tags = r.tags === undefined ? [] : r.tags;
    if (!Array.isArray(tags)) throw new IamError("InvalidRequest", "tags must be a list");
    const tagPairs = tags.map((t) => {
      const o = (t ?? {}) as Record<string, unknown>;
      return [str(o.key, "tag key"), str(o.value ?? "", "tag value")] as [string, string];
    });
    const prefix = r.prefix === undefined ? "" : str(r.prefix, "prefix");
    return {
      id: r.id === undefined ? `rule-${i + 1}` : str(r.id, "id"),
      priority: typeof r.priority === "number" ? r.priority : i + 1,
      status: r.enabled === false ? "Disabled" : "Enabled",
      filter: tagPairs.length
        ? (prefix || tagPairs.length > 1
          ? { and: true, prefix, tags: tagPairs }
          : { tags: tagPairs })
        : { prefix },
      destination: str(r.destination, "destination"),
      ...(typeof r.storageClass === "string" && r.storageClass
        ? { storageClass: r.storageClass }
        : {}),
      deleteMarkers: r.deleteMarkers === true,
      existingObjects: r.existingObjects === true,
    };
  });
  return { v: 1, role: "", rules };
}

async function statusAnswer(ctx: Authed, repl: Replication) {
  const b = await administeredBucket(ctx);
  return json({
    mode: repl.modes.get(b.id),
    rules: await repl.status(b),
    failures: repl.failures(b),
    totals: repl.metrics.totals,
  });
}

function destinationProblem(e: unknown): never {
  if (e instanceof EndpointRefused || e instanceof DestinationError) {
    throw new IamError("InvalidRequest", e.message);
  }
  throw e;
}

export const replicationRoutes: Route[] = [
  route("GET", "/replication/destinations", (ctx) => {
    const ns = namespaceOf(ctx);
    return json({ destinations: service(ctx).destinations.list(ns) });
  }),
  route("PUT", "/replication/destinations/:name", async (ctx) => {
    const ns = namespaceOf(ctx);
    const body = await readJson(ctx.req);
    const dest = await service(ctx).destinations.put(ns, {
      name: ctx.params.name,
      endpoint: str(body.endpoint, "endpoint"),
      region: body.region === undefined ? undefined : str(body.region, "region"),
      bucket: str(body.bucket, "bucket"),
      pathStyle: body.pathStyle !== false,
      conflict: body.conflict === undefined ? undefined : str(body.conflict, "conflict") as
        | "source"
        | "newer",
      accessKey: str(body.accessKey, "accessKey"),
      secretKey: body.secretKey === undefined || body.secretKey === ""
        ? undefined
        : str(body.secretKey, "secretKey"),
    }).catch(destinationProblem);
    audit(ctx, {
      action: "replication.destination.put",
      resource: `replication-destination/${dest.name}`,
      tenantId: ns || null,
      detail: `${dest.endpoint} bucket ${dest.bucket}`,
    });
    return json({ destination: dest });
  }, { audit: "replication.destination.put" }),
  route("POST", "/replication/destinations/:name/test", async (ctx) => {
    const ns = namespaceOf(ctx);
    const problem = await service(ctx).testDestination(ns, ctx.params.name);
    return json({ ok: problem === null, ...(problem === null ? {} : { error: problem }) });
  }),
  route("DELETE", "/replication/destinations/:name", (ctx) => {
    const ns = namespaceOf(ctx);
    if (!service(ctx).destinations.delete(ns, ctx.params.name)) {
      throw new IamError("NotFound", "no such destination");
    }
    audit(ctx, {
      action: "replication.destination.delete",
      resource: `replication-destination/${ctx.params.name}`,
      tenantId: ns || null,
    });
    return noContent();
  }, { audit: "replication.destination.delete" }),
  route("GET", "/buckets/:bucket/replication", (ctx) => statusAnswer(ctx, service(ctx))),
  route("PUT", "/buckets/:bucket/replication", async (ctx) => {
    const repl = service(ctx);
    namespaceOf(ctx); // administrators only
    const cfg = configFromJson(await readJson(ctx.req));
    const res = cfg.rules.length
      ? await bucketSubresourceCall(
        ctx,
        "PUT",
        [["replication", ""]],
        buildXml("ReplicationConfiguration", replicationXml(cfg)),
      )
      : await bucketSubresourceCall(ctx, "DELETE", [["replication", ""]]);
    if (!res.ok) throw await s3Failure(res);
    await res.body?.cancel();
    return await statusAnswer(ctx, repl);
  }),
  route("POST", "/buckets/:bucket/replication/sync", async (ctx) => {
    const repl = service(ctx);
    const b = await administeredBucket(ctx);
    const body = await readJson(ctx.req).catch(() => ({} as Record<string, unknown>));
    try {
      const queued = await repl.syncNow(
        b,
        typeof body.ruleId === "string" ? body.ruleId : undefined,
      );
      return json({ queued });
    } catch (e) {
      if (isS3Error(e)) throw new IamError("InvalidRequest", e.message);
      if (e instanceof EndpointRefused) throw new IamError("InvalidRequest", e.message);
      throw new IamError(
        "InvalidRequest",
        `Cannot list the destination: ${(e as Error).message}`,
      );
    }
  }),
  route("PUT", "/buckets/:bucket/replication/mode", async (ctx) => {
    const repl = service(ctx);
    const b = await administeredBucket(ctx);
    const body = await readJson(ctx.req);
    const interval = body.intervalSeconds === undefined || body.intervalSeconds === null
      ? null
      : Number(body.intervalSeconds);
    try {
      await repl.setMode(b, str(body.mode, "mode") as ReplicationMode, interval);
    } catch (e) {
      if (isS3Error(e)) throw new IamError("InvalidRequest", e.message);
      throw e;
    }
    audit(ctx, {
      action: "bucket.replication.mode",
      resource: `bucket/${b.name}`,
      tenantId: b.ns || null,
      detail: interval === null ? String(body.mode) : `${body.mode} every ${interval} s`,
    });
    return await statusAnswer(ctx, repl);
  }, { audit: "bucket.replication.mode" }),
  route("POST", "/buckets/:bucket/replication/retry", async (ctx) => {
    const repl = service(ctx);
    const b = await administeredBucket(ctx);
    const body = await readJson(ctx.req).catch(() => ({} as Record<string, unknown>));
    const id = typeof body.id === "number" ? body.id : undefined;
    return json({ retried: repl.retry(b, id) });
  }),
  route("POST", "/buckets/:bucket/replication/rules/:rule/:action", async (ctx) => {
    const repl = service(ctx);
    const b = await administeredBucket(ctx);
    const action = ctx.params.action;
    if (action !== "pause" && action !== "resume") throw new IamError("NotFound", "no such action");
    try {
      await repl.pause(b, ctx.params.rule, action === "pause");
    } catch (e) {
      if (isS3Error(e)) throw new IamError("NotFound", e.message);
      throw e;
    }
    return await statusAnswer(ctx, repl);
  }),
];
