import type { PageProps, RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import { isGlobalAdmin } from "../console/session.ts";
import AccessControl from "../islands/AccessControl.tsx";

export const config: RouteConfig = { title: "Groups and policies", admin: true };

export default function Access({ user }: PageProps) {
  return island(AccessControl, { globalAdmin: isGlobalAdmin(user) });
}
