/**
 * Encryption at rest as stored: no plaintext of an encrypted object anywhere in the data dir (blob
 * files, KV values, the raw files), the hot cache holding sealed bytes, and a damaged blob failing
 * its read instead of returning wrong bytes.
 */
import { assert, assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import { openTempStorage, quiet } from "../../../tests/_helpers/storage.ts";
import { isS3Error } from "../../s3/errors.ts";
import { kvFilePath } from "../meta/kv_file.ts";
import { openStorage } from "../backend.ts";
import { testObjectKeys } from "../../../tests/_helpers/keys.ts";
import { md5Base64 } from "../conformance/harness.ts";
import { sealedUpload } from "../conformance/encryption.ts";
import type { SseSpec } from "../../crypto/types.ts";
import type { BucketRecord, ObjectRecord } from "../types.ts";

type Storage = Awaited<ReturnType<typeof openStorage>>;

/** 32 bytes no random data is going to contain, `tag` making each object's unique. */
function marker(tag: number): Uint8Array {
  return new TextEncoder().encode(`@@maxiofs-plaintext-marker-${String(tag).padStart(4, "0")}`);
}

/** `size` bytes of `m` repeated. */
function fillWith(m: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += m.length) out.set(m.subarray(0, Math.min(m.length, size - i)), i);
  return out;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  for (let i = hay.indexOf(first); i >= 0 && i <= hay.length - needle.length;) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
    i = hay.indexOf(first, i + 1);
  }
  return -1;
}

const body = (b: Uint8Array) => new Response(b.slice()).body!;

async function put(s: Storage, b: BucketRecord, key: string, data: Uint8Array, sse?: SseSpec) {
  return await s.backend.putObject(b, {
    key,
    body: body(data),
    contentLength: data.length,
    content: {},
    meta: {},
    ownerId: "o",
    sse,
  });
}

function multipart(s: Storage, b: BucketRecord, key: string, datas: Uint8Array[], sse: SseSpec) {
  const customer = sse.mode === "SSE-C" ? sse : undefined;
  return sealedUpload(s.backend, b, key, datas, sse, customer).then((r) => r.rec);
}

async function* filesUnder(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* filesUnder(p);
    else if (e.isFile) yield p;
  }
}

/** Every byte string in a KV value (V8-serialized values: Uint8Arrays, strings, nested). */
function bytesOf(v: unknown, out: Uint8Array[] = []): Uint8Array[] {
  if (v instanceof Uint8Array) out.push(v);
  else if (typeof v === "string") out.push(new TextEncoder().encode(v));
  else if (Array.isArray(v)) { for (const x of v) bytesOf(x, out); }
  else if (v && typeof v === "object") { for (const x of Object.values(v)) bytesOf(x, out); }
  return out;
}

/** Where each marker was found in the data dir: blob files, KV values, any raw file. */
async function findMarkers(dataDir: string, markers: Uint8Array[]): Promise<Set<number>> {
  const found = new Set<number>();
  const scan = (hay: Uint8Array) => {
    markers.forEach((m, i) => {
      if (indexOf(hay, m) >= 0) found.add(i);
    });
  };
  for await (const f of filesUnder(dataDir)) scan(await Deno.readFile(f));
  const kv = await Deno.openKv(kvFilePath(dataDir));
  try {
    for await (const e of kv.list({ prefix: [] })) for (const b of bytesOf(e.value)) scan(b);
  } finally {
    kv.close();
  }
  return found;
}

const customerKey = (seed: number) => {
  const key = new Uint8Array(32).fill(seed);
  return { mode: "SSE-C" as const, key, keyMd5: md5Base64(key) };
};

Deno.test("no plaintext of an encrypted object is anywhere in the data dir", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-sealed-scan-" });
  try {
    const { keys } = await testObjectKeys(dataDir);
    const s = await openStorage({ dataDir, log: quiet, keys, fsync: false });
    const markers: Uint8Array[] = [];
    const expect: { key: string; data: Uint8Array; sse: SseSpec }[] = [];
    let b: BucketRecord;
    try {
      b = await s.backend.createBucket({ ns: "", name: "scan", ownerId: "o", region: "r" });
      const modes: SseSpec[] = [
        { mode: "AES256" },
        customerKey(7),
        { mode: "aws:kms", keyId: "default" },
      ];
      for (const [mi, sse] of modes.entries()) {
        // Inline as rows, inline as one entry, one file, a multi-segment file, a multipart object.
        for (const [si, size] of [1000, 10_000, 200_000, 1_500_000].entries()) {
          const m = marker(mi * 10 + si);
          markers.push(m);
          const data = fillWith(m, size);
          await put(s, b, `${mi}-${si}`, data, sse);
          expect.push({ key: `${mi}-${si}`, data, sse });
        }
        const m = marker(900 + mi);
        markers.push(m);
        const parts = [fillWith(m, 100_000), fillWith(m, 3000)];
        await multipart(s, b, `${mi}-mp`, parts, sse);
        const all = new Uint8Array(103_000);
        all.set(parts[0]);
        all.set(parts[1], 100_000);
        expect.push({ key: `${mi}-mp`, data: all, sse });
      }
      // The control: a plaintext object's marker must be found, or the scan proves nothing.
      await put(s, b, "plain", fillWith(marker(9999), 1000));
      await put(s, b, "plain-file", fillWith(marker(9998), 100_000));
      for (const e of expect) {
        const customer = e.sse.mode === "SSE-C" ? e.sse : undefined;
        const got = await s.backend.getObject(b, e.key, { customer });
        assertEquals(new Uint8Array(await new Response(got.body).arrayBuffer()), e.data, e.key);
      }
    } finally {
      await s.close();
    }
    const found = await findMarkers(dataDir, [...markers, marker(9999), marker(9998)]);
    assertEquals(
      [...found].sort((x, y) => x - y),
      [markers.length, markers.length + 1],
      "only the plaintext objects' markers are stored",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the hot cache keeps sealed bytes, never an SSE-C plaintext", async () => {
  const o = await openTempStorage("maxiofs-sealed-hot-", { hotCacheBytes: 1 << 20 });
  try {
    const s = o.storage;
    const b = await s.backend.createBucket({ ns: "", name: "hot", ownerId: "o", region: "r" });
    const m = marker(1);
    const c = customerKey(3);
    for (const [key, size] of [["inline", 2000], ["file", 40_000]] as const) {
      const rec = await put(s, b, key, fillWith(m, size), c);
      const got = await s.backend.getObject(b, key, { customer: c });
      await new Response(got.body).arrayBuffer();
      const cached = s.core.blobs.hot.get(rec.blob!);
      assert(cached, `${key}: the blob is cached`);
      assertEquals(cached.length, size + 16);
      assertEquals(indexOf(cached, m), -1, `${key}: no plaintext in the cache`);
    }
  } finally {
    await o.close();
  }
});

/** Reads a key and returns what happened: its bytes, or the error of opening or reading. */
async function tryRead(s: Storage, b: BucketRecord, key: string): Promise<Uint8Array | Error> {
  try {
    const got = await s.backend.getObject(b, key);
    return new Uint8Array(await new Response(got.body).arrayBuffer());
  } catch (e) {
    return e as Error;
  }
}

Deno.test("a flipped byte in a stored blob fails the read, never wrong bytes", async () => {
  const o = await openTempStorage("maxiofs-sealed-flip-", { fsync: false });
  try {
    const s = o.storage;
    const b = await s.backend.createBucket({ ns: "", name: "flip", ownerId: "o", region: "r" });
    // One read whole before the response (200 KB), one streamed (3 MB), a multipart object.
    const cases: [string, ObjectRecord, number][] = [];
    for (const size of [200_000, 3_000_000]) {
      const rec = await put(s, b, `k${size}`, fillWith(marker(size % 9999), size), {
        mode: "AES256",
      });
      cases.push([`k${size}`, rec, size]);
    }
    const mp = await multipart(
      s,
      b,
      "mp",
      [fillWith(marker(5), 100_000), fillWith(marker(6), 10)],
      {
        mode: "AES256",
      },
    );
    for (const [key, rec, size] of cases) {
      const path = s.core.blobs.pathOf(rec.blob!);
      const orig = await Deno.readFile(path);
      for (const at of [0, 70_000, orig.length - 1]) {
        const bad = orig.slice();
        bad[at] ^= 0x01;
        await Deno.writeFile(path, bad);
        const r = await tryRead(s, b, key);
        assert(r instanceof Error, `${key} byte ${at}: the read must fail`);
        if (size <= 1_000_000) assert(isS3Error(r) && r.code === "InternalError", String(r));
      }
      // A range of untouched segments still reads; the damaged one fails.
      const bad = orig.slice();
      bad[orig.length - 5] ^= 0x01;
      await Deno.writeFile(path, bad);
      const head = await s.backend.getObject(b, key, { range: () => ({ start: 0, end: 99 }) });
      assertEquals(new Uint8Array(await new Response(head.body).arrayBuffer()).length, 100);
      await assertRejects(async () => {
        const tail = await s.backend.getObject(b, key, {
          range: () => ({ start: size - 10, end: size - 1 }),
        });
        await new Response(tail.body).arrayBuffer();
      });
      // Truncated at a segment boundary: short of what the record says.
      await Deno.writeFile(path, orig.subarray(0, 65_552));
      assert((await tryRead(s, b, key)) instanceof Error, `${key}: truncated`);
      await Deno.writeFile(path, orig);
      assertEquals((await tryRead(s, b, key) as Uint8Array).length, size);
    }
    const part = (await s.backend.objectParts(mp))[1];
    const path = s.core.blobs.pathOf(part.blob);
    const orig = await Deno.readFile(path);
    const bad = orig.slice();
    bad[3] ^= 0x80;
    await Deno.writeFile(path, bad);
    assert((await tryRead(s, b, "mp")) instanceof Error, "a damaged part fails the read");
  } finally {
    await o.close();
  }
});
