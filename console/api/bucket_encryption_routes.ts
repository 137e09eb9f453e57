/**
 * A bucket's default encryption as JSON: `GET/PUT/DELETE /buckets/:bucket/encryption`. Each runs
 * S3's Get/Put/DeleteBucketEncryption as the session user (`runS3`), so authorization
 * (s3:GetEncryptionConfiguration, s3:PutEncryptionConfiguration), validation and the S3 audit are
 * S3's own; the console page uses the S3 passthrough with the XML document instead.
 */
import { IamError } from "../../server/iam/errors.ts";
import { isS3Error } from "../../server/s3/errors.ts";
import { parseXml } from "../../server/s3/xml.ts";
import {
  type BucketEncryption,
  bucketEncryptionFromJson,
  bucketEncryptionXml,
  parseBucketEncryption,
} from "../../server/s3/bucket_encryption.ts";
import { type Authed, json, noContent, readJson, type Route, route } from "./http.ts";
import { bucketSubresourceCall, s3Failure } from "./s3_call.ts";

/** The JSON form of a default: `{algorithm, kmsKeyId?, bucketKey}`. */
function toJson(cfg: BucketEncryption) {
  return {
    algorithm: cfg.algorithm,
    ...(cfg.kmsKeyId ? { kmsKeyId: cfg.kmsKeyId } : {}),
    bucketKey: cfg.bucketKey,
  };
}

/** Runs `?encryption` on the route's bucket as the session user. */
function encryptionCall(ctx: Authed, method: string, body: string | null = null) {
  return bucketSubresourceCall(ctx, method, [["encryption", ""]], body);
}

export const bucketEncryptionRoutes: Route[] = [
  route("GET", "/buckets/:bucket/encryption", async (ctx) => {
    const res = await encryptionCall(ctx, "GET");
    if (res.ok) {
      return json({ encryption: toJson(parseBucketEncryption(parseXml(await res.text()))) });
    }
    const failure = await s3Failure(res);
    if (failure.extra.s3Code === "ServerSideEncryptionConfigurationNotFoundError") {
      return json({ encryption: null });
    }
    throw failure;
  }),
  route("PUT", "/buckets/:bucket/encryption", async (ctx) => {
    let cfg: BucketEncryption | null;
    try {
      cfg = bucketEncryptionFromJson(await readJson(ctx.req));
    } catch (e) {
      if (isS3Error(e)) throw new IamError("InvalidRequest", e.message);
      throw e;
    }
    const res = cfg
      ? await encryptionCall(ctx, "PUT", bucketEncryptionXml(cfg))
      : await encryptionCall(ctx, "DELETE");
    if (!res.ok) throw await s3Failure(res);
    await res.body?.cancel();
    return json({ encryption: cfg ? toJson(cfg) : null });
  }),
  route("DELETE", "/buckets/:bucket/encryption", async (ctx) => {
    const res = await encryptionCall(ctx, "DELETE");
    if (!res.ok) throw await s3Failure(res);
    await res.body?.cancel();
    return noContent();
  }),
];
