/** AWS's rule for reads of keys that do not exist, shared by the S3 path and the website endpoint. */
import { isS3Error, S3Error } from "./errors.ts";
import type { OpContext, OpResult } from "./context.ts";

/**
 * Runs the operation; a key it does not find is `NoSuchKey` (404) only to a caller who may list
 * the bucket, and `AccessDenied` (403) to anyone else, as AWS answers: otherwise the status would
 * tell a caller without the right to list which keys exist.
 */
export async function hideMissingKeys(
  ctx: OpContext,
  run: (ctx: OpContext) => Promise<OpResult>,
): Promise<OpResult> {
  try {
    return await run(ctx);
  } catch (e) {
    if (!isS3Error(e) || e.code !== "NoSuchKey" || ctx.ep.key === null) throw e;
    if (!await ctx.deps.authorizer.mayList(ctx, await ctx.bucket())) {
      throw new S3Error("AccessDenied");
    }
    throw e;
  }
}
