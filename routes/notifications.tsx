import type { PageProps, RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import { isAdmin, isGlobalAdmin } from "../console/session.ts";
import WebhookTargets from "../islands/WebhookTargets.tsx";

export const config: RouteConfig = { title: "Webhook targets" };

export default function NotificationsPage({ user }: PageProps) {
  return island(WebhookTargets, { admin: isAdmin(user), globalAdmin: isGlobalAdmin(user) });
}
