/**
 * The amber maintenance banner of every signed-in page. It follows the consoles' event stream
 * (`GET /api/v1/events`), whose first event is the current state, so it appears and disappears
 * in open consoles without a reload; EventSource reconnects by itself after a network error.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { onConsoleEvent } from "./lib/events.ts";

interface Maintenance {
  enabled: boolean;
  message: string;
}

export default function MaintenanceBanner(_props: Record<string, unknown>) {
  const state = useSignal<Maintenance>({ enabled: false, message: "" });
  useEffect(() => onConsoleEvent("maintenance", (m) => state.value = m as Maintenance), []);
  const m = state.value;
  if (!m.enabled) return null;
  return (
    <div class="maintenance-banner" role="status" id="maintenance-banner">
      <strong>Maintenance mode.</strong>{" "}
      {m.message || "Changes are refused until it ends; reading goes on."}
    </div>
  );
}
