import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { quiet, withStorage } from "../../../tests/_helpers/storage.ts";
import { MemoryKeyring } from "../../../tests/_helpers/keyring.ts";
import { bodyOf, bucket, utf8 } from "../conformance/harness.ts";
import { objectPartsKey, partKey, uploadKey } from "../meta/keys.ts";
import { staleMasterKek } from "../../features/encryption/rotation.ts";
import type { StoredEncryption } from "../../crypto/types.ts";
import type { ObjectRecord, PartRef, RewrapOptions } from "../types.ts";
import type { LocalBackend } from "../backend.ts";
import type { MetaStore } from "../meta/store.ts";

/** The plaintext data key a test gives a record (or part): derived from what names it. */
const dkOf = (name: string) => new Uint8Array(createHash("sha256").update(name).digest());

function encOf(ring: MemoryKeyring, name: string): StoredEncryption {
  const { wrapped, kek } = ring.wrap(dkOf(name));
  return { mode: "AES256", fmt: "seg1", seg: 65536, dk: wrapped, kek };
}

const partsOf = (ring: MemoryKeyring, id: string, n: number): PartRef[] =>
  Array.from({ length: n }, (_, i) => ({
    n: i + 1,
    blob: `${id}.${i + 1}.x`,
    size: 1,
    etag: '"e"',
    dk: ring.wrap(dkOf(`${id}/${i + 1}`)).wrapped,
  }));

/**
 * Stored records as the encrypted write path leaves them (enc-store's writes are not what this
 * tests): every object and version record gets a data key under the keyring's active master key,
 * named by key and version so a copy in `obj` and `ver` holds the same one.
 */
async function encryptAll(meta: MetaStore, ring: MemoryKeyring): Promise<number> {
  let n = 0;
  for (const prefix of [["obj"], ["ver"]]) {
    for await (const e of meta.list<ObjectRecord>({ prefix })) {
      if (e.value.deleteMarker) continue;
      const name = `${e.value.key}@${e.value.versionId}`;
      await meta.set(e.key, { ...e.value, enc: encOf(ring, name) });
      n++;
    }
  }
  return n;
}

function rewrapWith(ring: MemoryKeyring, extra: Partial<RewrapOptions> = {}): RewrapOptions {
  return {
    stale: staleMasterKek(ring.activeId, ring.ids()),
    rewrap: (kek, dk) => {
      const { wrapped, kek: to } = ring.wrap(ring.unwrap(kek, dk));
      return Promise.resolve({ kek: to, dk: wrapped });
    },
    ...extra,
  };
}

/** Every data key of the data dir: where it is, its kek, and that it opens to what it was. */
async function allKeys(meta: MetaStore, ring: MemoryKeyring): Promise<string[]> {
  const keks: string[] = [];
  const open = (kek: string, dk: Uint8Array, name: string) => {
    assert.deepEqual(ring.unwrap(kek, dk), dkOf(name), `data key of ${name}`);
    keks.push(kek);
  };
  for (const prefix of [["obj"], ["ver"]]) {
    for await (const e of meta.list<ObjectRecord>({ prefix })) {
      const r = e.value;
      if (!r.enc) continue;
      open(r.enc.kek, r.enc.dk, `${r.key}@${r.versionId}`);
      for (const p of r.parts ?? []) open(p.kek ?? r.enc.kek, p.dk!, `${r.partsId}/${p.n}`);
    }
  }
  // Parts that name no kek follow their record's (or upload's), which `seed` wrapped under k1.
  for await (const e of meta.list<{ parts: PartRef[] }>({ prefix: ["objparts"] })) {
    for (const p of e.value.parts) open(p.kek ?? "m:k1", p.dk!, `${String(e.key[1])}/${p.n}`);
  }
  for await (
    const e of meta.list<{ dk: Uint8Array; kek?: string; n: number }>({ prefix: ["mpart"] })
  ) {
    open(e.value.kek ?? "m:k1", e.value.dk, `${String(e.key[1])}/${e.value.n}`);
  }
  for await (const e of meta.list<{ enc?: StoredEncryption }>({ prefix: ["mpu"] })) {
    if (e.value.enc) open(e.value.enc.kek, e.value.enc.dk, `upload ${String(e.key[1])}`);
  }
  return keks;
}

/** A data dir with every kind of record that holds a data key, all under master key k1. */
async function seed(be: LocalBackend, ring: MemoryKeyring) {
  const meta = be.core.meta;
  const u = await bucket(be, "plain");
  const v = await bucket(be, "versioned", { versioning: "Enabled" });
  const put = (b: typeof u, key: string, text: string) =>
    be.putObject(b, {
      key,
      body: bodyOf(utf8(text)),
      contentLength: utf8(text).length,
      content: {},
      meta: {},
      ownerId: "o",
    });
  for (let i = 0; i < 5; i++) await put(u, `solo/${i}`, `solo ${i}`);
  for (let i = 0; i < 3; i++) await put(v, "doc", `version ${i}`);
  await put(v, "gone", "x");
  await be.deleteObject(v, "gone");
  await encryptAll(meta, ring);
  // A multipart object with its part list inline, and one with a chunked list.
  const inline = { ...(await meta.get<ObjectRecord>(["obj", u.id, "solo/0"])).value! };
  inline.partsId = "mpinline";
  inline.parts = partsOf(ring, "mpinline", 3);
  await meta.set(["obj", u.id, "solo/0"], inline);
  const chunked = { ...(await meta.get<ObjectRecord>(["obj", u.id, "solo/1"])).value! };
  Object.assign(chunked, { partsId: "mpchunk", partsChunks: 2, parts: undefined });
  delete chunked.parts;
  await meta.set(["obj", u.id, "solo/1"], chunked);
  const all = partsOf(ring, "mpchunk", 5);
  await meta.set(objectPartsKey("mpchunk", 0), { v: 1, parts: all.slice(0, 3) });
  await meta.set(objectPartsKey("mpchunk", 1), { v: 1, parts: all.slice(3) });
  // An open upload with two parts: the upload keeps its encryption, each part its own key.
  const up = await be.createMultipartUpload(u, { key: "big", content: {}, meta: {}, ownerId: "o" });
  await meta.set(uploadKey(up.uploadId), { ...up, enc: encOf(ring, `upload ${up.uploadId}`) });
  for (const n of [1, 2]) {
    const { wrapped } = ring.wrap(dkOf(`${up.uploadId}/${n}`));
    await meta.set(partKey(up.uploadId, n), {
      v: 1,
      n,
      blob: `${up.uploadId}.${n}.x`,
      size: 1,
      etag: '"e"',
      lastModified: 0,
      dk: wrapped,
    });
  }
  return { u, v };
}

Deno.test("rewrap: one pass moves every data key (versions, latest records, inline and chunked parts, open uploads) to the new master key", async () => {
  await withStorage("maxiofs-rewrap-", async (s) => {
    const be = s.backend;
    const ring = new MemoryKeyring();
    const { u } = await seed(be, ring);
    const before = await allKeys(be.core.meta, ring);
    assert.ok(before.length > 20 && before.every((k) => k === "m:k1"));
    await ring.rotate();
    const p = await be.rewrapDataKeys(rewrapWith(ring, { fresh: true }));
    assert.equal(p.finished !== null, true);
    assert.equal(p.phase, "done");
    assert.equal(p.pass, 1);
    assert.equal(p.skipped, 0);
    assert.equal(p.remaining, 0);
    // 5 solo + 3 versions + 1 `obj` mirror + 1 version under the marker + the upload.
    assert.equal(p.rewrapped, 11);
    const after = await allKeys(be.core.meta, ring);
    assert.equal(after.length, before.length);
    assert.deepEqual([...new Set(after)], ["m:k2"]);
    // The old key is no longer needed for anything: the keys still open without it.
    await ring.retire("k1");
    await allKeys(be.core.meta, ring);
    // Inline part lists follow their record's kek; chunked parts name theirs.
    const inline = (await be.core.meta.get<ObjectRecord>(["obj", u.id, "solo/0"])).value!;
    assert.equal(inline.parts?.length, 3);
    assert.ok(inline.parts.every((p) => p.kek === undefined));
    // A second pass finds nothing.
    const again = await be.rewrapDataKeys(rewrapWith(ring));
    assert.equal(again.pass, 2);
    assert.equal(again.rewrapped, 0);
    assert.deepEqual(await be.rewrapProgress(), again);
  });
});

Deno.test("rewrap: a pass stopped by its limit resumes from its checkpoint and ends the same", async () => {
  await withStorage("maxiofs-rewrap-", async (s) => {
    const be = s.backend;
    const ring = new MemoryKeyring();
    await seed(be, ring);
    await ring.rotate();
    let calls = 0;
    const counting = rewrapWith(ring);
    const rewrap: RewrapOptions["rewrap"] = (kek, dk) => {
      calls++;
      return counting.rewrap(kek, dk);
    };
    const first = await be.rewrapDataKeys({ ...counting, rewrap, fresh: true, limit: 3 });
    assert.equal(first.finished, null);
    assert.equal(first.scanned, 3);
    assert.ok(first.remaining > 0);
    assert.deepEqual(await be.rewrapProgress(), first);
    const second = await be.rewrapDataKeys({ ...counting, rewrap, limit: 4 });
    assert.equal(second.finished, null);
    assert.equal(second.pass, 1);
    assert.equal(second.scanned, 7);
    const last = await be.rewrapDataKeys({ ...counting, rewrap });
    assert.ok(last.finished !== null);
    assert.equal(last.pass, 1);
    assert.equal(last.rewrapped, 11);
    // Nothing was rewrapped twice: one call per data key (records, parts, upload parts).
    const keys = await allKeys(be.core.meta, ring);
    assert.equal(calls, keys.length);
    assert.deepEqual([...new Set(keys)], ["m:k2"]);
  });
});

Deno.test("rewrap: a writer that changes a key under the pass wins, and the pass still leaves it clean", async () => {
  await withStorage("maxiofs-rewrap-", async (s) => {
    const be = s.backend;
    const ring = new MemoryKeyring();
    const { v } = await seed(be, ring);
    const docKeys = (await be.listObjectVersions(v, {
      prefix: "doc",
      delimiter: "",
      keyMarker: "",
      versionIdMarker: "",
      maxKeys: 10,
    })).versions.map((x) => Buffer.from(dkOf(`doc@${x.rec.versionId}`)).toString("hex"));
    assert.equal(docKeys.length, 3);
    await ring.rotate();
    let once = false;
    const base = rewrapWith(ring);
    const p = await be.rewrapDataKeys({
      ...base,
      fresh: true,
      rewrap: async (kek, dk) => {
        const plain = Buffer.from(ring.unwrap(kek, dk)).toString("hex");
        if (!once && docKeys.includes(plain)) {
          // A new version of "doc" lands while the pass works on the key: its commit fails
          // its version-head check and the key starts over.
          once = true;
          const text = utf8("newest");
          const rec = await be.putObject(v, {
            key: "doc",
            body: bodyOf(text),
            contentLength: text.length,
            content: {},
            meta: {},
            ownerId: "o",
          });
          const { wrapped, kek: k } = ring.wrap(dkOf(`doc@${rec.versionId}`));
          await be.updateObjectVersion(v, "doc", rec.versionId, (r) => ({
            ...r,
            enc: { mode: "AES256", fmt: "seg1", seg: 65536, dk: wrapped, kek: k },
          }));
        }
        return await base.rewrap(kek, dk);
      },
    });
    assert.ok(once);
    assert.ok(p.finished !== null);
    assert.equal(p.skipped, 0);
    // The first attempt's batch of "doc" lost to the writer and was not counted; the key's
    // latest record is now the writer's, under the new key already (one fewer than a quiet pass).
    assert.equal(p.rewrapped, 10);
    assert.deepEqual([...new Set(await allKeys(be.core.meta, ring))], ["m:k2"]);
    const latest = await be.getObjectRecord(v, "doc");
    assert.equal(latest.enc?.kek, "m:k2");
  });
});

Deno.test("rewrap: a data key that does not open is logged and skipped; the rest of the pass goes on", async () => {
  const warnings: string[] = [];
  const log = { ...quiet, warn: (msg: string) => void warnings.push(msg) };
  await withStorage("maxiofs-rewrap-", async (s) => {
    const be = s.backend;
    const ring = new MemoryKeyring();
    const { u } = await seed(be, ring);
    const key = ["obj", u.id, "solo/3"];
    const rec = (await be.core.meta.get<ObjectRecord>(key)).value!;
    const dk = rec.enc!.dk.slice();
    dk[20] ^= 1;
    await be.core.meta.set(key, { ...rec, enc: { ...rec.enc!, dk } });
    await ring.rotate();
    const p = await be.rewrapDataKeys(rewrapWith(ring, { fresh: true }));
    assert.ok(p.finished !== null);
    assert.equal(p.skipped, 1);
    assert.equal(p.rewrapped, 10);
    assert.equal(warnings.length, 1);
    assert.equal((await be.core.meta.get<ObjectRecord>(key)).value!.enc!.kek, "m:k1");
  }, { log });
});
