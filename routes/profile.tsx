import type { PageProps, RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import Profile from "../islands/Profile.tsx";

export const config: RouteConfig = { title: "Profile" };

export default function ProfilePage({ user }: PageProps) {
  return island(Profile, {
    username: user?.username ?? "",
    twoFactorEnabled: user?.twoFactorEnabled ?? false,
  });
}
