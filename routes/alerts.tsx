import type { PageProps, RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import { isGlobalAdmin } from "../console/session.ts";
import Alerts from "../islands/Alerts.tsx";

export const config: RouteConfig = { title: "Alerts", admin: true };

export default function AlertsPage({ user }: PageProps) {
  return island(Alerts, { globalAdmin: isGlobalAdmin(user) });
}
