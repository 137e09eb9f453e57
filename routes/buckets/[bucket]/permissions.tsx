import type { PageProps, RouteConfig } from "../../../console/pages.ts";
import { island } from "../../../console/island.tsx";
import { isAdmin } from "../../../console/session.ts";
import { SIMULATED_OPS } from "../../../server/iam/simulate.ts";
import BucketAccess from "../../../islands/BucketAccess.tsx";
import { BucketTabs } from "../../../components/BucketTabs.tsx";

export const config: RouteConfig = { title: "Bucket permissions" };

export default function Permissions({ params, search, user }: PageProps) {
  // `tenantId` (global administrators): the API refuses it for anyone else.
  const tenantId = new URLSearchParams(search).get("tenantId") ?? "";
  // The simulator is for administrators (the API refuses tenant users).
  const ops = isAdmin(user) ? [...SIMULATED_OPS] : [];
  return (
    <>
      <BucketTabs bucket={params.bucket} tenantId={tenantId} current="/permissions" />
      {island(BucketAccess, { bucket: params.bucket, tenantId, ops })}
    </>
  );
}
