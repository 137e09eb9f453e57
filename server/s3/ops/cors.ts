/**
 * Put/Get/DeleteBucketCors, the preflight `OPTIONS` (answered before authentication, from the
 * bucket's rules) and the CORS headers of actual requests.
 */
import { S3Error } from "../errors.ts";
import { readIntegrityCheckedBody, utf8Text } from "../body.ts";
import {
  actualRequestHeaders,
  CORS_CONFIG,
  type CorsConfig,
  corsXml,
  parseCorsConfiguration,
  preflightHeaders,
} from "../cors.ts";
import { resolveBucketUnsigned } from "../resolve_bucket.ts";
import type { Endpoint, RequestTarget } from "../endpoint.ts";
import type { OpContext, OpResult, S3Deps } from "../context.ts";
import type { BucketRecord } from "../../storage/types.ts";

/** AWS's limit on a CORS configuration document. */
const MAX_CORS_BYTES = 64 * 1024;

export async function getBucketCors(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const cfg = await ctx.deps.storage.getBucketConfig<CorsConfig>(b.id, CORS_CONFIG);
  if (!cfg) throw new S3Error("NoSuchCORSConfiguration", { fields: { BucketName: b.name } });
  return { xml: corsXml(cfg) };
}

export async function putBucketCors(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  const bytes = await readIntegrityCheckedBody(
    ctx.req,
    ctx.auth.body,
    ctx.auth.trailers,
    MAX_CORS_BYTES,
  );
  // Validated whole before anything is stored: a bad document leaves the previous rules.
  const cfg = parseCorsConfiguration(utf8Text(bytes));
  await ctx.deps.storage.putBucketConfig(b.id, CORS_CONFIG, cfg);
  return {};
}

export async function deleteBucketCors(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.bucket();
  await ctx.deps.storage.putBucketConfig(b.id, CORS_CONFIG, null);
  return { status: 204 };
}

async function corsConfigOf(deps: S3Deps, bucket: BucketRecord): Promise<CorsConfig | null> {
  return await deps.storage.getBucketConfig<CorsConfig>(bucket.id, CORS_CONFIG);
}

/**
 * A preflight: no credentials are checked, the bucket is resolved from its name (and the access
 * key a presigned URL names), and its rules decide. A missing bucket is `NoSuchBucket`.
 */
export async function preflight(
  deps: S3Deps,
  req: Request,
  target: RequestTarget,
  ep: Endpoint,
): Promise<OpResult> {
  let cfg: CorsConfig | null = null;
  if (ep.bucket !== null && req.headers.get("origin")) {
    const bucket = await resolveBucketUnsigned(deps, req, target, ep.bucket);
    if (!bucket) throw new S3Error("NoSuchBucket", { fields: { BucketName: ep.bucket } });
    cfg = await corsConfigOf(deps, bucket);
  }
  const headers = preflightHeaders(cfg, req.headers, ep.key === null ? "BUCKET" : "OBJECT");
  return { status: 200, headers };
}

/**
 * The CORS headers of an actual request that has an Origin, its bucket's rules deciding (also
 * for error answers). `bucket`: the bucket the request resolved, when it got that far.
 */
export async function actualCorsHeaders(
  deps: S3Deps,
  req: Request,
  origin: string,
  bucket: BucketRecord | null,
  unresolved: { target: RequestTarget; name: string } | null,
): Promise<Record<string, string> | null> {
  try {
    const b = bucket ??
      (unresolved
        ? await resolveBucketUnsigned(deps, req, unresolved.target, unresolved.name)
        : null);
    if (!b) return null;
    return actualRequestHeaders(await corsConfigOf(deps, b), origin, req.method);
  } catch {
    // CORS headers are a courtesy of the answer already decided; a failed lookup adds none.
    return null;
  }
}
