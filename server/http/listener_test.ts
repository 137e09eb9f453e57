import assert from "node:assert/strict";
import {
  bindListener,
  bindListeners,
  ConnectionWatch,
  formatAddr,
  ListenError,
} from "./listener.ts";

function watchAt(limits: { headerTimeoutMs: number; idleTimeoutMs: number }) {
  const clock = { t: 1000 };
  const watch = new ConnectionWatch(limits, () => clock.t);
  const closed: string[] = [];
  const open = (name: string) => watch.open(() => closed.push(name));
  return { clock, watch, closed, open };
}

Deno.test("ConnectionWatch: headers must arrive within the header timeout", () => {
  const { clock, watch, closed, open } = watchAt({ headerTimeoutMs: 200, idleTimeoutMs: 5000 });
  open("silent");
  const busy = open("busy");
  clock.t += 150;
  busy.requestStarted();
  assert.equal(watch.sweep(), 0);
  clock.t += 60;
  assert.equal(watch.sweep(), 1);
  assert.deepEqual(closed, ["silent"]);
  assert.equal(watch.size, 1);
});

Deno.test("ConnectionWatch: no deadline while a request runs, the idle one after it", () => {
  const { clock, watch, closed, open } = watchAt({ headerTimeoutMs: 200, idleTimeoutMs: 300 });
  const c = open("kept-alive");
  c.requestStarted();
  c.requestStarted(); // pipelined or HTTP/2: two at once
  clock.t += 10_000;
  assert.equal(watch.sweep(), 0, "a long request is not cut");
  c.requestEnded();
  clock.t += 10_000;
  assert.equal(watch.sweep(), 0, "one of two still runs");
  c.requestEnded();
  clock.t += 299;
  assert.equal(watch.sweep(), 0);
  clock.t += 1;
  assert.equal(watch.sweep(), 1);
  assert.deepEqual(closed, ["kept-alive"]);
});

Deno.test("ConnectionWatch: 0 disables a limit; the sweep period follows the shortest", () => {
  const { clock, watch, open } = watchAt({ headerTimeoutMs: 0, idleTimeoutMs: 0 });
  const c = open("forever");
  c.requestStarted();
  c.requestEnded();
  clock.t += 1e12;
  assert.equal(watch.sweep(), 0);
  assert.equal(watch.sweepEveryMs, 0);
  assert.equal(watchAt({ headerTimeoutMs: 200, idleTimeoutMs: 0 }).watch.sweepEveryMs, 50);
  assert.equal(
    watchAt({ headerTimeoutMs: 30_000, idleTimeoutMs: 60_000 }).watch.sweepEveryMs,
    1000,
  );
  assert.equal(watchAt({ headerTimeoutMs: 0, idleTimeoutMs: 8 }).watch.sweepEveryMs, 10);
});

Deno.test("bindListener: a taken address is a ListenError naming it and the flag", () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = taken.addr.port;
    assert.throws(
      () => bindListener("127.0.0.1", port, "listen"),
      (e) =>
        e instanceof ListenError &&
        e.message === `Cannot listen on 127.0.0.1:${port} (--listen): address already in use`,
    );
    // The first address is released again when the second cannot be bound.
    const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const freePort = free.addr.port;
    free.close();
    assert.throws(
      () =>
        bindListeners([
          { hostname: "127.0.0.1", port: freePort, flag: "listen" },
          { hostname: "127.0.0.1", port, flag: "console-listen" },
        ]),
      (e) => e instanceof ListenError && e.message.includes("(--console-listen)"),
    );
    Deno.listen({ hostname: "127.0.0.1", port: freePort }).close();
  } finally {
    taken.close();
  }
});

Deno.test("formatAddr: IPv6 in brackets", () => {
  assert.equal(formatAddr("::1", 8080), "[::1]:8080");
  assert.equal(formatAddr("0.0.0.0", 80), "0.0.0.0:80");
});
