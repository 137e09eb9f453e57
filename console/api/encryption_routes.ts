/**
 * Master-key status and rotation (docs/api.md "Encryption"): global administrators only. A
 * rotation adds a master key and rewraps every data key in the background; its progress is in
 * the status (server/features/encryption/rotation.ts).
 */
import { IamError } from "../../server/iam/errors.ts";
import {
  type MasterKeyRotation,
  RotationRunningError,
} from "../../server/features/encryption/rotation.ts";
import { requireGlobalAdmin } from "./access.ts";
import { audit } from "./admin_routes.ts";
import { type Authed, json, type Route, route } from "./http.ts";

function rotationOf(ctx: Authed): MasterKeyRotation {
  requireGlobalAdmin(ctx);
  const r = ctx.deps.encryption;
  if (!r) throw new IamError("NotFound", "encryption at rest is not set up on this server");
  return r;
}

export const encryptionRoutes: Route[] = [
  route("GET", "/encryption/status", async (ctx) => json(await rotationOf(ctx).status())),
  route("POST", "/encryption/rotate", async (ctx) => {
    const rotation = rotationOf(ctx);
    let status;
    try {
      status = await rotation.rotate();
    } catch (e) {
      if (e instanceof RotationRunningError) throw new IamError("Conflict", e.message);
      throw e;
    }
    audit(ctx, {
      action: "encryption.rotate",
      resource: `master-key/${status.activeKeyId}`,
      tenantId: null,
      detail: JSON.stringify({ retiring: status.retiring }),
    });
    return json(status, 202);
  }, { audit: "encryption.rotate" }),
];
