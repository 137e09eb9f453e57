/** Operations in this family are not implemented yet. */
import { S3Error } from "../errors.ts";
import type { OpContext, OpResult } from "../context.ts";

export function getBucketAcl(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function putBucketAcl(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function getObjectAcl(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function putObjectAcl(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function bucketConfig(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}
