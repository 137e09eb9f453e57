/** DeleteObject and DeleteObjects. */
import { S3Error } from "../errors.ts";
import { writeConditionsFrom } from "../headers.ts";
import type { OpContext, OpResult } from "../context.ts";

export async function deleteObject(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.bucket();
  await ctx.deps.storage.deleteObject(bucket, ctx.ep.key!, {
    conditions: writeConditionsFrom(ctx.req.headers),
  });
  return { status: 204 };
}

export function deleteObjects(_ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: "DeleteObjects is not implemented yet" });
}
