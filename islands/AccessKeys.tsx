/** Access keys: create (the secret is shown once, with copy buttons), disable/enable, delete. */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { loadList } from "./lib/actions.ts";
import { api, formatTime } from "./lib/api.ts";
import { ActionsTh, Alerts, Loading } from "./lib/ui.tsx";

interface AccessKey {
  accessKeyId: string;
  userId: string;
  status: "active" | "inactive";
  description?: string;
  createdAt?: number;
  lastUsedAt?: number | null;
  secretAccessKey?: string;
}

export interface AccessKeysProps extends Record<string, unknown> {
  admin: boolean;
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const copied = useSignal(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard API needs a secure context; fall back to selecting the text.
      const r = document.createRange();
      const el = document.querySelector(`[data-copy="${label}"]`);
      if (el) {
        r.selectNodeContents(el);
        getSelection()?.removeAllRanges();
        getSelection()?.addRange(r);
        document.execCommand("copy");
      }
    }
    copied.value = true;
    setTimeout(() => copied.value = false, 2000);
  };
  return (
    <button type="button" onClick={copy} aria-label={`Copy ${label}`}>
      {copied.value ? "Copied" : "Copy"}
    </button>
  );
}

/** A user an administrator may create keys for, as the users API lists them. */
interface KeyOwner {
  id: string;
  username: string;
  tenantId: string | null;
}

export default function AccessKeys({ admin }: AccessKeysProps) {
  const keys = useSignal<AccessKey[] | null>(null);
  const owners = useSignal<KeyOwner[] | null>(null);
  const error = useSignal("");
  const created = useSignal<AccessKey | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  const load = () => loadList(keys, error, "access-keys");
  useEffect(() => {
    load();
    if (admin) loadList(owners, error, "users");
  }, []);
  const ownerName = (id: string) => owners.value?.find((u) => u.id === id)?.username ?? id;

  const create = async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    error.value = "";
    try {
      const body: Record<string, string> = { description: String(f.get("description") ?? "") };
      const userId = String(f.get("userId") ?? "").trim();
      if (userId) body.userId = userId;
      created.value = await api<AccessKey>("access-keys", { body });
      form.reset();
      dialog.current?.showModal();
      await load();
    } catch (e) {
      error.value = (e as Error).message;
    }
  };

  const setStatus = async (k: AccessKey, status: "active" | "inactive") => {
    try {
      await api(`access-keys/${encodeURIComponent(k.accessKeyId)}`, {
        method: "PATCH",
        body: { status },
      });
      await load();
    } catch (e) {
      error.value = (e as Error).message;
    }
  };

  const remove = async (k: AccessKey) => {
    if (!confirm(`Delete access key ${k.accessKeyId}? Clients using it stop working at once.`)) {
      return;
    }
    try {
      await api(`access-keys/${encodeURIComponent(k.accessKeyId)}`, { method: "DELETE" });
      await load();
    } catch (e) {
      error.value = (e as Error).message;
    }
  };

  const c = created.value;
  return (
    <div>
      <Alerts error={error.value} />
      <div class="panel">
        <h2>Create access key</h2>
        <form class="row" onSubmit={create} id="create-key">
          <label>
            Description
            <input name="description" placeholder="backup job" />
          </label>
          {admin && (
            <label>
              For user
              <select name="userId" id="key-owner">
                <option value="">Yourself</option>
                {(owners.value ?? []).map((u) => (
                  <option key={u.id} value={u.id}>{u.username}</option>
                ))}
              </select>
            </label>
          )}
          <button class="primary" type="submit">Create access key</button>
        </form>
      </div>
      <div class="panel table-wrap">
        {keys.value === null
          ? <Loading />
          : keys.value.length === 0
          ? <p>No access keys yet.</p>
          : (
            <table id="key-table">
              <thead>
                <tr>
                  <th>Access key</th>
                  <th>Description</th>
                  {admin && <th class="hide-sm">User</th>}
                  <th>Status</th>
                  <th class="hide-sm">Created</th>
                  <th class="hide-sm">Last used</th>
                  <ActionsTh />
                </tr>
              </thead>
              <tbody>
                {keys.value.map((k) => (
                  <tr key={k.accessKeyId} data-key-id={k.accessKeyId}>
                    <td>
                      <code>{k.accessKeyId}</code>
                    </td>
                    <td>{k.description || "—"}</td>
                    {admin && <td class="hide-sm" title={k.userId}>{ownerName(k.userId)}</td>}
                    <td>
                      <span class={`badge ${k.status === "active" ? "ok" : "bad"}`}>
                        {k.status}
                      </span>
                    </td>
                    <td class="hide-sm">{formatTime(k.createdAt)}</td>
                    <td class="hide-sm">{k.lastUsedAt ? formatTime(k.lastUsedAt) : "never"}</td>
                    <td>
                      <div class="row">
                        {k.status === "active"
                          ? (
                            <button type="button" onClick={() => setStatus(k, "inactive")}>
                              Disable
                            </button>
                          )
                          : (
                            <button type="button" onClick={() => setStatus(k, "active")}>
                              Enable
                            </button>
                          )}
                        <button type="button" onClick={() => remove(k)}>Delete</button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </div>
      <dialog ref={dialog} aria-labelledby="secret-title" id="secret-dialog">
        <h2 id="secret-title">New access key</h2>
        <div class="alert warn">
          The secret is shown only now. Copy it and store it safely; it cannot be shown again.
        </div>
        {c && (
          <div class="stack">
            <div>
              <div class="hint">Access key ID</div>
              <div class="secret">
                <code data-copy="access key id" id="new-key-id">{c.accessKeyId}</code>
                <CopyButton text={c.accessKeyId} label="access key id" />
              </div>
            </div>
            <div>
              <div class="hint">Secret access key</div>
              <div class="secret">
                <code data-copy="secret access key" id="new-key-secret">{c.secretAccessKey}</code>
                <CopyButton text={c.secretAccessKey ?? ""} label="secret access key" />
              </div>
            </div>
          </div>
        )}
        <div class="row mt">
          <button
            type="button"
            class="primary"
            onClick={() => {
              created.value = null;
              dialog.current?.close();
            }}
          >
            I have stored the secret
          </button>
        </div>
      </dialog>
    </div>
  );
}
