import type { PageProps, RouteConfig } from "../../../console/pages.ts";
import { island } from "../../../console/island.tsx";
import BucketReplication from "../../../islands/BucketReplication.tsx";
import { BucketTabs } from "../../../components/BucketTabs.tsx";

export const config: RouteConfig = { title: "Bucket replication" };

export default function Replication({ params, search }: PageProps) {
  // `tenantId` (global administrators): the API refuses it for anyone else.
  const tenantId = new URLSearchParams(search).get("tenantId") ?? "";
  return (
    <>
      <BucketTabs bucket={params.bucket} tenantId={tenantId} current="/replication" />
      {island(BucketReplication, { bucket: params.bucket, tenantId })}
    </>
  );
}
