import type { RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import Metrics from "../islands/Metrics.tsx";

export const config: RouteConfig = { title: "Metrics", globalAdmin: true };

export default function MetricsPage() {
  return island(Metrics, {});
}
