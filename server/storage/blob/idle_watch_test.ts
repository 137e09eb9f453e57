import { assert, assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import { S3Error } from "../../s3/errors.ts";
import { BlobStore } from "./blob_store.ts";
import { IdleWatch } from "./idle_watch.ts";

/** A body that sends `first`, then nothing until `release()` (or forever). */
function stalling(first: Uint8Array) {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  let sent = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (!sent) {
        sent = true;
        return c.enqueue(first);
      }
      await gate;
      c.close();
    },
  });
  return { stream, release };
}

/** A monotonic clock the test moves. */
function testClock() {
  const c = { t: 1000, now: () => c.t };
  return c;
}

/** Lets the cancellations a sweep started run (a microtask turn, not a wait on the clock). */
const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("idle watch: a silent reader is cancelled and marked, an active one is not", async () => {
  const clock = testClock();
  const w = new IdleWatch(60, { now: clock.now, timer: false });
  const silent = stalling(new Uint8Array(1));
  const busy = stalling(new Uint8Array(1));
  const rs = silent.stream.getReader();
  const rb = busy.stream.getReader();
  const ws = w.watch(rs);
  const wb = w.watch(rb);
  await rs.read();
  // The busy reader keeps touching; the silent one waits.
  const pending = rs.read();
  for (let i = 0; i < 5; i++) {
    clock.t += 10;
    wb.touch();
    w.sweep();
  }
  assert(!ws.timedOut, "50 ms of silence is under the limit");
  clock.t += 10;
  wb.touch();
  w.sweep();
  const r = await pending;
  assert(r.done, "a cancelled reader reads as ended");
  assert(ws.timedOut);
  assert(!wb.timedOut);
  assertEquals(w.size, 1);
  wb.release();
  assertEquals(w.size, 0);
  busy.release();
  silent.release();
});

Deno.test("idle watch: its own timer runs only while something is watched", async () => {
  const w = new IdleWatch(40);
  const body = stalling(new Uint8Array(1));
  const watched = w.watch(body.stream.getReader());
  assert(w.ticking);
  watched.release();
  // The timer stops at the first sweep that finds nothing to watch (10 ms period here).
  for (let i = 0; i < 50 && w.ticking; i++) await new Promise((r) => setTimeout(r, 5));
  assert(!w.ticking, "the timer stops once nothing is watched");
  w.close();
  body.release();
});

Deno.test("blob store: a stalled body is RequestTimeout and leaves no temp data", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-idle-" });
  const clock = testClock();
  const idleWatch = new IdleWatch(50, { now: clock.now, timer: false });
  const store = new BlobStore(dir, { fsync: false, idleWatch });
  await store.init();
  try {
    for (const size of [100, 100_000]) {
      const body = stalling(new Uint8Array(size));
      const writing = store.write(body.stream, {
        hashers: [],
        expectedSize: size + 10,
        inlineMax: 1000,
      });
      // The watch starts when the store begins reading the body (after taking a temp file).
      for (let i = 0; i < 1000 && idleWatch.size === 0; i++) await settle();
      assertEquals(idleWatch.size, 1);
      clock.t += 49;
      idleWatch.sweep();
      clock.t += 1;
      idleWatch.sweep();
      const err = await assertRejects(() => writing);
      assert(err instanceof S3Error && err.code === "RequestTimeout", String(err));
      body.release();
    }
    // A body that keeps sending (each gap shorter than the limit) is fine. The stream pulls one
    // chunk ahead of the reader, so two steps can pass between touches: 2 x 20 < 50.
    let n = 0;
    const slow = new ReadableStream<Uint8Array>({
      pull(c) {
        clock.t += 20;
        idleWatch.sweep();
        if (n++ < 8) c.enqueue(new Uint8Array(10));
        else c.close();
      },
    });
    const w = await store.write(slow, { hashers: [], expectedSize: 80, inlineMax: 1000 });
    assertEquals(w.size, 80);
    // Nothing written to a temp file remains.
    for (const f of Deno.readDirSync(`${dir}/tmp`)) {
      assertEquals(Deno.statSync(`${dir}/tmp/${f.name}`).size, 0, f.name);
    }
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
