import assert from "node:assert/strict";
import { EventHub } from "./events.ts";

const admin = { userId: "u1", role: "global_admin", tenantId: null } as const;
const user = { userId: "u2", role: "tenant_user", tenantId: "t1" } as const;

async function readText(r: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { value } = await r.read();
  return new TextDecoder().decode(value);
}

Deno.test("a stream opens with the initial events; publish reaches whom it is meant for", async () => {
  const hub = new EventHub({ heartbeatMs: 0 });
  const a = hub.subscribe(admin, [{ type: "maintenance", data: { enabled: false, message: "" } }])!
    .getReader();
  const u = hub.subscribe(user, [])!.getReader();
  assert.equal(await readText(a), ": connected\n\n");
  assert.equal(
    await readText(a),
    'event: maintenance\ndata: {"enabled":false,"message":""}\n\n',
  );
  assert.equal(await readText(u), ": connected\n\n");
  assert.equal(
    hub.publish({ type: "settings", data: { changed: ["x"] } }, (w) => w.role === "global_admin"),
    1,
  );
  assert.equal(hub.publish({ type: "maintenance", data: { enabled: true, message: "m" } }), 2);
  assert.equal(await readText(a), 'event: settings\ndata: {"changed":["x"]}\n\n');
  assert.equal(await readText(u), 'event: maintenance\ndata: {"enabled":true,"message":"m"}\n\n');
  await u.cancel();
  assert.equal(hub.size, 1, "a cancelled stream is dropped");
  hub.close();
  assert.equal(hub.size, 0);
  // What was queued before close is still read, then the stream ends.
  assert.equal(await readText(a), 'event: maintenance\ndata: {"enabled":true,"message":"m"}\n\n');
  assert.equal((await a.read()).done, true, "close ends the stream");
});

Deno.test("the hub is bounded in streams and in what a slow reader may queue", () => {
  const hub = new EventHub({ heartbeatMs: 0, maxSubscribers: 2, maxQueued: 3 });
  const slow = hub.subscribe(user, [])!;
  assert(hub.subscribe(user, []));
  assert.equal(hub.subscribe(user, []), null, "full");
  // Nobody reads: after the queue fills, the streams are closed and dropped.
  let sent = 0;
  for (let i = 0; i < 5; i++) {
    sent += hub.publish({ type: "maintenance", data: { enabled: true, message: String(i) } });
  }
  assert.equal(hub.size, 0);
  assert(sent < 10);
  assert(hub.subscribe(user, []), "room again");
  hub.close();
  void slow;
});
