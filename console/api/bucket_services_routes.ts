/**
 * A bucket's inventory and server access logging as JSON (docs/api.md, "Bucket inventory and
 * logging"). Each runs the S3 operation as the session user (`bucketSubresourceCall`), so
 * authorization, validation and the S3 audit are S3's own:
 *
 *   GET    /buckets/:bucket/inventory            configurations and the report history
 *   PUT    /buckets/:bucket/inventory/:id        PutBucketInventoryConfiguration
 *   DELETE /buckets/:bucket/inventory/:id        DeleteBucketInventoryConfiguration
 *   POST   /buckets/:bucket/inventory/:id/run    writes the report now
 *   GET    /buckets/:bucket/logging              GetBucketLogging
 *   PUT    /buckets/:bucket/logging              PutBucketLogging (null body: off)
 */
import { IamError } from "../../server/iam/errors.ts";
import { buildXml, child, children, escapeXml, parseXml } from "../../server/s3/xml.ts";
import {
  type InventoryConfiguration,
  inventoryXml,
  OPTIONAL_FIELDS,
  parseInventoryConfiguration,
} from "../../server/features/inventory/config.ts";
import { audit } from "./admin_routes.ts";
import { scopeTenant } from "./access.ts";
import { type Authed, json, noContent, readJson, type Route, route } from "./http.ts";
import { bucketSubresourceCall, s3Failure } from "./s3_call.ts";

/** Every configuration of the route's bucket (all pages), as the session user may read them. */
async function listConfigurations(ctx: Authed): Promise<InventoryConfiguration[]> {
  const out: InventoryConfiguration[] = [];
  let token: string | null = null;
  for (;;) {
    const query: [string, string][] = [["inventory", ""]];
    if (token) query.push(["continuation-token", token]);
    const res = await bucketSubresourceCall(ctx, "GET", query);
    if (!res.ok) throw await s3Failure(res);
    const doc = parseXml(await res.text());
    for (const c of children(doc, "InventoryConfiguration")) {
      out.push(parseInventoryConfiguration(c, child(c, "Id")?.text ?? ""));
    }
    if (child(doc, "IsTruncated")?.text !== "true") return out;
    token = child(doc, "NextContinuationToken")?.text ?? null;
    if (!token) return out;
  }
}

const str = (v: unknown, name: string): string => {
  if (typeof v !== "string") throw new IamError("InvalidRequest", `${name} must be a string`);
  return v;
};

/**
 * The JSON form of a configuration (the stored shape: `{enabled, destination: {bucketArn,
 * format, prefix?, encryption?}, filterPrefix?, includedVersions, optionalFields, frequency}`)
 * to S3's document; S3 validates it.
 */
function inventoryDocument(id: string, body: Record<string, unknown>): string {
  const d = (body.destination ?? {}) as Record<string, unknown>;
  const bucketArn = str(d.bucketArn, "destination.bucketArn");
  const fields = Array.isArray(body.optionalFields) ? body.optionalFields.map(String) : [];
  const cfg: InventoryConfiguration = {
    id,
    enabled: body.enabled !== false,
    destination: {
      bucketArn,
      // Only the ARN goes into the document; S3 checks it (a bad one: InvalidS3DestinationBucket).
      bucket: "",
      format: str(d.format ?? "CSV", "destination.format") as "CSV",
      ...(d.prefix ? { prefix: str(d.prefix, "destination.prefix") } : {}),
      ...(d.encryption ? { encryption: d.encryption as { mode: "SSE-S3" } } : {}),
    },
    ...(body.filterPrefix ? { filterPrefix: str(body.filterPrefix, "filterPrefix") } : {}),
    includedVersions: str(body.includedVersions ?? "Current", "includedVersions") as "Current",
    // Unknown names go through for S3 to refuse.
    optionalFields: fields as typeof OPTIONAL_FIELDS[number][],
    frequency: str(body.frequency ?? "Daily", "frequency") as "Daily",
  };
  return buildXml("InventoryConfiguration", inventoryXml(cfg));
}

function loggingDocument(body: Record<string, unknown> | null): string {
  if (body === null) return buildXml("BucketLoggingStatus", {});
  const target = str(body.targetBucket, "targetBucket");
  const prefix = body.targetPrefix === undefined ? "" : str(body.targetPrefix, "targetPrefix");
  const format = body.keyFormat === "PartitionedPrefix"
    ? `<TargetObjectKeyFormat><PartitionedPrefix><PartitionDateSource>${
      body.dateSource === "DeliveryTime" ? "DeliveryTime" : "EventTime"
    }</PartitionDateSource></PartitionedPrefix></TargetObjectKeyFormat>`
    : "";
  return `<?xml version="1.0" encoding="UTF-8"?>\n<BucketLoggingStatus><LoggingEnabled>` +
    `<TargetBucket>${escapeXml(target)}</TargetBucket>` +
    `<TargetPrefix>${
      escapeXml(prefix)
    }</TargetPrefix>${format}</LoggingEnabled></BucketLoggingStatus>`;
}

/** The route's bucket record (after an S3 call as the user found it). */
async function bucketOf(ctx: Authed) {
  const ns = scopeTenant(ctx, ctx.url.searchParams.get("tenantId") ?? undefined) ?? "";
  return await ctx.deps.storage.getBucket(ns, ctx.params.bucket);
}

/** Runs `?inventory&id=<:id>` on the route's bucket as the session user; S3's refusal throws. */
async function inventoryCall(ctx: Authed, method: string, xml: string | null = null) {
  const res = await bucketSubresourceCall(
    ctx,
    method,
    [["inventory", ""], ["id", ctx.params.id]],
    xml,
  );
  await succeeded(res);
}

/** An S3 answer that must be a success (its body unread): its error thrown otherwise. */
async function succeeded(res: Response): Promise<void> {
  if (!res.ok) throw await s3Failure(res);
  await res.body?.cancel();
}

function inventoryWorker(ctx: Authed) {
  const w = ctx.deps.inventory;
  if (!w) throw new IamError("NotFound", "inventory is not set up");
  return w;
}

export const bucketServicesRoutes: Route[] = [
  route("GET", "/buckets/:bucket/inventory", async (ctx) => {
    const configurations = await listConfigurations(ctx);
    const bucket = await bucketOf(ctx);
    const runs = inventoryWorker(ctx).runs.list(bucket.id, 50);
    return json({ configurations, runs });
  }),
  route("PUT", "/buckets/:bucket/inventory/:id", async (ctx) => {
    await inventoryCall(ctx, "PUT", inventoryDocument(ctx.params.id, await readJson(ctx.req)));
    return noContent();
  }),
  route("DELETE", "/buckets/:bucket/inventory/:id", async (ctx) => {
    await inventoryCall(ctx, "DELETE");
    return noContent();
  }),
  route("POST", "/buckets/:bucket/inventory/:id/run", async (ctx) => {
    // Whoever may read the configuration may have its report written now.
    await inventoryCall(ctx, "GET");
    const bucket = await bucketOf(ctx);
    const run = await inventoryWorker(ctx).runNow(bucket, ctx.params.id);
    audit(ctx, {
      action: "bucket.inventory.run",
      resource: `bucket/${bucket.name}`,
      tenantId: bucket.ns || null,
      detail: `${ctx.params.id}: ${run.status}, ${run.objects} objects`,
      ...(run.status === "failed" ? { result: "failure" as const } : {}),
    });
    return json({ run });
  }, { audit: "bucket.inventory.run" }),
  route("GET", "/buckets/:bucket/logging", async (ctx) => {
    const res = await bucketSubresourceCall(ctx, "GET", [["logging", ""]]);
    if (!res.ok) throw await s3Failure(res);
    const on = child(parseXml(await res.text()), "LoggingEnabled");
    if (!on) return json({ logging: null });
    const partitioned = child(child(on, "TargetObjectKeyFormat") ?? on, "PartitionedPrefix");
    return json({
      logging: {
        targetBucket: child(on, "TargetBucket")?.text ?? "",
        targetPrefix: child(on, "TargetPrefix")?.text ?? "",
        keyFormat: partitioned ? "PartitionedPrefix" : "SimplePrefix",
        ...(partitioned
          ? { dateSource: child(partitioned, "PartitionDateSource")?.text ?? "EventTime" }
          : {}),
      },
    });
  }),
  route("PUT", "/buckets/:bucket/logging", async (ctx) => {
    const body = await readJson(ctx.req).catch(() => null);
    const on = body && typeof body.targetBucket === "string" ? body : null;
    await succeeded(
      await bucketSubresourceCall(ctx, "PUT", [["logging", ""]], loggingDocument(on)),
    );
    return noContent();
  }),
];
