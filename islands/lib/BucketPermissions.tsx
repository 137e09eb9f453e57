/** Bucket permissions dialog: grants to users, groups or whole tenants, with optional expiry. */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { api, formatTime, listOf } from "./api.ts";
import { ActionsTh, Alerts, Loading } from "./ui.tsx";

interface Grant {
  id: string;
  subjectType: "user" | "group" | "tenant";
  subjectId: string;
  access: "read" | "write" | "full";
  expiresAt: number | null;
  createdAt?: number;
}

interface Named {
  id: string;
  name?: string;
  username?: string;
}

export interface BucketPermissionsProps {
  bucket: string;
  /** "" = the caller's namespace. */
  tenantId: string;
  onClose: () => void;
}

export default function BucketPermissions({ bucket, tenantId, onClose }: BucketPermissionsProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const grants = useSignal<Grant[] | null>(null);
  const subjects = useSignal<Record<Grant["subjectType"], Named[]>>({
    user: [],
    group: [],
    tenant: [],
  });
  const subjectType = useSignal<Grant["subjectType"]>("user");
  const error = useSignal("");
  const path = `buckets/${encodeURIComponent(bucket)}/permissions`;
  const query = { tenantId };

  const load = async () => {
    try {
      grants.value = listOf<Grant>(await api(path, { query }));
    } catch (e) {
      error.value = (e as Error).message;
      grants.value = [];
    }
  };

  useEffect(() => {
    dialog.current?.showModal();
    load();
    // Subject pickers: whatever the caller may list; ids can always be typed in.
    Promise.all([
      api("users", { query }).then((d) => listOf<Named>(d)).catch(() => []),
      api("groups", { query }).then((d) => listOf<Named>(d)).catch(() => []),
      api("tenants").then((d) => listOf<Named>(d)).catch(() => []),
    ]).then(([user, group, tenant]) => subjects.value = { user, group, tenant });
  }, [bucket]);

  const nameOf = (g: Grant) => {
    const s = subjects.value[g.subjectType].find((x) => x.id === g.subjectId);
    return s?.username ?? s?.name ?? g.subjectId;
  };

  const add = async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const expires = String(f.get("expires") ?? "");
    error.value = "";
    try {
      await api(path, {
        query,
        body: {
          subjectType: subjectType.value,
          subjectId: String(f.get("subjectId") ?? "").trim(),
          access: String(f.get("access")),
          expiresAt: expires ? new Date(expires).getTime() : null,
        },
      });
      form.reset();
      await load();
    } catch (e) {
      error.value = (e as Error).message;
    }
  };

  const remove = async (g: Grant) => {
    try {
      await api(`${path}/${encodeURIComponent(g.id)}`, { method: "DELETE", query });
      await load();
    } catch (e) {
      error.value = (e as Error).message;
    }
  };

  const options = subjects.value[subjectType.value];
  return (
    <dialog ref={dialog} aria-labelledby="perm-title" onClose={onClose} id="permissions-dialog">
      <h2 id="perm-title">Permissions of {bucket}</h2>
      <p class="hint">
        read: list and download · write: also upload and delete · full: also bucket settings and
        deleting the bucket. The owner and administrators always have full access.
      </p>
      <Alerts error={error.value} />
      {grants.value === null ? <Loading /> : grants.value.length === 0 ? <p>No grants.</p> : (
        <table>
          <thead>
            <tr>
              <th>Subject</th>
              <th>Access</th>
              <th>Expires</th>
              <ActionsTh />
            </tr>
          </thead>
          <tbody>
            {grants.value.map((g) => (
              <tr key={g.id} data-grant={g.id}>
                <td>
                  <span class="badge">{g.subjectType}</span> {nameOf(g)}
                </td>
                <td>{g.access}</td>
                <td>{g.expiresAt ? formatTime(g.expiresAt) : "never"}</td>
                <td>
                  <button
                    type="button"
                    onClick={() => remove(g)}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="stack mt" onSubmit={add} id="grant-form">
        <div class="row">
          <label>
            Subject type
            <select
              name="subjectType"
              value={subjectType.value}
              onChange={(e) =>
                subjectType.value = (e.currentTarget as HTMLSelectElement)
                  .value as Grant["subjectType"]}
            >
              <option value="user">User</option>
              <option value="group">Group</option>
              <option value="tenant">Tenant</option>
            </select>
          </label>
          <label>
            Subject
            {options.length > 0
              ? (
                <select name="subjectId" required>
                  {options.map((o) => (
                    <option key={o.id} value={o.id}>{o.username ?? o.name ?? o.id}</option>
                  ))}
                </select>
              )
              : <input name="subjectId" required placeholder="id" />}
          </label>
          <label>
            Access
            <select name="access">
              <option value="read">read</option>
              <option value="write">write</option>
              <option value="full">full</option>
            </select>
          </label>
          <label>
            Expires <span class="hint">(optional)</span>
            <input name="expires" type="datetime-local" />
          </label>
        </div>
        <div class="row">
          <button class="primary" type="submit">Add grant</button>
          <button
            type="button"
            onClick={() =>
              dialog.current?.close()}
          >
            Close
          </button>
        </div>
      </form>
    </dialog>
  );
}
