import type { RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import Tenants from "../islands/Tenants.tsx";

export const config: RouteConfig = { title: "Tenants", globalAdmin: true };

export default function TenantsPage() {
  return island(Tenants, {});
}
