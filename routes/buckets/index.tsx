import type { PageProps, RouteConfig } from "../../console/pages.ts";
import { island } from "../../console/island.tsx";
import { isGlobalAdmin } from "../../console/session.ts";
import BucketList from "../../islands/BucketList.tsx";

export const config: RouteConfig = { title: "Buckets" };

export default function Buckets({ user, search }: PageProps) {
  const initialTenantId = new URLSearchParams(search).get("tenantId") ?? "";
  return island(BucketList, { globalAdmin: isGlobalAdmin(user), initialTenantId });
}
