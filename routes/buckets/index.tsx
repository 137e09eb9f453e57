import type { RouteConfig } from "../../console/pages.ts";
import { island } from "../../console/island.tsx";
import BucketList from "../../islands/BucketList.tsx";

export const config: RouteConfig = { title: "Buckets" };

export default function Buckets() {
  return island(BucketList, {});
}
