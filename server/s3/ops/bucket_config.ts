/** Bucket configurations not implemented yet (notification, replication, logging, ...): `NotImplemented`. */
import { S3Error } from "../errors.ts";
import type { OpContext, OpResult } from "../context.ts";

export function bucketConfig(ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: `${ctx.ep.op} is not implemented yet` });
}
