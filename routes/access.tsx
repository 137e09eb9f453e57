import type { PageProps, RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import { isGlobalAdmin } from "../console/session.ts";
import { SIMULATED_OPS } from "../server/iam/simulate.ts";
import AccessControl from "../islands/AccessControl.tsx";

export const config: RouteConfig = { title: "Access control", admin: true };

export default function Access({ user }: PageProps) {
  return island(AccessControl, {
    globalAdmin: isGlobalAdmin(user),
    tenantId: isGlobalAdmin(user) ? null : user?.tenantId ?? null,
    ops: [...SIMULATED_OPS],
  });
}
