/**
 * The console's event stream (`GET /api/v1/events`), one connection per page shared by every
 * island that listens (the maintenance banner, the alert bell, the dashboard's live figures).
 * Opened with the first listener, closed with the last; EventSource reconnects by itself.
 */

type Listener = (data: unknown) => void;

let source: EventSource | null = null;
const listeners = new Map<string, Set<Listener>>();

function attach(type: string) {
  source?.addEventListener(type, (ev) => {
    const raw = (ev as MessageEvent<string>).data;
    const data = type === "open" || raw === undefined ? null : JSON.parse(raw);
    for (const fn of listeners.get(type) ?? []) fn(data);
  });
}

/**
 * Calls `fn` with each event of `type` (`maintenance`, `alert`, `metrics`, ... or `open`: each
 * (re)connection); returns the unsubscribe function.
 */
export function onConsoleEvent(type: string, fn: Listener): () => void {
  if (typeof EventSource === "undefined") return () => {};
  if (!source) {
    source = new EventSource("/api/v1/events");
    for (const t of listeners.keys()) attach(t);
  }
  let set = listeners.get(type);
  if (!set) {
    listeners.set(type, set = new Set());
    attach(type);
  }
  set.add(fn);
  return () => {
    set!.delete(fn);
    if ([...listeners.values()].every((s) => s.size === 0)) {
      source?.close();
      source = null;
      listeners.clear();
    }
  };
}
