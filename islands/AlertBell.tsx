/**
 * The top bar's bell (administrators): the unread count, and a list of the latest alerts that
 * opens under it. It reloads when the server announces an alert change over the event stream.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, formatTime } from "./lib/api.ts";
import { type AlertItem, loadAlerts, onAlertChange } from "./lib/alerts.ts";

export default function AlertBell(_: Record<string, unknown>) {
  const items = useSignal<AlertItem[]>([]);
  const unread = useSignal(0);
  const open = useSignal(false);
  const reload = () =>
    loadAlerts({ limit: 10 }).then((p) => {
      items.value = p.items;
      unread.value = p.unread;
    }).catch(() => {});
  useEffect(() => {
    reload();
    return onAlertChange(reload);
  }, []);
  const markAll = async () => {
    await api("alerts/read", { body: {} }).catch(() => {});
    await reload();
  };
  const n = unread.value;
  return (
    <div class="bell">
      <button
        type="button"
        id="alert-bell"
        aria-expanded={open.value}
        aria-label={n ? `Alerts, ${n} unread` : "Alerts"}
        onClick={() => open.value = !open.value}
      >
        <svg class="icon" viewBox="0 0 16 16" aria-hidden="true">
          <path d="M8 1.5a4.5 4.5 0 0 0-4.5 4.5v2.6L2 11v1h12v-1l-1.5-2.4V6A4.5 4.5 0 0 0 8 1.5zM6.3 13a1.8 1.8 0 0 0 3.4 0z" />
        </svg>
        {n > 0 && <span class="count" data-testid="alert-unread">{n}</span>}
      </button>
      {open.value && (
        <div class="bell-list" role="region" aria-label="Latest alerts">
          {items.value.length === 0 ? <p class="hint">No alerts.</p> : (
            <ul>
              {items.value.map((a) => (
                <li key={a.id} data-alert={a.key} class={a.readAt ? "" : "unread"}>
                  <span
                    class={`badge ${a.resolvedAt ? "ok" : a.level === "critical" ? "bad" : "warn"}`}
                  >
                    {a.resolvedAt ? "resolved" : a.level}
                  </span>{" "}
                  <strong>{a.title}</strong>
                  <div class="hint">{formatTime(a.updatedAt)}</div>
                </li>
              ))}
            </ul>
          )}
          <div class="row spread mt">
            <button type="button" onClick={markAll} disabled={n === 0}>Mark all read</button>
            <a href="/alerts">All alerts</a>
          </div>
        </div>
      )}
    </div>
  );
}
