/** Top-bar menu: who is signed in, the dark-mode toggle and sign-out. */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api } from "./lib/api.ts";

export interface UserMenuProps extends Record<string, unknown> {
  username: string;
  role: string;
}

type Theme = "light" | "dark" | "system";

function applyTheme(t: Theme) {
  if (t === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
}

export default function UserMenu({ username, role }: UserMenuProps) {
  const theme = useSignal<Theme>("system");
  useEffect(() => {
    const saved = (localStorage.getItem("maxiofs-theme") ?? "system") as Theme;
    theme.value = saved;
    applyTheme(saved);
  }, []);
  const setTheme = (t: Theme) => {
    theme.value = t;
    localStorage.setItem("maxiofs-theme", t);
    applyTheme(t);
  };
  const logout = async () => {
    await api("auth/logout", { method: "POST", body: {} }).catch(() => {});
    location.href = "/login";
  };
  return (
    <div class="user-menu">
      <label class="row">
        <span class="sr-only">Theme</span>
        <select
          aria-label="Theme"
          value={theme.value}
          onChange={(e) => setTheme((e.currentTarget as HTMLSelectElement).value as Theme)}
        >
          <option value="system">System theme</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </label>
      <span class="hide-sm">
        {username} <span class="badge">{role.replace(/_/g, " ")}</span>
      </span>
      <button type="button" onClick={logout}>Sign out</button>
    </div>
  );
}
