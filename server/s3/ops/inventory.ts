/**
 * Put/Get/Delete/ListBucketInventoryConfiguration (`?inventory[&id=]`). The reports themselves
 * are written by the inventory worker (features/inventory/worker.ts).
 */
import { isS3Error, S3Error } from "../errors.ts";
import { buildXml, parseXmlDocument } from "../xml.ts";
import { readBodyBytes, utf8Text } from "../body.ts";
import {
  INVENTORY_CONFIG,
  INVENTORY_PAGE,
  type InventoryConfigs,
  type InventoryConfiguration,
  inventoryXml,
  parseInventoryConfiguration,
  validateInventoryId,
  withConfiguration,
} from "../../features/inventory/config.ts";
import type { OpContext, OpResult } from "../context.ts";
import type { BucketRecord } from "../../storage/types.ts";

const noSuchConfiguration = () => new S3Error("NoSuchConfiguration");

async function storedConfigs(ctx: OpContext, b: BucketRecord): Promise<InventoryConfigs | null> {
  return await ctx.deps.storage.getBucketConfig<InventoryConfigs>(b.id, INVENTORY_CONFIG);
}

export async function getBucketInventoryConfiguration(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const id = validateInventoryId(ctx.ep.query.get("id"));
  const cfg = (await storedConfigs(ctx, b))?.configs.find((c) => c.id === id);
  if (!cfg) throw noSuchConfiguration();
  return { xml: buildXml("InventoryConfiguration", inventoryXml(cfg)) };
}

/** Continuation tokens name the last id of the previous page (opaque to clients: base64). */
function tokenOf(id: string): string {
  return btoa(id);
}

function idOfToken(token: string): string {
  try {
    return atob(token);
  } catch {
    throw new S3Error("InvalidArgument", {
      message: "The continuation token provided is incorrect",
      fields: { ArgumentName: "continuation-token", ArgumentValue: token },
    });
  }
}

export async function listBucketInventoryConfigurations(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const token = ctx.ep.query.get("continuation-token");
  const after = token ? idOfToken(token) : null;
  const all = (await storedConfigs(ctx, b))?.configs ?? [];
  const rest = after === null ? all : all.filter((c) => c.id > after);
  const page = rest.slice(0, INVENTORY_PAGE);
  const truncated = rest.length > page.length;
  return {
    xml: buildXml("ListInventoryConfigurationsResult", {
      ...(token ? { ContinuationToken: token } : {}),
      InventoryConfiguration: page.map(inventoryXml),
      IsTruncated: truncated,
      ...(truncated ? { NextContinuationToken: tokenOf(page.at(-1)!.id) } : {}),
    }),
  };
}

/**
 * The destination must be a bucket of the source's namespace (a tenant's reports stay in the
 * tenant) that the caller may write to: else `InvalidS3DestinationBucket`, or `AccessDenied`.
 */
async function checkDestination(
  ctx: OpContext,
  source: BucketRecord,
  cfg: InventoryConfiguration,
): Promise<void> {
  const d = cfg.destination;
  // AWS's code for a destination it refuses (AWS itself accepts other accounts' buckets; a tenant
  // boundary is this server's rule).
  const invalid = (message: string) => new S3Error("InvalidS3DestinationBucket", { message });
  let dest: BucketRecord;
  try {
    dest = await ctx.bucketNamed(d.bucket);
  } catch (e) {
    if (isS3Error(e) && (e.code === "NoSuchBucket" || e.code === "InvalidBucketName")) {
      throw invalid("The destination bucket does not exist");
    }
    throw e;
  }
  if (dest.ns !== source.ns) throw invalid("The destination bucket belongs to another tenant");
  const key = `${d.prefix ?? ""}${source.name}/${cfg.id}/`;
  await ctx.deps.authorizer.authorize({
    ...ctx,
    ep: { op: "PutObject", bucket: d.bucket, key, query: new URLSearchParams(), style: "path" },
    bucket: () => Promise.resolve(dest),
  }, dest);
}

export async function putBucketInventoryConfiguration(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const id = validateInventoryId(ctx.ep.query.get("id"));
  const bytes = await readBodyBytes(ctx.auth.body, 1 << 20);
  const cfg = parseInventoryConfiguration(
    parseXmlDocument(utf8Text(bytes), "InventoryConfiguration"),
    id,
  );
  await checkDestination(ctx, b, cfg);
  const next = withConfiguration(await storedConfigs(ctx, b), cfg);
  await ctx.deps.storage.putBucketConfig(b.id, INVENTORY_CONFIG, next);
  return {};
}

export async function deleteBucketInventoryConfiguration(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const id = validateInventoryId(ctx.ep.query.get("id"));
  const stored = await storedConfigs(ctx, b);
  if (!stored?.configs.some((c) => c.id === id)) throw noSuchConfiguration();
  const configs = stored.configs.filter((c) => c.id !== id);
  await ctx.deps.storage.putBucketConfig<InventoryConfigs>(
    b.id,
    INVENTORY_CONFIG,
    configs.length ? { v: 1, configs } : null,
  );
  return { status: 204 };
}
