import type { PageProps, RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import { isAdmin, isGlobalAdmin } from "../console/session.ts";
import Dashboard from "../islands/Dashboard.tsx";

export const config: RouteConfig = { title: "Dashboard" };

export default function Home({ user }: PageProps) {
  return island(Dashboard, { admin: isAdmin(user), globalAdmin: isGlobalAdmin(user) });
}
