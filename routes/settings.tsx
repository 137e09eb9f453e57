import type { RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import SettingsForm from "../islands/Settings.tsx";

export const config: RouteConfig = { title: "Settings", globalAdmin: true };

export default function SettingsPage() {
  return island(SettingsForm, {});
}
