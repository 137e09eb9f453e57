/**
 * The amber maintenance banner of every signed-in page. It follows the consoles' event stream
 * (`GET /api/v1/events`), whose first event is the current state, so it appears and disappears
 * in open consoles without a reload; EventSource reconnects by itself after a network error.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";

interface Maintenance {
  enabled: boolean;
  message: string;
}

export default function MaintenanceBanner(_props: Record<string, unknown>) {
  const state = useSignal<Maintenance>({ enabled: false, message: "" });
  useEffect(() => {
    const source = new EventSource("/api/v1/events");
    source.addEventListener("maintenance", (ev) => {
      state.value = JSON.parse((ev as MessageEvent<string>).data) as Maintenance;
    });
    return () => source.close();
  }, []);
  const m = state.value;
  if (!m.enabled) return null;
  return (
    <div class="maintenance-banner" role="status" id="maintenance-banner">
      <strong>Maintenance mode.</strong>{" "}
      {m.message || "Changes are refused until it ends; reading goes on."}
    </div>
  );
}
