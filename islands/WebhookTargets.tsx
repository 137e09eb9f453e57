/**
 * Webhook targets of event notifications and the dead-letter list: the namespace's targets with
 * their ARNs and queue figures; administrators register (URL, optional header and signing
 * secret), test and delete them, and retry or discard dead letters. Global administrators pick
 * the namespace: global or a tenant.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { useActions } from "./lib/actions.ts";
import { api, formatTime, listOf } from "./lib/api.ts";
import { ActionsTh, Alerts, Loading, NamespacePicker } from "./lib/ui.tsx";

interface Target {
  ns: string;
  name: string;
  url: string;
  arn: string;
  authHeader: string | null;
  signed: boolean;
  created: number;
  pending: number;
  dead: number;
}

interface DeadLetter {
  id: number;
  ns: string;
  bucket: string;
  key: string;
  event: string;
  configId: string;
  target: { ns: string; name: string };
  attempts: number;
  lastError: string | null;
  queuedAt: number;
}

export interface WebhookTargetsProps extends Record<string, unknown> {
  admin: boolean;
  globalAdmin: boolean;
}

export default function WebhookTargets({ admin, globalAdmin }: WebhookTargetsProps) {
  const targets = useSignal<Target[] | null>(null);
  const dead = useSignal<DeadLetter[] | null>(null);
  const tenants = useSignal<{ id: string; name: string }[]>([]);
  /** The namespace a global admin looks at ("" global). */
  const tenantId = useSignal("");
  const loadError = useSignal("");

  const scope = () => globalAdmin && tenantId.value ? { tenantId: tenantId.value } : undefined;
  /** A global admin's lists without a tenant show the global namespace only. */
  const mine = <T extends { ns: string }>(items: T[]) =>
    globalAdmin ? items.filter((t) => t.ns === tenantId.value) : items;
  const load = async () => {
    try {
      const query = scope();
      const [t, d] = await Promise.all([
        api("notifications/targets", query ? { query } : {}),
        api("notifications/dead-letters", query ? { query } : {}),
      ]);
      targets.value = mine(listOf<Target>(t));
      dead.value = mine(listOf<DeadLetter>(d));
    } catch (e) {
      loadError.value = (e as Error).message;
    }
  };
  const { error, notice, act } = useActions(load);
  useEffect(() => {
    load();
    if (globalAdmin) api("tenants").then((t) => tenants.value = listOf(t)).catch(() => {});
  }, []);

  const create = (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const field = (n: string) => String(f.get(n) ?? "").trim();
    const name = field("name");
    return act(async () => {
      await api("notifications/targets", {
        body: {
          name,
          url: field("url"),
          ...(field("authHeader")
            ? { authHeader: field("authHeader"), authValue: field("authValue") }
            : {}),
          ...(field("secret") ? { secret: field("secret") } : {}),
          ...scope(),
        },
      });
      form.reset();
    }, `Target ${name} registered`);
  };
  const test = (t: Target) =>
    act(async () => {
      const r = await api(`notifications/targets/${encodeURIComponent(t.name)}/test`, {
        method: "POST",
        query: scope(),
      }) as { ok: boolean; status?: number; error?: string };
      if (!r.ok) throw new Error(`Test event to ${t.name} failed: ${r.error}`);
    }, `Test event delivered to ${t.name}`);
  const remove = (t: Target) => {
    if (!confirm(`Delete target ${t.name}? Notifications naming it become dead letters.`)) return;
    act(
      () =>
        api(`notifications/targets/${encodeURIComponent(t.name)}`, {
          method: "DELETE",
          query: scope(),
        }),
      `Target ${t.name} deleted`,
    );
  };
  const deadAction = (action: "retry" | "discard", ids: number[] | null, done: string) =>
    act(
      () =>
        api(`notifications/dead-letters/${action}`, {
          // A global administrator acts on the namespace shown ("" global).
          body: { ...(ids ? { ids } : {}), ...(globalAdmin ? { tenantId: tenantId.value } : {}) },
        }),
      done,
    );

  return (
    <div>
      <Alerts error={error.value || loadError.value} notice={notice.value} />
      <p class="hint">
        Bucket notification configurations name a target by ARN (the Queue form is shown;{" "}
        <code>sns</code> and <code>lambda</code> in place of <code>sqs</code>{" "}
        name the same target). Events are POSTed as JSON; a delivery that fails is retried with
        growing delays, and after its last attempt it waits in the dead-letter list below.
      </p>
      {globalAdmin && (
        <NamespacePicker
          id="targets-namespace"
          tenants={tenants.value}
          value={tenantId.value}
          onChange={(id) => {
            tenantId.value = id;
            targets.value = null;
            dead.value = null;
            load();
          }}
        />
      )}
      {admin && (
        <div class="panel">
          <h2>Register target</h2>
          <form class="row" onSubmit={create} id="create-target">
            <label>
              Name
              <input name="name" required pattern="[A-Za-z0-9_\-]{1,80}" placeholder="thumbnails" />
            </label>
            <label>
              URL
              <input name="url" required type="url" placeholder="https://hooks.example.com/s3" />
            </label>
            <label>
              Header <span class="hint">(optional)</span>
              <input name="authHeader" placeholder="Authorization" />
            </label>
            <label>
              Header value
              <input name="authValue" type="password" autoComplete="off" />
            </label>
            <label>
              Signing secret <span class="hint">(optional)</span>
              <input name="secret" type="password" autoComplete="off" />
            </label>
            <button class="primary" type="submit">Register</button>
          </form>
        </div>
      )}
      <div class="panel table-wrap">
        {targets.value === null
          ? <Loading />
          : targets.value.length === 0
          ? <p>No webhook targets yet.</p>
          : (
            <table id="target-table">
              <thead>
                <tr>
                  <th>Target</th>
                  <th>URL</th>
                  <th>Queued</th>
                  <th>Dead</th>
                  <th class="hide-sm">Created</th>
                  {admin && <ActionsTh />}
                </tr>
              </thead>
              <tbody>
                {targets.value.map((t) => (
                  <tr key={t.arn} data-target={t.name}>
                    <td>
                      <code>{t.name}</code>
                      <div class="hint">
                        <code>{t.arn}</code>
                      </div>
                    </td>
                    <td>
                      <code>{t.url}</code>
                      {t.authHeader && <div class="hint">header {t.authHeader}</div>}
                      {t.signed && <div class="hint">signed</div>}
                    </td>
                    <td>{t.pending}</td>
                    <td>{t.dead}</td>
                    <td class="hide-sm">{formatTime(t.created)}</td>
                    {admin && (
                      <td>
                        <div class="row">
                          <button type="button" onClick={() => test(t)}>Test</button>
                          <button type="button" onClick={() => remove(t)}>Delete</button>
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </div>
      <div class="panel table-wrap" id="dead-letters">
        <h2>Dead letters</h2>
        {dead.value === null
          ? <Loading />
          : dead.value.length === 0
          ? <p>No dead letters: every notification was delivered or is still being tried.</p>
          : (
            <>
              {admin && (
                <div class="row">
                  <button
                    type="button"
                    id="retry-all"
                    onClick={() => deadAction("retry", null, "Dead letters queued again")}
                  >
                    Retry all
                  </button>
                </div>
              )}
              <table id="dead-letter-table">
                <thead>
                  <tr>
                    <th>Event</th>
                    <th>Bucket / key</th>
                    <th>Target</th>
                    <th>Attempts</th>
                    <th>Last error</th>
                    <th class="hide-sm">Queued</th>
                    {admin && <ActionsTh />}
                  </tr>
                </thead>
                <tbody>
                  {dead.value.map((d) => (
                    <tr key={d.id} data-dead-letter={d.id}>
                      <td>{d.event}</td>
                      <td>
                        <code>{d.bucket}/{d.key}</code>
                      </td>
                      <td>{d.target.name}</td>
                      <td>{d.attempts}</td>
                      <td>{d.lastError ?? "—"}</td>
                      <td class="hide-sm">{formatTime(d.queuedAt)}</td>
                      {admin && (
                        <td>
                          <div class="row">
                            <button
                              type="button"
                              onClick={() => deadAction("retry", [d.id], "Queued again")}
                            >
                              Retry
                            </button>
                            <button
                              type="button"
                              onClick={() => deadAction("discard", [d.id], "Discarded")}
                            >
                              Discard
                            </button>
                          </div>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
      </div>
    </div>
  );
}
