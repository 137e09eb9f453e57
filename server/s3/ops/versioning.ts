/** Operations in this family are not implemented yet. */
import { S3Error } from "../errors.ts";
import type { OpContext, OpResult } from "../context.ts";

export function getBucketVersioning(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function putBucketVersioning(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function listObjectVersions(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}
