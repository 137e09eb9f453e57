import { assert, assertEquals, assertRejects } from "../../tests/_helpers/assert.ts";
import {
  openAll,
  openRange,
  openStream,
  plainSizeOf,
  sealAll,
  sealedRangeOf,
  sealedSize,
  sealStream,
  SEGMENT_SIZE,
  SegmentError,
  SegmentOpener,
  SegmentSealer,
  TAG_BYTES,
} from "./segments.ts";

const key = (seed: number) => new Uint8Array(32).map((_, i) => (i * 31 + seed) & 0xff);
const bytes = (n: number, seed = 1) => {
  const b = new Uint8Array(n);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
};

/** Asserts that `fn` rejects with a SegmentError (not some other failure). */
async function failsAuth(fn: () => Promise<unknown>): Promise<void> {
  const e = await assertRejects(fn);
  assert(e instanceof SegmentError, `expected a SegmentError, got ${e}`);
}

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

/** Feeds `data` through a stream in chunks of the given sizes (cycled). */
function chunked(data: Uint8Array, sizes: number[]): ReadableStream<Uint8Array> {
  let off = 0;
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= data.length) return c.close();
      const n = sizes[i++ % sizes.length];
      c.enqueue(data.slice(off, off + n));
      off += n;
    },
  });
}

const K = key(1);
const SEG = 16;

Deno.test("sealed sizes follow the format", () => {
  assertEquals(sealedSize(0), TAG_BYTES);
  assertEquals(sealedSize(1), 1 + TAG_BYTES);
  assertEquals(sealedSize(SEGMENT_SIZE), SEGMENT_SIZE + TAG_BYTES);
  assertEquals(sealedSize(SEGMENT_SIZE + 1), SEGMENT_SIZE + 1 + 2 * TAG_BYTES);
  for (const n of [0, 1, 15, 16, 17, 100]) assertEquals(plainSizeOf(sealedSize(n, SEG), SEG), n);
});

Deno.test("round trips at every size around a segment, any chunking", async () => {
  for (const seg of [SEG, SEGMENT_SIZE]) {
    for (const n of [0, 1, seg - 1, seg, seg + 1, 2 * seg, 5 * seg + 3]) {
      const plain = bytes(n, n + 7);
      const whole = await sealAll(K, "blob-a", plain, seg);
      assertEquals(whole.length, sealedSize(n, seg));
      assertEquals(await openAll(K, "blob-a", whole, seg), plain);
      for (const sizes of [[1], [3, 17], [seg], [seg + 1, 2], [1 << 20]]) {
        const viaStream = await readAll(
          chunked(plain, sizes).pipeThrough(sealStream(K, "blob-a", seg)),
        );
        assertEquals(viaStream, whole, `seg ${seg} size ${n} chunks ${sizes}`);
        const back = await readAll(
          chunked(whole, sizes).pipeThrough(
            openStream(K, "blob-a", n, { start: 0, end: n - 1 }, seg),
          ),
        );
        assertEquals(back, plain);
      }
    }
  }
});

Deno.test("the sealer counts and holds back the last full segment", async () => {
  const s = new SegmentSealer(K, "b", SEG);
  assertEquals((await s.push(bytes(SEG))).length, 0);
  assertEquals((await s.push(bytes(SEG))).length, SEG + TAG_BYTES);
  assertEquals((await s.finish()).length, SEG + TAG_BYTES);
  assertEquals(s.size, 2 * SEG);
});

Deno.test("every range shape opens the right bytes from its sealed range", async () => {
  const n = 7 * SEG + 5;
  const plain = bytes(n, 3);
  const sealed = await sealAll(K, "blob-r", plain, SEG);
  for (let start = 0; start < n; start += 3) {
    for (
      const end of [start, start + 1, start + SEG - 1, start + SEG, start + 2 * SEG + 1, n - 1]
    ) {
      if (end >= n || end < start) continue;
      const r = sealedRangeOf(n, { start, end }, SEG);
      const part = sealed.subarray(r.start, r.end + 1);
      const got = await openRange(K, "blob-r", part, n, { start, end }, SEG);
      assertEquals(got, plain.subarray(start, end + 1), `${start}-${end}`);
      const streamed = await readAll(
        chunked(part, [5, 40]).pipeThrough(openStream(K, "blob-r", n, { start, end }, SEG)),
      );
      assertEquals(streamed, plain.subarray(start, end + 1));
    }
  }
});

Deno.test("a flipped byte anywhere fails, never wrong bytes", async () => {
  const n = 3 * SEG + 2;
  const sealed = await sealAll(K, "blob-f", bytes(n), SEG);
  for (let i = 0; i < sealed.length; i++) {
    const bad = sealed.slice();
    bad[i] ^= 0x40;
    await failsAuth(() => openAll(K, "blob-f", bad, SEG));
  }
});

Deno.test("truncation, reordering and swapping between blobs fail", async () => {
  const n = 4 * SEG;
  const unit = SEG + TAG_BYTES;
  const a = await sealAll(K, "blob-a", bytes(n, 1), SEG);
  const b = await sealAll(K, "blob-b", bytes(n, 2), SEG);
  const c = await sealAll(key(2), "blob-a", bytes(n, 3), SEG);
  // Truncated at a segment boundary: the last segment present is not the final one.
  await failsAuth(() => openAll(K, "blob-a", a.subarray(0, 3 * unit), SEG));
  // Shorter than the record says, read by range.
  await failsAuth(
    () => openRange(K, "blob-a", a.subarray(0, 3 * unit), n, { start: 0, end: n - 1 }, SEG),
  );
  await failsAuth(
    () =>
      readAll(
        chunked(a.subarray(0, 2 * unit), [unit]).pipeThrough(
          openStream(K, "blob-a", n, { start: 0, end: n - 1 }, SEG),
        ),
      ),
  );
  // Two segments swapped.
  const swapped = a.slice();
  swapped.set(a.subarray(0, unit), unit);
  swapped.set(a.subarray(unit, 2 * unit), 0);
  await failsAuth(() => openAll(K, "blob-a", swapped, SEG));
  // A segment of another blob (other blob id, same key) or another key (same blob id).
  for (const other of [b, c]) {
    const mixed = a.slice();
    mixed.set(other.subarray(unit, 2 * unit), unit);
    await failsAuth(() => openAll(K, "blob-a", mixed, SEG));
  }
  // The whole blob under another id or key.
  await failsAuth(() => openAll(K, "blob-b", a, SEG));
  await failsAuth(() => openAll(key(9), "blob-a", a, SEG));
  // An empty object: its final segment must be there and authentic.
  const empty = await sealAll(K, "e", new Uint8Array(0), SEG);
  assertEquals((await openAll(K, "e", empty, SEG)).length, 0);
  await failsAuth(
    () => openRange(K, "e", new Uint8Array(0), 0, { start: 0, end: -1 }, SEG),
  );
  assert(!(await openAll(K, "e", empty, SEG).then(() => false, () => true)));
});

Deno.test("large runs use the parallel path and still round trip", async () => {
  const plain = bytes(3 * SEGMENT_SIZE + 100, 5);
  const sealed = await sealAll(K, "big", plain, SEGMENT_SIZE);
  assertEquals(await openAll(K, "big", sealed), plain);
  const bad = sealed.slice();
  bad[SEGMENT_SIZE + TAG_BYTES + 10] ^= 1;
  await failsAuth(() => openAll(K, "big", bad));
});

Deno.test("an opener given its chunks to overwrite opens them in place, every range alike", async () => {
  const n = 9 * SEG + 7;
  const plain = bytes(n, 5);
  const sealed = await sealAll(K, "blob-p", plain, SEG);
  for (const [start, end] of [[0, n - 1], [SEG + 3, 6 * SEG], [n - 2, n - 1], [0, 0]]) {
    const r = sealedRangeOf(n, { start, end }, SEG);
    for (const step of [3 * (SEG + TAG_BYTES), SEG + TAG_BYTES, 7]) {
      const opener = new SegmentOpener(K, "blob-p", n, { start, end }, SEG);
      const parts: Uint8Array[] = [];
      for (let off = r.start; off <= r.end; off += step) {
        // A fresh copy per chunk, as a read gives: the opener may overwrite it.
        const chunk = sealed.slice(off, Math.min(off + step, r.end + 1));
        for (const p of await opener.push(chunk, true)) parts.push(p.slice());
      }
      opener.finish();
      const got = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of parts) {
        got.set(p, at);
        at += p.length;
      }
      assertEquals(got, plain.subarray(start, end + 1), `${start}-${end} by ${step}`);
    }
  }
  // A changed byte still fails in place.
  const bad = sealed.slice();
  bad[2 * (SEG + TAG_BYTES) + 4] ^= 1;
  const opener = new SegmentOpener(K, "blob-p", n, { start: 0, end: n - 1 }, SEG);
  await failsAuth(() => opener.push(bad, true));
});
