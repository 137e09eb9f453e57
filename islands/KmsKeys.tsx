/**
 * Encryption keys of the key service (SSE-KMS): the namespace's keys with their ARN, state and
 * versions; administrators create them (with an id such as `testkey-1`, or a generated one),
 * disable, enable and rotate them. Global administrators pick the namespace: global or a tenant.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { loadList, useActions } from "./lib/actions.ts";
import { api, formatTime, listOf } from "./lib/api.ts";
import { ActionsTh, Alerts, Loading, NamespacePicker } from "./lib/ui.tsx";

interface KmsKey {
  id: string;
  arn: string;
  ns: string;
  description: string;
  state: "Enabled" | "Disabled";
  created: number;
  versions: number;
  rotated?: number;
}

export interface KmsKeysProps extends Record<string, unknown> {
  admin: boolean;
  globalAdmin: boolean;
}

export default function KmsKeys({ admin, globalAdmin }: KmsKeysProps) {
  const keys = useSignal<KmsKey[] | null>(null);
  const tenants = useSignal<{ id: string; name: string }[]>([]);
  /** The namespace a global admin looks at ("" global). */
  const tenantId = useSignal("");
  const loadError = useSignal("");

  const load = () =>
    loadList(keys, loadError, "kms/keys", globalAdmin ? { tenantId: tenantId.value } : undefined);
  const { error, notice, act } = useActions(load);
  useEffect(() => {
    load();
    if (globalAdmin) api("tenants").then((t) => tenants.value = listOf(t)).catch(() => {});
  }, []);

  const scope = () => globalAdmin && tenantId.value ? { tenantId: tenantId.value } : undefined;
  const create = (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const id = String(f.get("id") ?? "").trim();
    const description = String(f.get("description") ?? "");
    return act(async () => {
      await api("kms/keys", { body: { ...(id ? { id } : {}), description, ...scope() } });
      form.reset();
    }, id ? `Key ${id} created` : "Key created");
  };
  const change = (k: KmsKey, action: "enable" | "disable" | "rotate", done: string) =>
    act(
      () =>
        api(`kms/keys/${encodeURIComponent(k.id)}/${action}`, {
          method: "POST",
          query: scope(),
        }),
      done,
    );

  return (
    <div>
      <Alerts error={error.value || loadError.value} notice={notice.value} />
      <p class="hint">
        SSE-KMS writes name one of these keys (by id or ARN) in{" "}
        <code>x-amz-server-side-encryption-aws-kms-key-id</code>; a write that names none uses the
        namespace's default key, created at its first use. A disabled key refuses new writes and
        reads of the objects it protects until it is enabled again. Rotating adds new key material
        for new objects; older objects stay readable.
      </p>
      {globalAdmin && (
        <NamespacePicker
          id="kms-namespace"
          tenants={tenants.value}
          value={tenantId.value}
          onChange={(id) => {
            tenantId.value = id;
            keys.value = null;
            load();
          }}
        />
      )}
      {admin && (
        <div class="panel">
          <h2>Create key</h2>
          <form class="row" onSubmit={create} id="create-kms-key">
            <label>
              Key id <span class="hint">(empty = generated)</span>
              <input
                name="id"
                placeholder="testkey-1"
                pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}"
              />
            </label>
            <label>
              Description
              <input name="description" placeholder="backups" />
            </label>
            <button class="primary" type="submit">Create key</button>
          </form>
        </div>
      )}
      <div class="panel table-wrap">
        {keys.value === null
          ? <Loading />
          : keys.value.length === 0
          ? <p>No keys yet.</p>
          : (
            <table id="kms-key-table">
              <thead>
                <tr>
                  <th>Key</th>
                  <th>Description</th>
                  <th>State</th>
                  <th>Versions</th>
                  <th class="hide-sm">Created</th>
                  <th class="hide-sm">Rotated</th>
                  {admin && <ActionsTh />}
                </tr>
              </thead>
              <tbody>
                {keys.value.map((k) => (
                  <tr key={k.arn} data-kms-key={k.id}>
                    <td>
                      <code>{k.id}</code>
                      <div class="hint">
                        <code>{k.arn}</code>
                      </div>
                    </td>
                    <td>{k.description || "—"}</td>
                    <td>
                      <span class={`badge ${k.state === "Enabled" ? "ok" : "bad"}`}>
                        {k.state}
                      </span>
                    </td>
                    <td>{k.versions}</td>
                    <td class="hide-sm">{formatTime(k.created)}</td>
                    <td class="hide-sm">{k.rotated ? formatTime(k.rotated) : "never"}</td>
                    {admin && (
                      <td>
                        <div class="row">
                          {k.state === "Enabled"
                            ? (
                              <button
                                type="button"
                                onClick={() => {
                                  if (
                                    confirm(
                                      `Disable key ${k.id}? Objects it protects cannot be read until it is enabled again.`,
                                    )
                                  ) change(k, "disable", `Key ${k.id} disabled`);
                                }}
                              >
                                Disable
                              </button>
                            )
                            : (
                              <button
                                type="button"
                                onClick={() => change(k, "enable", `Key ${k.id} enabled`)}
                              >
                                Enable
                              </button>
                            )}
                          <button
                            type="button"
                            onClick={() => change(k, "rotate", `Key ${k.id} rotated`)}
                          >
                            Rotate
                          </button>
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </div>
    </div>
  );
}
