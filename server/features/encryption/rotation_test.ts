import assert from "node:assert/strict";
import { withStorage } from "../../../tests/_helpers/storage.ts";
import { MemoryKeyring } from "../../../tests/_helpers/keyring.ts";
import { MasterKeyRotation, RotationRunningError, staleMasterKek } from "./rotation.ts";
import type { LocalBackend, ObjectRecord } from "../../storage/mod.ts";
import { silentLogger } from "../../log.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const bodyOf = (b: Uint8Array<ArrayBuffer>) => new Blob([b]).stream();

/** Objects whose records hold data keys under the keyring's active key (as encrypted PUTs do). */
async function seed(be: LocalBackend, ring: MemoryKeyring, n: number) {
  const b = await be.createBucket({ ns: "", name: "bkt", ownerId: "o", region: "us-east-1" });
  for (let i = 0; i < n; i++) {
    const text = utf8(`object ${i}`);
    await be.putObject(b, {
      key: `k${i}`,
      body: bodyOf(text),
      contentLength: text.length,
      content: {},
      meta: {},
      ownerId: "o",
    });
    await be.updateObjectVersion(b, `k${i}`, null, (r) => ({
      ...r,
      enc: { mode: "AES256", fmt: "seg1", seg: 65536, ...keyOf(ring.wrap(utf8(`dk${i}`))) },
    }));
  }
  return b;
}

const keyOf = (w: { wrapped: Uint8Array; kek: string }) => ({ dk: w.wrapped, kek: w.kek });

async function keks(be: LocalBackend): Promise<string[]> {
  const out: string[] = [];
  for await (const e of be.core.meta.list<ObjectRecord>({ prefix: ["obj"] })) {
    out.push(e.value.enc!.kek);
  }
  return out;
}

Deno.test("rotation: the new key becomes active, every data key moves to it, then the old key is retired", async () => {
  await withStorage("maxiofs-rot-", async (s) => {
    const ring = new MemoryKeyring();
    await seed(s.backend, ring, 4);
    const from: string[] = [];
    const kms = {
      rewrapMaterial: (stale: (kek: string) => boolean) => {
        from.push(["m:k1", "m:k2"].filter(stale).join());
        return Promise.resolve(0);
      },
    };
    const rot = new MasterKeyRotation({
      keyring: ring,
      storage: s.backend,
      kms,
      log: silentLogger,
    });
    assert.equal((await rot.status()).progress, null);
    const st = await rot.rotate();
    assert.equal(st.activeKeyId, "k2");
    assert.deepEqual(st.retiring, ["k1"]);
    await assert.rejects(() => rot.rotate(), RotationRunningError);
    assert.equal(await rot.idle(), "retired");
    assert.deepEqual(ring.ids(), ["k2"]);
    assert.deepEqual([...new Set(await keks(s.backend))], ["m:k2"]);
    // The key service's material was asked for after each pass, for the old key only.
    assert.deepEqual(from, ["m:k1", "m:k1"]);
    const after = await rot.status();
    assert.equal(after.running, false);
    assert.equal(after.keys, 1);
    assert.equal(after.progress?.rewrapped, 0);
    assert.ok(after.progress?.finished);
    assert.equal(after.error, null);
  });
});

Deno.test("rotation: key-service material still under the old key keeps it until a pass finds none", async () => {
  await withStorage("maxiofs-rot-", async (s) => {
    const ring = new MemoryKeyring();
    let material = 3;
    const kms = { rewrapMaterial: () => Promise.resolve(material > 0 ? material-- : 0) };
    const rot = new MasterKeyRotation({
      keyring: ring,
      storage: s.backend,
      kms,
      log: silentLogger,
    });
    await rot.rotate();
    assert.equal(await rot.idle(), "retired");
    assert.equal(material, 0);
    assert.equal((await s.backend.rewrapProgress())?.pass, 4);
  });
});

Deno.test("rotation: interrupted midway, a new job (a restart) resumes the pass and retires the old key", async () => {
  await withStorage("maxiofs-rot-", async (s) => {
    const ring = new MemoryKeyring();
    await seed(s.backend, ring, 6);
    const opts = { keyring: ring, storage: s.backend, kms: null, log: silentLogger };
    const first = new MasterKeyRotation({ ...opts, passLimit: 2 });
    await first.rotate();
    assert.equal(await first.idle(), "interrupted");
    const half = await first.status();
    assert.equal(half.keys, 2);
    assert.equal(half.progress?.finished, null);
    assert.equal(half.progress?.scanned, 2);
    assert.ok(half.progress!.remaining > 0);
    const kinds = new Set(await keks(s.backend));
    assert.deepEqual([...kinds].sort(), ["m:k1", "m:k2"]);
    const again = new MasterKeyRotation(opts);
    again.resume();
    assert.equal(await again.idle(), "retired");
    assert.deepEqual(ring.ids(), ["k2"]);
    assert.deepEqual([...new Set(await keks(s.backend))], ["m:k2"]);
    // The resumed pass was the interrupted one, then one that found nothing.
    assert.equal((await again.status()).progress?.pass, 2);
  });
});

Deno.test("rotation: a write in progress when the key rotated holds the old key back until it ends", async () => {
  await withStorage("maxiofs-rot-", async (s) => {
    const ring = new MemoryKeyring();
    const b = await seed(s.backend, ring, 1);
    const body = new TransformStream<Uint8Array, Uint8Array>();
    const writer = body.writable.getWriter();
    const put = s.backend.putObject(b, {
      key: "slow",
      body: body.readable,
      contentLength: 4,
      content: {},
      meta: {},
      ownerId: "o",
    });
    const rot = new MasterKeyRotation({
      keyring: ring,
      storage: s.backend,
      kms: null,
      log: silentLogger,
    });
    await rot.rotate();
    // Passes run and find nothing, but none may retire k1 while the write is open.
    for (let i = 0; i < 1000 && ((await s.backend.rewrapProgress())?.pass ?? 0) < 2; i++) {
      await new Promise((r) => setTimeout(r, 0));
    }
    assert.ok(((await s.backend.rewrapProgress())?.pass ?? 0) >= 2);
    assert.equal((await rot.status()).running, true);
    assert.deepEqual(ring.ids(), ["k1", "k2"]);
    await writer.write(utf8("data"));
    await writer.close();
    await put;
    assert.equal(await rot.idle(), "retired");
    assert.deepEqual(ring.ids(), ["k2"]);
  });
});

Deno.test("staleMasterKek: keyring keys other than the active one; key-service and customer keys, and unknown keys, never", () => {
  const stale = staleMasterKek("b", ["a", "b", "c"]);
  assert.deepEqual(["m:a", "m:b", "kms:k:1", "c", "m:c", "m:d"].filter(stale), ["m:a", "m:c"]);
});
