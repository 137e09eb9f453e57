/** Users (admins): list, create, disable/enable, unlock, reset password, reset 2FA, delete. */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { loadList, useActions } from "./lib/actions.ts";
import { api, formatTime, listOf } from "./lib/api.ts";
import { ActionsTh, Alerts, CreatePanel, Loading } from "./lib/ui.tsx";

interface User {
  id: string;
  username: string;
  displayName?: string;
  role: string;
  tenantId: string | null;
  status: string;
  totpEnabled?: boolean;
  lockedUntil?: number | null;
  lastLoginAt?: number | null;
}

export interface UsersProps extends Record<string, unknown> {
  globalAdmin: boolean;
  selfId: string;
}

export default function Users({ globalAdmin, selfId }: UsersProps) {
  /** The create form stays open across re-renders (it is a controlled <details>). */
  const createOpen = useSignal(false);
  const users = useSignal<User[] | null>(null);
  const tenants = useSignal<{ id: string; name: string }[]>([]);
  // Reloads after every change (load is defined below; the arrow reads it when an action runs).
  const { error, notice, act } = useActions(() => load());

  const load = () => loadList(users, error, "users");
  useEffect(() => {
    load();
    if (globalAdmin) api("tenants").then((t) => tenants.value = listOf(t)).catch(() => {});
  }, []);

  const create = (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const body: Record<string, unknown> = {
      username: String(f.get("username")),
      password: String(f.get("password")),
      role: String(f.get("role")),
      displayName: String(f.get("displayName") ?? ""),
      mustChangePassword: f.get("mustChange") === "on",
    };
    const tenantId = String(f.get("tenantId") ?? "");
    if (tenantId) body.tenantId = tenantId;
    act(async () => {
      await api("users", { body });
      form.reset();
    }, `User ${body.username} created.`);
  };

  const tenantName = (id: string | null) =>
    id ? tenants.value.find((t) => t.id === id)?.name ?? id : "global";
  const u = (id: string) => `users/${encodeURIComponent(id)}`;

  return (
    <div>
      <Alerts error={error.value} notice={notice.value} />
      <CreatePanel open={createOpen} title="Create user">
        <form class="stack" onSubmit={create}>
          <label>
            Username <input name="username" required autocomplete="off" />
          </label>
          <label>
            Display name <input name="displayName" />
          </label>
          <label>
            Initial password{" "}
            <input name="password" type="password" required autocomplete="new-password" />
          </label>
          <label>
            Role
            <select name="role">
              <option value="tenant_user">Tenant user</option>
              <option value="tenant_admin">Tenant admin</option>
              {globalAdmin && <option value="global_admin">Global admin</option>}
            </select>
          </label>
          {globalAdmin && (
            <label>
              Tenant
              <select name="tenantId">
                <option value="">(none — global)</option>
                {tenants.value.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
              </select>
            </label>
          )}
          <label class="check">
            <input type="checkbox" name="mustChange" checked />{" "}
            Must change the password at first sign-in
          </label>
          <div>
            <button class="primary" type="submit">Create user</button>
          </div>
        </form>
      </CreatePanel>
      <div class="panel table-wrap">
        {users.value === null ? <Loading /> : (
          <table>
            <thead>
              <tr>
                <th>User</th>
                <th>Role</th>
                <th class="hide-sm">Tenant</th>
                <th>Status</th>
                <th class="hide-sm">Last sign-in</th>
                <ActionsTh />
              </tr>
            </thead>
            <tbody>
              {users.value.map((x) => {
                const locked = !!x.lockedUntil && x.lockedUntil > Date.now();
                return (
                  <tr key={x.id}>
                    <td>
                      <strong>{x.username}</strong>
                      {x.displayName && <div class="hint">{x.displayName}</div>}
                    </td>
                    <td>
                      {x.id === selfId ? x.role.replace(/_/g, " ") : (
                        <select
                          aria-label={`Role of ${x.username}`}
                          value={x.role}
                          onChange={(e) =>
                            act(
                              () =>
                                api(u(x.id), {
                                  method: "PATCH",
                                  body: { role: (e.currentTarget as HTMLSelectElement).value },
                                }),
                              `Role of ${x.username} changed.`,
                            )}
                        >
                          <option value="tenant_user">tenant user</option>
                          <option value="tenant_admin">tenant admin</option>
                          {(globalAdmin || x.role === "global_admin") && (
                            <option value="global_admin">global admin</option>
                          )}
                        </select>
                      )}
                    </td>
                    <td class="hide-sm">{tenantName(x.tenantId)}</td>
                    <td>
                      <span class={`badge ${x.status === "active" ? "ok" : "bad"}`}>
                        {x.status}
                      </span>
                      {locked && <span class="badge bad">locked</span>}
                      {x.totpEnabled && <span class="badge">2FA</span>}
                    </td>
                    <td class="hide-sm">{x.lastLoginAt ? formatTime(x.lastLoginAt) : "never"}</td>
                    <td>
                      <div class="row">
                        {x.id !== selfId && (
                          <button
                            type="button"
                            onClick={() =>
                              act(
                                () =>
                                  api(u(x.id), {
                                    method: "PATCH",
                                    body: { status: x.status === "active" ? "disabled" : "active" },
                                  }),
                                `User ${x.username} updated.`,
                              )}
                          >
                            {x.status === "active" ? "Disable" : "Enable"}
                          </button>
                        )}
                        {locked && (
                          <button
                            type="button"
                            onClick={() =>
                              act(() => api(`${u(x.id)}/unlock`, { body: {} }), "Unlocked.")}
                          >
                            Unlock
                          </button>
                        )}
                        <button
                          type="button"
                          onClick={() => {
                            const pw = prompt(`New password for ${x.username}`);
                            if (pw) {
                              act(
                                () =>
                                  api(`${u(x.id)}/password`, {
                                    body: { password: pw, mustChangePassword: true },
                                  }),
                                "Password reset; the user must change it at next sign-in.",
                              );
                            }
                          }}
                        >
                          Reset password
                        </button>
                        {x.totpEnabled && (
                          <button
                            type="button"
                            onClick={() =>
                              act(() => api(`${u(x.id)}/2fa/reset`, { body: {} }), "2FA reset.")}
                          >
                            Reset 2FA
                          </button>
                        )}
                        {x.id !== selfId && (
                          <button
                            type="button"
                            onClick={() =>
                              confirm(`Delete user ${x.username} with its access keys?`) &&
                              act(
                                () => api(u(x.id), { method: "DELETE" }),
                                `User ${x.username} deleted.`,
                              )}
                          >
                            Delete
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
