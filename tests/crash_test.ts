/**
 * Crash safety: kill -9 during concurrent PUTs and overwrites, restart on the same data dir, and
 * check that every key holds one complete body that was sent for it (never a mix, never a body
 * that a later acknowledged write replaced), that its ETag is the MD5 of its bytes, that bucket
 * counters match the objects, and that no unreferenced blob file survives the start-up sweep.
 */
import { createHash } from "node:crypto";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { S3Client } from "@aws-sdk/client-s3";
import { assertInlineOwnership } from "./_helpers/inline.ts";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { bodyBytes, startServer, type TestServer } from "./_helpers/server.ts";

const BUCKET = "crash";
const KEYS = Array.from({ length: 8 }, (_, i) => `k/${i}`);
const SIZES = [1024, 16 * 1024, 256 * 1024, 1024 * 1024, 3 * 1024 * 1024];
const WRITERS = 8;

/** One PUT as sent: its body is `bodyOf(seed, size)`; `end` is when it was acknowledged. */
interface SentWrite {
  seed: number;
  size: number;
  start: number;
  end: number | null;
}

/** A body that names its writer: "seed=<n>;" then pseudo-random bytes derived from the seed. */
function bodyOf(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const head = new TextEncoder().encode(`seed=${seed};`);
  out.set(head);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = head.length; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function seedOf(body: Uint8Array): number | null {
  const m = /^seed=(\d+);/.exec(new TextDecoder().decode(body.subarray(0, 24)));
  return m ? Number(m[1]) : null;
}

const md5Hex = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

/** Runs WRITERS loops of PUTs to random keys until `stop` resolves; records every write. */
async function writeUntil(
  s3: S3Client,
  sent: Map<string, SentWrite[]>,
  nextSeed: { n: number },
  stop: Promise<void>,
): Promise<void> {
  let stopped = false;
  stop.then(() => stopped = true);
  await Promise.all(Array.from({ length: WRITERS }, async (_, w) => {
    let i = 0;
    while (!stopped) {
      const key = KEYS[(w * 5 + i++ * 3 + nextSeed.n) % KEYS.length];
      const seed = nextSeed.n++;
      const size = SIZES[(seed * 7) % SIZES.length];
      const write: SentWrite = { seed, size, start: performance.now(), end: null };
      sent.get(key)!.push(write);
      try {
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bodyOf(seed, size) }));
        write.end = performance.now();
      } catch {
        // The server died under this request: the write may or may not have been published.
        return;
      }
    }
  }));
}

/** Checks every key against what was sent for it. */
async function verifyKeys(s3: S3Client, sent: Map<string, SentWrite[]>): Promise<number> {
  let present = 0;
  for (const key of KEYS) {
    const writes = sent.get(key)!;
    let got: { bytes: Uint8Array; etag: string } | null = null;
    try {
      const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      got = { bytes: await bodyBytes(res.Body), etag: res.ETag ?? "" };
    } catch (e) {
      if ((e as { name?: string }).name !== "NoSuchKey") throw e;
    }
    if (!got) {
      assert(
        !writes.some((w) => w.end !== null),
        `${key} is missing although a write to it was acknowledged`,
      );
      continue;
    }
    present++;
    const seed = seedOf(got.bytes);
    const w = writes.find((x) => x.seed === seed);
    assert(w, `${key} holds a body that was never sent for it (seed ${seed})`);
    assertEquals(got.bytes.length, w.size, `${key}: length of seed ${seed}`);
    assert(
      md5Hex(got.bytes) === md5Hex(bodyOf(w.seed, w.size)),
      `${key}: bytes of seed ${seed} differ from what was sent`,
    );
    assertEquals(got.etag, `"${md5Hex(got.bytes)}"`, `${key}: ETag is not the MD5 of the bytes`);
    // A write acknowledged before another acknowledged write began must have been replaced.
    const end = w.end ?? Infinity;
    const later = writes.find((x) => x.end !== null && x.start > end);
    assert(!later, `${key} holds seed ${seed} although seed ${later?.seed} replaced it later`);
  }
  return present;
}

/**
 * Every file under objects/ must be referenced by a ["blob", group] entry, and every inline
 * body (["blobd", id], small objects) by a version record.
 */
async function assertNoOrphans(dataDir: string, expectObjects: number): Promise<void> {
  const kv = await Deno.openKv(`${dataDir}/kv.sqlite3`);
  try {
    const files: string[] = [];
    for await (const d of Deno.readDir(`${dataDir}/objects`)) {
      if (!d.isDirectory) continue;
      for await (const f of Deno.readDir(`${dataDir}/objects/${d.name}`)) files.push(f.name);
    }
    for (const id of files) {
      const dot = id.indexOf(".");
      const group = dot < 0 ? id : id.slice(0, dot);
      const ref = await kv.get(["blob", group]);
      assert(ref.value !== null, `orphan blob ${id} survived the start-up sweep`);
    }
    const inline = await assertInlineOwnership(kv);
    assert(files.length + inline >= expectObjects, "fewer stored bodies than objects");
    // Bucket counters are updated in the publish commits, so they survive the crash exactly.
    for await (const b of kv.list<{ id: string; name: string }>({ prefix: ["bucket"] })) {
      if (b.value?.name !== BUCKET) continue;
      const n = await kv.get<Deno.KvU64>(["bstat", b.value.id, "objects"]);
      assertEquals(Number(n.value?.value ?? 0n), expectObjects, "bucket object counter");
    }
  } finally {
    kv.close();
  }
}

Deno.test("kill -9 during concurrent PUTs and overwrites loses nothing acknowledged", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-crash-" });
  const sent = new Map(KEYS.map((k) => [k, [] as SentWrite[]]));
  const nextSeed = { n: 1 };
  let srv: TestServer = await startServer({ dataDir });
  try {
    await srv.client().send(new CreateBucketCommand({ Bucket: BUCKET }));
    let present = 0;
    // Different kill points: early (mostly mid-body), and later (many commits in flight).
    for (const killAfterMs of [120, 350, 700, 1100]) {
      const s3 = srv.client();
      const victim = srv;
      const stop = new Promise<void>((resolve) =>
        setTimeout(() => victim.kill9().then(resolve), killAfterMs)
      );
      await writeUntil(s3, sent, nextSeed, stop);
      await stop;
      s3.destroy();
      srv = await startServer({ dataDir });
      const check = srv.client();
      present = await verifyKeys(check, sent);
      const all = [...sent.values()].flat();
      console.log(
        `kill after ${killAfterMs} ms, so far: ${
          all.filter((w) => w.end !== null).length
        } writes ` +
          `acknowledged, ${
            all.filter((w) => w.end === null).length
          } cut off, ${present} keys present`,
      );
      check.destroy();
    }
    assert(
      [...sent.values()].some((ws) => ws.some((w) => w.end !== null)),
      "no write completed: the test did not exercise anything",
    );
    await srv.stop({ keepData: true });
    await assertNoOrphans(dataDir, present);
  } finally {
    await srv.stop({ keepData: true });
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
