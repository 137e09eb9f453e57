/** The alerts page (administrators): open and past alerts, read marks, resolve by hand. */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, formatTime } from "./lib/api.ts";
import { type AlertItem, loadAlerts, onAlertChange } from "./lib/alerts.ts";
import { Alerts as Messages, Loading } from "./lib/ui.tsx";

export interface AlertsProps extends Record<string, unknown> {
  globalAdmin: boolean;
}

export default function Alerts({ globalAdmin }: AlertsProps) {
  const items = useSignal<AlertItem[] | null>(null);
  const activeOnly = useSignal(false);
  const error = useSignal("");
  const notice = useSignal("");
  const reload = () =>
    loadAlerts({ active: activeOnly.value, limit: 500 }).then((p) => items.value = p.items)
      .catch((e) => error.value = (e as Error).message);
  useEffect(() => {
    reload();
    return onAlertChange(reload);
  }, []);
  const act = async (what: () => Promise<unknown>, done: string) => {
    error.value = "";
    try {
      await what();
      notice.value = done;
      await reload();
    } catch (e) {
      error.value = (e as Error).message;
    }
  };
  return (
    <div>
      <Messages error={error.value} notice={notice.value} />
      <div class="panel row spread">
        <label class="row">
          <input
            type="checkbox"
            checked={activeOnly.value}
            onChange={(e) => {
              activeOnly.value = (e.currentTarget as HTMLInputElement).checked;
              reload();
            }}
          />
          Open alerts only
        </label>
        <div class="row">
          {globalAdmin && (
            <button
              type="button"
              onClick={() => act(() => api("alerts/check", { body: {} }), "Checked now.")}
            >
              Check now
            </button>
          )}
          <button
            type="button"
            onClick={() => act(() => api("alerts/read", { body: {} }), "All marked read.")}
          >
            Mark all read
          </button>
        </div>
      </div>
      <div class="panel table-wrap">
        {items.value === null
          ? <Loading />
          : items.value.length === 0
          ? <p>No alerts.</p>
          : (
            <table id="alert-table">
              <thead>
                <tr>
                  <th>Level</th>
                  <th>Alert</th>
                  <th class="hide-sm">Raised</th>
                  <th class="hide-sm">Resolved</th>
                  <th>
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.value.map((a) => (
                  <tr key={a.id} data-alert={a.key} class={a.readAt ? "" : "unread"}>
                    <td>
                      <span class={`badge ${a.level === "critical" ? "bad" : "warn"}`}>
                        {a.level}
                      </span>
                    </td>
                    <td>
                      <strong>{a.title}</strong>
                      <div class="hint">{a.detail}</div>
                    </td>
                    <td class="hide-sm">{formatTime(a.raisedAt)}</td>
                    <td class="hide-sm">{a.resolvedAt ? formatTime(a.resolvedAt) : "open"}</td>
                    <td>
                      {!a.resolvedAt && (
                        <button
                          type="button"
                          onClick={() =>
                            act(
                              () => api(`alerts/${a.id}/resolve`, { body: {} }),
                              `Resolved: ${a.title}`,
                            )}
                        >
                          Resolve
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </div>
    </div>
  );
}
