/** postObject. */
import { S3Error } from "../errors.ts";
import type { OpContext, OpResult } from "../context.ts";

export function postObject(_ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: "postObject is not implemented yet" });
}
