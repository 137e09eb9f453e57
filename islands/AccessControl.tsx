/**
 * Groups and policies (admins): groups with members; AWS-style JSON policies attached to users
 * and groups; the policy simulator; a tenant administrator's own tenant's public access block.
 * Grants per bucket live in the buckets page's permissions dialog.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { useActions } from "./lib/actions.ts";
import { api, listOf } from "./lib/api.ts";
import { Alerts, Chip, formField, Loading } from "./lib/ui.tsx";
import { PolicySimulator } from "./lib/PolicySimulator.tsx";
import { TenantPublicAccess } from "./lib/TenantPublicAccess.tsx";

interface User {
  id: string;
  username: string;
  tenantId: string | null;
}

interface Group {
  id: string;
  tenantId: string | null;
  name: string;
  description?: string;
  members: string[];
}

interface Policy {
  id: string;
  tenantId: string | null;
  name: string;
  document: unknown;
  attachments: { users: string[]; groups: string[] };
}

export interface AccessControlProps extends Record<string, unknown> {
  globalAdmin: boolean;
  /** The administrator's tenant (null for global administrators). */
  tenantId: string | null;
  /** The operations the policy simulator offers. */
  ops: string[];
}

const TEMPLATE = JSON.stringify(
  {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:ListBucket"],
      Resource: ["arn:aws:s3:::example-bucket", "arn:aws:s3:::example-bucket/*"],
    }],
  },
  null,
  2,
);

export default function AccessControl({ globalAdmin, tenantId, ops }: AccessControlProps) {
  const users = useSignal<User[]>([]);
  const groups = useSignal<Group[] | null>(null);
  const policies = useSignal<Policy[] | null>(null);
  const tenants = useSignal<{ id: string; name: string }[]>([]);
  const editing = useSignal<string | null>(null);
  const createOpen = useSignal(false);
  // Reloads after every change (load is defined below; the arrow reads it when an action runs).
  const { error, notice, act } = useActions(() => load());

  const load = async () => {
    try {
      const [u, g, p] = await Promise.all([api("users"), api("groups"), api("policies")]);
      users.value = listOf<User>(u);
      groups.value = listOf<Group>(g);
      policies.value = listOf<Policy>(p);
    } catch (e) {
      error.value = (e as Error).message;
    }
  };
  useEffect(() => {
    load();
    if (globalAdmin) api("tenants").then((t) => tenants.value = listOf(t)).catch(() => {});
  }, []);

  const tenantName = (id: string | null) =>
    id ? tenants.value.find((t) => t.id === id)?.name ?? id : "global";
  const userName = (id: string) => users.value.find((u) => u.id === id)?.username ?? id;
  const groupName = (id: string) => groups.value?.find((g) => g.id === id)?.name ?? id;
  const sameTenant = (t: string | null) => (u: { tenantId: string | null }) =>
    (u.tenantId ?? null) === (t ?? null);
  const enc = encodeURIComponent;

  const createGroup = (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const body: Record<string, string> = {
      name: String(f.get("name")),
      description: String(f.get("description") ?? ""),
    };
    if (f.get("tenantId")) body.tenantId = String(f.get("tenantId"));
    act(async () => {
      await api("groups", { body });
      form.reset();
    }, `Group ${body.name} created.`);
  };

  const createPolicy = (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    let document: unknown;
    try {
      document = JSON.parse(String(f.get("document")));
    } catch (e) {
      error.value = `The policy is not valid JSON: ${(e as Error).message}`;
      return;
    }
    const body: Record<string, unknown> = { name: String(f.get("name")), document };
    if (f.get("tenantId")) body.tenantId = String(f.get("tenantId"));
    act(async () => {
      await api("policies", { body });
      form.reset();
    }, `Policy ${body.name} created.`);
  };

  const detach = (p: Policy, kind: "users" | "groups", id: string) =>
    act(
      () => api(`policies/${enc(p.id)}/attachments/${kind}/${enc(id)}`, { method: "DELETE" }),
      "Detached.",
    );

  const saveDocument = (p: Policy) => (ev: Event) => {
    ev.preventDefault();
    const text = formField(ev, "document");
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (e) {
      error.value = `The policy is not valid JSON: ${(e as Error).message}`;
      return;
    }
    act(async () => {
      await api(`policies/${enc(p.id)}`, { method: "PATCH", body: { document } });
      editing.value = null;
    }, `Policy ${p.name} saved.`);
  };

  const tenantField = globalAdmin && tenants.value.length > 0 && (
    <label>
      Tenant
      <select name="tenantId">
        <option value="">(global)</option>
        {tenants.value.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
      </select>
    </label>
  );

  return (
    <div>
      <Alerts error={error.value} notice={notice.value} />
      <div class="panel">
        <h2>Groups</h2>
        <form class="row" onSubmit={createGroup} id="create-group">
          <label>
            Name <input name="name" required />
          </label>
          <label>
            Description <input name="description" />
          </label>
          {tenantField}
          <button class="primary" type="submit">Create group</button>
        </form>
        {groups.value === null ? <Loading /> : (
          <div class="cards wide mt">
            {groups.value.length === 0 && <p>No groups yet.</p>}
            {groups.value.map((g) => (
              <div class="card" key={g.id} data-group={g.name}>
                <div class="row spread">
                  <strong>{g.name}</strong>
                  <button
                    type="button"
                    onClick={() =>
                      confirm(`Delete group ${g.name}?`) &&
                      act(() => api(`groups/${enc(g.id)}`, { method: "DELETE" }), "Group deleted.")}
                  >
                    Delete<span class="sr-only">group {g.name}</span>
                  </button>
                </div>
                <div class="hint">
                  {globalAdmin && <>tenant {tenantName(g.tenantId)}</>}
                  {globalAdmin && g.description && " · "}
                  {g.description}
                </div>
                <ul class="chips">
                  {g.members.map((m) => (
                    <Chip
                      key={m}
                      label={userName(m)}
                      removeLabel={`Remove ${userName(m)} from ${g.name}`}
                      onRemove={() =>
                        act(
                          () => api(`groups/${enc(g.id)}/members/${enc(m)}`, { method: "DELETE" }),
                          "Member removed.",
                        )}
                    />
                  ))}
                </ul>
                <form
                  class="row"
                  onSubmit={(ev) => {
                    ev.preventDefault();
                    const id = formField(ev, "userId");
                    if (id) {
                      act(
                        () => api(`groups/${enc(g.id)}/members/${enc(id)}`, { method: "PUT" }),
                        "Member added.",
                      );
                    }
                  }}
                >
                  <label class="row">
                    <span class="sr-only">User to add to {g.name}</span>
                    <select name="userId" aria-label={`User to add to ${g.name}`}>
                      {users.value.filter(sameTenant(g.tenantId))
                        .filter((u) => !g.members.includes(u.id))
                        .map((u) => <option key={u.id} value={u.id}>{u.username}</option>)}
                    </select>
                  </label>
                  <button type="submit">Add member</button>
                </form>
              </div>
            ))}
          </div>
        )}
      </div>
      <div class="panel">
        <h2>Policies</h2>
        <p class="hint">
          AWS-style JSON: Effect, Action, Resource, Condition (e.g. aws:SourceIp, s3:prefix). An
          explicit Deny wins. See docs/security.md.
        </p>
        <details
          open={createOpen.value}
          onToggle={(e) => createOpen.value = (e.currentTarget as HTMLDetailsElement).open}
        >
          <summary>Create policy</summary>
          <form class="stack" onSubmit={createPolicy} id="create-policy">
            <label>
              Name <input name="name" required />
            </label>
            {tenantField}
            <label>
              Document
              <textarea name="document" rows={12} class="mono" value={TEMPLATE} />
            </label>
            <div>
              <button class="primary" type="submit">Create policy</button>
            </div>
          </form>
        </details>
        {policies.value === null ? <Loading /> : (
          <div class="stack-wide mt">
            {policies.value.length === 0 && <p>No policies yet.</p>}
            {policies.value.map((p) => (
              <div class="card" key={p.id} data-policy={p.name}>
                <div class="row spread">
                  <strong>{p.name}</strong>
                  <div class="row">
                    <button
                      type="button"
                      onClick={() => editing.value = editing.value === p.id ? null : p.id}
                    >
                      {editing.value === p.id ? "Cancel" : "Edit"}
                    </button>
                    <button
                      type="button"
                      onClick={() =>
                        confirm(`Delete policy ${p.name}?`) &&
                        act(
                          () => api(`policies/${enc(p.id)}`, { method: "DELETE" }),
                          "Policy deleted.",
                        )}
                    >
                      Delete<span class="sr-only">policy {p.name}</span>
                    </button>
                  </div>
                </div>
                {editing.value === p.id
                  ? (
                    <form class="stack" onSubmit={saveDocument(p)}>
                      <label>
                        <span class="sr-only">Policy document</span>
                        <textarea
                          name="document"
                          rows={12}
                          class="mono"
                          value={JSON.stringify(p.document, null, 2)}
                        />
                      </label>
                      <div>
                        <button class="primary" type="submit">Save</button>
                      </div>
                    </form>
                  )
                  : <pre class="mono policy">{JSON.stringify(p.document, null, 2)}</pre>}
                <div class="hint">Attached to:</div>
                <ul class="chips">
                  {p.attachments.users.map((id) => (
                    <Chip
                      key={`u${id}`}
                      label={`user ${userName(id)}`}
                      removeLabel={`Detach from ${userName(id)}`}
                      onRemove={() => detach(p, "users", id)}
                    />
                  ))}
                  {p.attachments.groups.map((id) => (
                    <Chip
                      key={`g${id}`}
                      label={`group ${groupName(id)}`}
                      removeLabel={`Detach from group ${groupName(id)}`}
                      onRemove={() => detach(p, "groups", id)}
                    />
                  ))}
                </ul>
                <form
                  class="row"
                  onSubmit={(ev) => {
                    ev.preventDefault();
                    const v = formField(ev, "target");
                    const [kind, id] = [v.slice(0, 1), v.slice(2)];
                    if (!id) return;
                    const path = kind === "u" ? "users" : "groups";
                    act(
                      () =>
                        api(`policies/${enc(p.id)}/attachments/${path}/${enc(id)}`, {
                          method: "PUT",
                        }),
                      "Attached.",
                    );
                  }}
                >
                  <select name="target" aria-label={`Attach ${p.name} to`}>
                    {users.value.filter(sameTenant(p.tenantId))
                      .filter((u) => !p.attachments.users.includes(u.id))
                      .map((u) => <option key={u.id} value={`u:${u.id}`}>user {u.username}
                      </option>)}
                    {(groups.value ?? []).filter(sameTenant(p.tenantId))
                      .filter((g) => !p.attachments.groups.includes(g.id))
                      .map((g) => <option key={g.id} value={`g:${g.id}`}>group {g.name}</option>)}
                  </select>
                  <button type="submit">Attach</button>
                </form>
              </div>
            ))}
          </div>
        )}
      </div>
      <PolicySimulator ops={ops} />
      {tenantId && (
        <TenantPublicAccess tenantId={tenantId} title="Block public access (this tenant)" />
      )}
    </div>
  );
}
