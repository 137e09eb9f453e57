/** Operations in this family are not implemented yet. */
import { S3Error } from "../errors.ts";
import type { OpContext, OpResult } from "../context.ts";

export function createMultipartUpload(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function uploadPart(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function uploadPartCopy(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function completeMultipartUpload(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function abortMultipartUpload(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function listParts(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}

export function listMultipartUploads(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}
