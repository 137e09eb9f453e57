import type { PageProps, RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import { isGlobalAdmin } from "../console/session.ts";
import Users from "../islands/Users.tsx";

export const config: RouteConfig = { title: "Users", admin: true };

export default function UsersPage({ user }: PageProps) {
  return island(Users, { globalAdmin: isGlobalAdmin(user), selfId: user?.id ?? "" });
}
