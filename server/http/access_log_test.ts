import { assertEquals } from "../../tests/_helpers/assert.ts";
import { BatchedLines, type LineWriter } from "./access_log.ts";

/** A writer that takes at most `n` bytes per call, as a pipe may. */
function writer(n = Infinity): LineWriter & { text(): string; calls: number } {
  const chunks: Uint8Array[] = [];
  const w = {
    calls: 0,
    write(p: Uint8Array) {
      w.calls++;
      const take = Math.min(p.byteLength, n);
      chunks.push(p.slice(0, take));
      return Promise.resolve(take);
    },
    text: () => new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c]))),
  };
  return w;
}

Deno.test("access log lines: queued, written in one batch at flush, in order", async () => {
  const w = writer();
  const b = new BatchedLines(w, 60_000);
  for (let i = 0; i < 100; i++) b.write(`line ${i}`);
  assertEquals(w.calls, 0, "nothing written before the batch is due");
  await b.flush();
  assertEquals(w.calls, 1);
  assertEquals(w.text(), Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(""));
  await b.flush();
  assertEquals(w.calls, 1, "an empty queue writes nothing");
});

Deno.test("access log lines: a full batch is written at once; short writes are completed", async () => {
  const w = writer(7);
  const b = new BatchedLines(w, 60_000, 20);
  b.write("0123456789");
  b.write("abcdefghij");
  await b.flush();
  assertEquals(w.text(), "0123456789\nabcdefghij\n");
  assertEquals(w.calls, 4, "one batch of 22 bytes, in writes of at most 7");
});
