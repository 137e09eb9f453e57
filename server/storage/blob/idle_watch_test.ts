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

Deno.test("idle watch: a silent reader is cancelled and marked, an active one is not", async () => {
  const w = new IdleWatch(60);
  const silent = stalling(new Uint8Array(1));
  const busy = stalling(new Uint8Array(1));
  const rs = silent.stream.getReader();
  const rb = busy.stream.getReader();
  const ws = w.watch(rs);
  const wb = w.watch(rb);
  await rs.read();
  // The busy reader keeps touching; the silent one waits.
  const pending = rs.read();
  for (let i = 0; i < 12; i++) {
    await new Promise((r) => setTimeout(r, 10));
    wb.touch();
  }
  const r = await pending;
  assert(r.done, "a cancelled reader reads as ended");
  assert(ws.timedOut);
  assert(!wb.timedOut);
  assertEquals(w.size, 1);
  wb.release();
  assertEquals(w.size, 0);
  // The timer stops at the first sweep that finds nothing to watch.
  assert(w.ticking);
  await new Promise((r) => setTimeout(r, 40));
  assert(!w.ticking, "the timer stops once nothing is watched");
  busy.release();
  silent.release();
});

Deno.test("blob store: a stalled body is RequestTimeout and leaves no temp data", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-idle-" });
  const store = new BlobStore(dir, { fsync: false, bodyIdleMs: 50 });
  await store.init();
  try {
    for (const size of [100, 100_000]) {
      const body = stalling(new Uint8Array(size));
      const err = await assertRejects(() =>
        store.write(body.stream, { hashers: [], expectedSize: size + 10, inlineMax: 1000 })
      );
      assert(err instanceof S3Error && err.code === "RequestTimeout", String(err));
      body.release();
    }
    // A body that keeps sending slowly (each gap shorter than the limit) is fine.
    let n = 0;
    const slow = new ReadableStream<Uint8Array>({
      async pull(c) {
        await new Promise((r) => setTimeout(r, 20));
        if (n++ < 8) c.enqueue(new Uint8Array(10));
        else c.close();
      },
    });
    const w = await store.write(slow, { hashers: [], expectedSize: 80, inlineMax: 1000 });
    assertEquals(w.size, 80);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
