/** getObjectAttributes. */
import { S3Error } from "../errors.ts";
import type { OpContext, OpResult } from "../context.ts";

export function getObjectAttributes(_ctx: OpContext): Promise<OpResult> {
  throw new S3Error("NotImplemented", { message: "getObjectAttributes is not implemented yet" });
}
