import type { PageProps, RouteConfig } from "../console/pages.ts";
import { island } from "../console/island.tsx";
import LoginForm from "../islands/LoginForm.tsx";

export const config: RouteConfig = { public: true, guestOnly: true, title: "Sign in" };

export default function Login({ search }: PageProps) {
  const q = new URLSearchParams(search);
  return (
    <div class="center">
      {island(LoginForm, { next: q.get("next") ?? "/", step: q.get("step") ?? "" })}
    </div>
  );
}
