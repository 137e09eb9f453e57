import type { PageProps, RouteConfig } from "../../../console/pages.ts";
import { island } from "../../../console/island.tsx";
import BucketNotifications from "../../../islands/BucketNotifications.tsx";
import { BucketTabs } from "../../../components/BucketTabs.tsx";

export const config: RouteConfig = { title: "Bucket notifications" };

export default function Notifications({ params, search, user }: PageProps) {
  // `tenantId` (global administrators): the API refuses it for anyone else.
  const tenantId = new URLSearchParams(search).get("tenantId") ?? "";
  return (
    <>
      <BucketTabs bucket={params.bucket} tenantId={tenantId} current="/notifications" />
      {island(BucketNotifications, {
        bucket: params.bucket,
        tenantId,
        ns: tenantId || (user?.tenantId ?? ""),
      })}
    </>
  );
}
