import type { PageProps, RouteConfig } from "../../../console/pages.ts";
import { island } from "../../../console/island.tsx";
import BucketSettings from "../../../islands/BucketSettings.tsx";
import { BucketTabs } from "../../../components/BucketTabs.tsx";

export const config: RouteConfig = { title: "Bucket settings" };

export default function Settings({ params, search }: PageProps) {
  // `tenantId` (global administrators): the API refuses it for anyone else.
  const tenantId = new URLSearchParams(search).get("tenantId") ?? "";
  return (
    <>
      <BucketTabs bucket={params.bucket} tenantId={tenantId} current="/settings" />
      {island(BucketSettings, { bucket: params.bucket, tenantId })}
    </>
  );
}
