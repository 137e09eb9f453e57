/** Operations in this family are not implemented yet. */
import { S3Error } from "../errors.ts";
import type { OpContext, OpResult } from "../context.ts";

export function getObjectTagging(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function putObjectTagging(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function deleteObjectTagging(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function getBucketTagging(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function putBucketTagging(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function deleteBucketTagging(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}
