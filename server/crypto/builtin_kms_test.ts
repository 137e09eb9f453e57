/**
 * The built-in key service over the real master keyring (a temp data dir) and SQLite: data key
 * round trips bound to their context, the errors S3 answers, rotation, namespaces and the
 * default key, material never stored in clear, and resealing under a new master key.
 */
import { assert, assertEquals, assertRejects, s3ErrorOf } from "../../tests/_helpers/assert.ts";
import { type Db, openDb } from "../db/mod.ts";
import { BuiltinKms, KmsAdminError, type MasterKeys } from "./builtin_kms.ts";
import { Keyring } from "./keyring.ts";

/** The data dir's keyring, remembering every plaintext it sealed (to look for it on disk). */
class RecordingKeyring implements MasterKeys {
  readonly sealedPlaintexts: Uint8Array[] = [];
  constructor(readonly inner: Keyring) {}

  get active(): string {
    return `m:${this.inner.activeId}`;
  }

  wrap(dk: Uint8Array) {
    this.sealedPlaintexts.push(dk.slice());
    return this.inner.wrap(dk);
  }

  unwrap(kek: string, wrapped: Uint8Array) {
    return this.inner.unwrap(kek, wrapped);
  }
}

interface Env {
  dir: string;
  db: Db;
  keyring: RecordingKeyring;
  kms: BuiltinKms;
}

/** A key service on a fresh data dir (`maxiofs.db`, `keyring.json`), removed afterwards. */
async function withKms(fn: (env: Env) => Promise<void>, now: () => number = () => 1_000) {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-kms-" });
  const db = openDb(`${dir}/maxiofs.db`);
  try {
    const keyring = new RecordingKeyring(await Keyring.open(dir));
    const kms = new BuiltinKms({ db, keyring, region: "us-east-1", clock: { now } });
    await fn({ dir, db, keyring, kms });
  } finally {
    if (db.isOpen) db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const ctx = btoa(JSON.stringify({ purpose: "test" }));

Deno.test("BuiltinKms: a data key round trips under the key, bound to its context", async () => {
  await withKms(async ({ kms }) => {
    const info = await kms.createKey("", { id: "testkey-1", description: "for tests" });
    assertEquals(info.arn, "arn:aws:kms:us-east-1::key/testkey-1");
    assertEquals([info.state, info.versions, info.description], ["Enabled", 1, "for tests"]);
    const dk = await kms.generateDataKey("", "testkey-1", ctx);
    assertEquals([dk.kek, dk.arn, dk.key.length, dk.wrapped.length], [
      "kms:testkey-1:1",
      info.arn,
      32,
      60,
    ]);
    assertEquals(await kms.decryptDataKey("", dk.kek, dk.wrapped, ctx), dk.key);
    // The ARN names the same key; two data keys differ.
    const byArn = await kms.generateDataKey("", info.arn, undefined);
    assertEquals(byArn.kek, "kms:testkey-1:1");
    assert(byArn.key.some((b, i) => b !== dk.key[i]));

    // Another context, no context, or a changed byte: the key does not open.
    const other = btoa(JSON.stringify({ purpose: "other" }));
    for (const c of [other, undefined, ""]) {
      assertEquals(
        await s3ErrorOf(kms.decryptDataKey("", dk.kek, dk.wrapped, c)),
        "403 AccessDenied",
      );
    }
    const flipped = dk.wrapped.slice();
    flipped[20] ^= 1;
    assertEquals(await s3ErrorOf(kms.decryptDataKey("", dk.kek, flipped, ctx)), "403 AccessDenied");
  });
});

Deno.test("BuiltinKms: unknown and disabled keys get the errors S3 answers", async () => {
  await withKms(async ({ kms }) => {
    for (const id of ["nokey", "arn:aws:kms:us-east-1::key/nokey", "bad id!"]) {
      assertEquals(
        await s3ErrorOf(kms.generateDataKey("", id, undefined)),
        "400 KMS.NotFoundException",
        id,
      );
    }
    await kms.createKey("", { id: "k" });
    const dk = await kms.generateDataKey("", "k", undefined);
    const off = await kms.setKeyState("", "k", "Disabled");
    assertEquals(off.state, "Disabled");
    assertEquals(
      await s3ErrorOf(kms.generateDataKey("", "k", undefined)),
      "400 KMS.DisabledException",
    );
    // A disabled key opens nothing it wrapped either, until it is enabled again.
    assertEquals(
      await s3ErrorOf(kms.decryptDataKey("", dk.kek, dk.wrapped, undefined)),
      "400 KMS.DisabledException",
    );
    await kms.setKeyState("", "k", "Enabled");
    assertEquals(await kms.decryptDataKey("", dk.kek, dk.wrapped, undefined), dk.key);
    // Another region's ARN is another key.
    assertEquals(
      await s3ErrorOf(kms.generateDataKey("", "arn:aws:kms:eu-west-1::key/k", undefined)),
      "400 KMS.NotFoundException",
    );
    // Management: unknown keys, bad ids, ids taken.
    assertEquals(await s3ErrorOf(kms.describeKey("", "nokey")), "400 KMS.NotFoundException");
    assertEquals(await s3ErrorOf(kms.rotateKey("", "nokey")), "400 KMS.NotFoundException");
    for (const id of ["", "a/b", "a:b", "-x", "x".repeat(129)]) {
      const e = await assertRejects(() => kms.createKey("", { id }));
      assert(e instanceof KmsAdminError && e.code === "InvalidArgument", id);
    }
    const dup = await assertRejects(() => kms.createKey("", { id: "k" }));
    assert(dup instanceof KmsAdminError && dup.code === "AlreadyExists");
    assertEquals((await kms.listKeys("")).map((k) => k.id), ["k"]);
  });
});

Deno.test("BuiltinKms: rotation keeps older data keys readable; new ones use the new version", async () => {
  let now = 1_000;
  await withKms(async ({ kms }) => {
    await kms.createKey("", { id: "rot" });
    const v1 = await kms.generateDataKey("", "rot", ctx);
    now = 2_000;
    const info = await kms.rotateKey("", "rot");
    assertEquals([info.versions, info.rotated, info.created], [2, 2_000, 1_000]);
    const v2 = await kms.generateDataKey("", "rot", ctx);
    assertEquals([v1.kek, v2.kek], ["kms:rot:1", "kms:rot:2"]);
    assertEquals(await kms.decryptDataKey("", v1.kek, v1.wrapped, ctx), v1.key);
    assertEquals(await kms.decryptDataKey("", v2.kek, v2.wrapped, ctx), v2.key);
    // A version's data key does not open under another version's name.
    assertEquals(
      await s3ErrorOf(kms.decryptDataKey("", "kms:rot:2", v1.wrapped, ctx)),
      "403 AccessDenied",
    );
    assertEquals(
      await s3ErrorOf(kms.decryptDataKey("", "kms:rot:3", v1.wrapped, ctx)),
      "400 KMS.NotFoundException",
    );
  }, () => now);
});

Deno.test("BuiltinKms: namespaces are isolated; each has its own default key", async () => {
  await withKms(async ({ kms }) => {
    await kms.createKey("t1", { id: "shared-name" });
    await kms.createKey("t2", { id: "shared-name" });
    const a = await kms.generateDataKey("t1", "shared-name", undefined);
    assertEquals(a.arn, "arn:aws:kms:us-east-1:t1:key/shared-name");
    // Same id in another namespace: another key; the ARN of t1's key from t2: not found.
    assertEquals(
      await s3ErrorOf(kms.decryptDataKey("t2", a.kek, a.wrapped, undefined)),
      "403 AccessDenied",
    );
    assertEquals(
      await s3ErrorOf(kms.generateDataKey("t2", a.arn, undefined)),
      "400 KMS.NotFoundException",
    );
    assertEquals(
      await s3ErrorOf(kms.decryptDataKey("t3", a.kek, a.wrapped, undefined)),
      "400 KMS.NotFoundException",
    );
    await kms.createKey("t1", { id: "only-t1" });
    assertEquals(
      await s3ErrorOf(kms.generateDataKey("t2", "only-t1", undefined)),
      "400 KMS.NotFoundException",
    );
    assertEquals(
      await s3ErrorOf(kms.setKeyState("t2", "only-t1", "Disabled")),
      "400 KMS.NotFoundException",
    );
    assertEquals((await kms.listKeys("t2")).map((k) => k.id), ["shared-name"]);

    // No key named: the namespace's default key, created once at first use.
    const d1 = await kms.generateDataKey("t1", undefined, undefined);
    const [d2, d3] = await Promise.all([
      kms.generateDataKey("t1", "alias/aws/s3", undefined),
      kms.generateDataKey("t1", "arn:aws:kms:us-east-1:t1:alias/aws/s3", undefined),
    ]);
    assertEquals(new Set([d1.kek, d2.kek, d3.kek]).size, 1);
    // Two first uses at once still make one default key.
    const [o1, o2] = await Promise.all([
      kms.generateDataKey("t2", undefined, undefined),
      kms.generateDataKey("t2", "alias/aws/s3", undefined),
    ]);
    assertEquals(o1.kek, o2.kek);
    assert(o1.arn !== d1.arn);
    assertEquals((await kms.listKeys("t2")).length, 2);
    const t1Keys = await kms.listKeys("t1");
    assertEquals(t1Keys.length, 3);
    const def = await kms.describeKey("t1", "alias/aws/s3");
    assertEquals(def.arn, d1.arn);
    assert(/aws\/s3/.test(def.description));
  });
});

Deno.test("BuiltinKms: material is sealed by the master key, never stored in clear", async () => {
  await withKms(async ({ dir, db, kms, keyring }) => {
    await kms.createKey("", { id: "testkey-1" });
    await kms.createKey("t1", { id: "testkey-2" });
    await kms.rotateKey("", "testkey-1");
    await kms.generateDataKey("", undefined, undefined);
    const materials = keyring.sealedPlaintexts;
    assertEquals(materials.length, 4);
    // The rows hold the sealed form: it opens with the keyring to the same material.
    const rows = db.prepare("SELECT kek, sealed FROM kms_key_versions").all() as {
      kek: string;
      sealed: Uint8Array;
    }[];
    assertEquals(rows.length, 4);
    for (const r of rows) {
      assertEquals(r.kek, keyring.active);
      const opened = await keyring.unwrap(r.kek, r.sealed);
      assert(materials.some((m) => indexOf(m, opened) === 0));
    }
    db.close();
    let files = 0;
    for await (const e of Deno.readDir(dir)) {
      const bytes = await Deno.readFile(`${dir}/${e.name}`);
      files++;
      for (const m of materials) assertEquals(indexOf(bytes, m), -1, `material in ${e.name}`);
    }
    assert(files >= 2);
  });
});

Deno.test("BuiltinKms: rewrapMaterial reseals under the active master key", async () => {
  await withKms(async ({ db, kms, keyring }) => {
    await kms.createKey("", { id: "a" });
    await kms.createKey("t1", { id: "b" });
    await kms.rotateKey("", "a");
    const before = await kms.generateDataKey("", "a", ctx);
    const old = keyring.active;
    await keyring.inner.rotate();
    const isOld = (kek: string) => kek === old;
    assertEquals(kms.materialUnder(isOld), 3);
    assertEquals(await kms.rewrapMaterial(isOld), 3);
    assertEquals(kms.materialUnder(isOld), 0);
    assertEquals(kms.materialUnder((k) => k === keyring.active), 3);
    // Nothing left to do: a second pass (a resumed rotation) changes nothing.
    assertEquals(await kms.rewrapMaterial(isOld), 0);
    // The old master key can go: every version opens under the new one, data keys still open.
    await keyring.inner.retire(old.slice(2));
    const fresh = new BuiltinKms({ db, keyring, region: "us-east-1" });
    assertEquals(await fresh.decryptDataKey("", before.kek, before.wrapped, ctx), before.key);
    const b = await fresh.generateDataKey("t1", "b", undefined);
    assertEquals(await fresh.decryptDataKey("t1", b.kek, b.wrapped, undefined), b.key);
  });
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
