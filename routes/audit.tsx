import type { RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import AuditLog from "../islands/AuditLog.tsx";

export const config: RouteConfig = { title: "Audit log", admin: true };

export default function Audit() {
  return island(AuditLog, {});
}
