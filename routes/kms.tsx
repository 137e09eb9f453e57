import type { PageProps, RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import { isAdmin, isGlobalAdmin } from "../console/session.ts";
import KmsKeys from "../islands/KmsKeys.tsx";

export const config: RouteConfig = { title: "Encryption keys" };

export default function KmsPage({ user }: PageProps) {
  return island(KmsKeys, { admin: isAdmin(user), globalAdmin: isGlobalAdmin(user) });
}
