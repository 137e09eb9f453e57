import type { RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import Encryption from "../islands/Encryption.tsx";

export const config: RouteConfig = { title: "Encryption", globalAdmin: true };

export default function EncryptionPage() {
  return island(Encryption, {});
}
