import type { PageProps, RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import { isGlobalAdmin } from "../console/session.ts";
import AuditLog from "../islands/AuditLog.tsx";

export const config: RouteConfig = { title: "Audit log", admin: true };

export default function Audit({ user }: PageProps) {
  return island(AuditLog, { globalAdmin: isGlobalAdmin(user) });
}
