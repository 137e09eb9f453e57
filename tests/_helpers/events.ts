/** The consoles' event stream as a test reads it. */
import { assertEquals } from "./assert.ts";

/**
 * A reader of `GET /api/v1/events`: `next()` is the next maintenance event, `next(type)` the next
 * event of that type; the others are skipped (settings changes, and the alerts and per-minute
 * figures that come on their own schedule), as are heartbeats.
 */
export async function openEvents(consoleUrl: string, token: string) {
  const ctrl = new AbortController();
  const res = await fetch(`${consoleUrl}/api/v1/events`, {
    headers: { authorization: `Bearer ${token}` },
    signal: ctrl.signal,
  });
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  return {
    async next(wanted = "maintenance"): Promise<{ type: string; data: unknown }> {
      for (;;) {
        const end = buf.indexOf("\n\n");
        if (end >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type === wanted && data !== undefined) {
            return { type, data: JSON.parse(data) };
          }
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the event stream ended");
        buf += value;
      }
    },
    async close() {
      ctrl.abort();
      await reader.cancel().catch(() => {});
    },
  };
}
