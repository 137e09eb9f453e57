import type { PageProps, RouteConfig } from "../../console/pages.ts";
import { island } from "../../console/island.tsx";
import { isGlobalAdmin } from "../../console/session.ts";
import BucketList from "../../islands/BucketList.tsx";

export const config: RouteConfig = { title: "Buckets" };

export default function Buckets({ user }: PageProps) {
  return island(BucketList, { globalAdmin: isGlobalAdmin(user) });
}
