/** copyObject. */
import { S3Error } from "../errors.ts";
import type { OpContext, OpResult } from "../context.ts";

export function copyObject(_ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: "copyObject is not implemented yet" });
}
