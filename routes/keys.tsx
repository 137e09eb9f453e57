import type { PageProps, RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import { isAdmin } from "../console/session.ts";
import AccessKeys from "../islands/AccessKeys.tsx";

export const config: RouteConfig = { title: "Access keys" };

export default function Keys({ user }: PageProps) {
  return island(AccessKeys, { admin: isAdmin(user) });
}
