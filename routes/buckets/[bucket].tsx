import type { PageProps, RouteConfig } from "../../console/pages.ts";
import { island } from "../../console/island.tsx";
import ObjectBrowser from "../../islands/ObjectBrowser.tsx";

export const config: RouteConfig = { title: "Object browser" };

export default function Browser({ params, search }: PageProps) {
  const q = new URLSearchParams(search);
  const prefix = q.get("prefix") ?? "";
  // `tenantId` (global administrators): the API refuses it for anyone else.
  const tenantId = q.get("tenantId") ?? "";
  return island(ObjectBrowser, { bucket: params.bucket, prefix, tenantId });
}
