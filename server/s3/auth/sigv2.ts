/** AWS Signature Version 2: Authorization header and presigned query. */
import { S3Error } from "../errors.ts";
import type { RequestTarget } from "../endpoint.ts";
import type { AuthDeps, AuthResult } from "./mod.ts";

export function authenticateV2(
  _req: Request,
  _target: RequestTarget,
  _deps: AuthDeps,
  _header: string | null,
): Promise<AuthResult> {
  throw new S3Error("NotImplemented", { message: "Signature Version 2 is not implemented yet" });
}
