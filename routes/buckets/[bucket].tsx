import type { PageProps, RouteConfig } from "../../console/pages.ts";
import { island } from "../../console/island.tsx";
import ObjectBrowser from "../../islands/ObjectBrowser.tsx";

export const config: RouteConfig = { title: "Object browser" };

export default function Browser({ params, search }: PageProps) {
  const prefix = new URLSearchParams(search).get("prefix") ?? "";
  return island(ObjectBrowser, { bucket: params.bucket, prefix });
}
