import type { PageProps, RouteConfig } from "../../console/pages.ts";
import { island } from "../../console/island.tsx";
import ObjectBrowser from "../../islands/ObjectBrowser.tsx";
import { BucketTabs } from "../../components/BucketTabs.tsx";

export const config: RouteConfig = { title: "Object browser" };

export default function Browser({ params, search }: PageProps) {
  const q = new URLSearchParams(search);
  const prefix = q.get("prefix") ?? "";
  // `tenantId` (global administrators): the API refuses it for anyone else.
  const tenantId = q.get("tenantId") ?? "";
  return (
    <>
      <BucketTabs bucket={params.bucket} tenantId={tenantId} current="" />
      {island(ObjectBrowser, { bucket: params.bucket, prefix, tenantId })}
    </>
  );
}
