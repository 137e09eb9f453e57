/** Tenants (global admins): quotas and usage, create, edit quotas, suspend, delete. */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { loadList, useActions } from "./lib/actions.ts";
import { api, formatTime } from "./lib/api.ts";
import { TenantQuotas } from "./Dashboard.tsx";
import { Alerts, CreatePanel, Loading } from "./lib/ui.tsx";
import { TenantPublicAccess } from "./lib/TenantPublicAccess.tsx";

interface Tenant {
  id: string;
  name: string;
  displayName?: string;
  status: string;
  createdAt?: number;
  quota?: { maxBytes: number | null; maxBuckets: number | null; maxAccessKeys: number | null };
  usage?: { bytes: number; buckets: number; accessKeys: number };
}

const GIB = 1024 ** 3;

function quotaFrom(f: FormData) {
  const num = (k: string, scale = 1) => {
    const v = String(f.get(k) ?? "").trim();
    return v === "" ? null : Math.round(Number(v) * scale);
  };
  return {
    maxBytes: num("maxGiB", GIB),
    maxBuckets: num("maxBuckets"),
    maxAccessKeys: num("maxKeys"),
  };
}

function QuotaFields({ t }: { t?: Tenant }) {
  const q = t?.quota;
  return (
    <>
      <label>
        Storage quota (GiB) <span class="hint">empty = unlimited</span>
        <input
          name="maxGiB"
          type="number"
          min="0"
          step="any"
          value={q?.maxBytes ? q.maxBytes / GIB : ""}
        />
      </label>
      <label>
        Max buckets <input name="maxBuckets" type="number" min="0" value={q?.maxBuckets ?? ""} />
      </label>
      <label>
        Max access keys{" "}
        <input name="maxKeys" type="number" min="0" value={q?.maxAccessKeys ?? ""} />
      </label>
    </>
  );
}

export default function Tenants(_props: Record<string, unknown>) {
  /** The create form stays open across re-renders (it is a controlled <details>). */
  const createOpen = useSignal(false);
  const tenants = useSignal<Tenant[] | null>(null);
  const editing = useSignal<string | null>(null);
  /** The tenant whose public access block is open. */
  const blockOf = useSignal<string | null>(null);
  const actions = useActions(() => load());
  const { error, notice } = actions;
  const load = () => loadList(tenants, error, "tenants");
  useEffect(() => {
    load();
  }, []);

  // A change that went through also closes the quota editor.
  const act = (fn: () => Promise<unknown>, ok: string) =>
    actions.act(async () => {
      await fn();
      editing.value = null;
    }, ok);

  const create = (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const name = String(f.get("name"));
    act(async () => {
      await api("tenants", {
        body: { name, displayName: String(f.get("displayName") ?? ""), quota: quotaFrom(f) },
      });
      form.reset();
    }, `Tenant ${name} created.`);
  };

  const save = (t: Tenant) => (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    act(
      () =>
        api(`tenants/${encodeURIComponent(t.id)}`, {
          method: "PATCH",
          body: { quota: quotaFrom(f) },
        }),
      `Quotas of ${t.name} saved.`,
    );
  };

  return (
    <div>
      <Alerts error={error.value} notice={notice.value} />
      <CreatePanel open={createOpen} title="Create tenant">
        <form class="stack" onSubmit={create}>
          <label>
            Name <input name="name" required pattern="[a-z0-9][a-z0-9\-]{1,62}" />
            <span class="hint">Lowercase letters, digits and hyphens.</span>
          </label>
          <label>
            Display name <input name="displayName" />
          </label>
          <QuotaFields />
          <div>
            <button class="primary" type="submit">Create tenant</button>
          </div>
        </form>
      </CreatePanel>
      {tenants.value === null ? <Loading /> : (
        <div class="cards wide">
          {tenants.value.length === 0 && <p>No tenants yet.</p>}
          {tenants.value.map((t) => (
            <div class="card" key={t.id}>
              <div class="row spread">
                <strong>{t.displayName || t.name}</strong>
                <span class={`badge ${t.status === "active" ? "ok" : "bad"}`}>{t.status}</span>
              </div>
              <div class="hint">
                <code>{t.name}</code> · created {formatTime(t.createdAt)}
              </div>
              <TenantQuotas t={t} />
              {editing.value === t.id
                ? (
                  <form class="stack" onSubmit={save(t)}>
                    <QuotaFields t={t} />
                    <div class="row">
                      <button class="primary" type="submit">Save</button>
                      <button type="button" onClick={() => editing.value = null}>Cancel</button>
                    </div>
                  </form>
                )
                : (
                  <div class="row mt">
                    <button type="button" onClick={() => editing.value = t.id}>Edit quotas</button>
                    <button
                      type="button"
                      onClick={() => blockOf.value = blockOf.value === t.id ? null : t.id}
                    >
                      Public access<span class="sr-only">of tenant {t.name}</span>
                    </button>
                    <button
                      type="button"
                      onClick={() =>
                        act(
                          () =>
                            api(`tenants/${encodeURIComponent(t.id)}`, {
                              method: "PATCH",
                              body: { status: t.status === "active" ? "suspended" : "active" },
                            }),
                          `Tenant ${t.name} updated.`,
                        )}
                    >
                      {t.status === "active" ? "Suspend" : "Activate"}
                    </button>
                    <button
                      type="button"
                      onClick={() =>
                        confirm(`Delete tenant ${t.name} with its users and keys?`) &&
                        act(
                          () => api(`tenants/${encodeURIComponent(t.id)}`, { method: "DELETE" }),
                          `Tenant ${t.name} deleted.`,
                        )}
                    >
                      Delete
                    </button>
                  </div>
                )}
              {blockOf.value === t.id && (
                <TenantPublicAccess tenantId={t.id} title={`Block public access (${t.name})`} />
              )}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
