import type { PageProps, RouteConfig } from "../../../console/pages.ts";
import { island } from "../../../console/island.tsx";
import BucketWebsite from "../../../islands/BucketWebsite.tsx";
import { BucketTabs } from "../../../components/BucketTabs.tsx";

export const config: RouteConfig = { title: "Bucket website" };

export default function Website({ params, search }: PageProps) {
  // `tenantId` (global administrators): the API refuses it for anyone else.
  const tenantId = new URLSearchParams(search).get("tenantId") ?? "";
  return (
    <>
      <BucketTabs bucket={params.bucket} tenantId={tenantId} current="/website" />
      {island(BucketWebsite, { bucket: params.bucket, tenantId })}
    </>
  );
}
