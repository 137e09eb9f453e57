/** Alerts as the console API sends them, and the live updates of the console's event stream. */
import { api } from "./api.ts";
import { onConsoleEvent } from "./events.ts";

export interface AlertItem {
  id: number;
  key: string;
  tenantId: string | null;
  level: "warning" | "critical";
  title: string;
  detail: string;
  raisedAt: number;
  updatedAt: number;
  resolvedAt: number | null;
  readAt: number | null;
}

export interface AlertPage {
  items: AlertItem[];
  unread: number;
}

export function loadAlerts(query: { active?: boolean; limit?: number } = {}): Promise<AlertPage> {
  return api<AlertPage>("alerts", {
    query: { active: query.active ? "true" : undefined, limit: query.limit },
  });
}

/**
 * Calls `onChange` whenever the server announces an alert change on the console's event stream
 * (event `alert`), and at each (re)connection, since events may have been missed meanwhile.
 */
export function onAlertChange(onChange: () => void): () => void {
  const offAlert = onConsoleEvent("alert", () => onChange());
  const offOpen = onConsoleEvent("open", () => onChange());
  return () => (offAlert(), offOpen());
}
