import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { exportKeys, importKeys, KeyExportError, openExport } from "./key_export.ts";

const KEYRING = JSON.stringify({ v: 1, active: "a1", keys: { a1: "c2VjcmV0" } });
const SECRETS = JSON.stringify({ v: 1, masterKey: "bWFzdGVy", signingKey: "c2lnbg==" });

async function dataDir(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-keyexp-" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  return dir;
}

Deno.test("key export: sealed under the passphrase, no key material in clear, restored into an empty dir", async () => {
  const src = await dataDir({ "keyring.json": KEYRING, "secrets.json": SECRETS });
  const dst = await Deno.makeTempDir({ prefix: "maxiofs-keyexp-" });
  try {
    const exp = await exportKeys(src, "correct horse battery");
    const text = JSON.stringify(exp);
    // Only strings long enough not to turn up by chance in base64 ciphertext ("a1" would, one
    // run in a few).
    for (const secret of ["c2VjcmV0", "bWFzdGVy", '"active"', "masterKey", "signingKey"]) {
      assert.ok(!text.includes(secret), `export shows ${secret}`);
    }
    const res = await importKeys(dst, text, "correct horse battery");
    assert.deepEqual(res.files, { "keyring.json": "written", "secrets.json": "written" });
    assert.equal(await Deno.readTextFile(`${dst}/keyring.json`), KEYRING);
    assert.equal(await Deno.readTextFile(`${dst}/secrets.json`), SECRETS);
    assert.equal((await Deno.stat(`${dst}/keyring.json`)).mode! & 0o777, 0o600);
    // Again onto the same files: nothing to change.
    const again = await importKeys(dst, text, "correct horse battery");
    assert.deepEqual(again.files, { "keyring.json": "unchanged", "secrets.json": "unchanged" });
  } finally {
    await Deno.remove(src, { recursive: true });
    await Deno.remove(dst, { recursive: true });
  }
});

Deno.test("key export: a wrong passphrase, a changed header or changed data fail clearly", async () => {
  const src = await dataDir({ "keyring.json": KEYRING });
  try {
    const exp = await exportKeys(src, "correct horse battery");
    const wrong = await openExport(JSON.stringify(exp), "wrong horse battery").catch((e) => e);
    assert.ok(wrong instanceof KeyExportError);
    assert.match(wrong.message, /wrong passphrase/);
    const cheaper = { ...exp, kdf: { ...exp.kdf, N: 2 ** 14 } };
    await assert.rejects(
      () => openExport(JSON.stringify(cheaper), "correct horse battery"),
      KeyExportError,
    );
    const data = Buffer.from(exp.data, "base64");
    data[3] ^= 1;
    const flipped = { ...exp, data: data.toString("base64") };
    await assert.rejects(
      () => openExport(JSON.stringify(flipped), "correct horse battery"),
      KeyExportError,
    );
    await assert.rejects(
      () => openExport("{}", "correct horse battery"),
      /not a MaxIOFS key export/,
    );
    await assert.rejects(() => exportKeys(src, "short"), /at least 8/);
  } finally {
    await Deno.remove(src, { recursive: true });
  }
});

Deno.test("key import: other keys in place are refused (nothing written) unless forced, which keeps them aside", async () => {
  const src = await dataDir({ "keyring.json": KEYRING, "secrets.json": SECRETS });
  const other = JSON.stringify({ v: 1, active: "b7", keys: { b7: "b3RoZXI=" } });
  const dst = await dataDir({ "keyring.json": other });
  try {
    const text = JSON.stringify(await exportKeys(src, "correct horse battery"));
    const err = await importKeys(dst, text, "correct horse battery").catch((e) => e);
    assert.ok(err instanceof KeyExportError);
    assert.match(err.message, /active key "b7", the export's "a1"/);
    assert.equal(await Deno.readTextFile(`${dst}/keyring.json`), other);
    await assert.rejects(() => Deno.stat(`${dst}/secrets.json`), Deno.errors.NotFound);
    const now = new Date("2026-12-07T16:00:00Z");
    const res = await importKeys(dst, text, "correct horse battery", { force: true, now });
    assert.deepEqual(res.files, { "keyring.json": "replaced", "secrets.json": "written" });
    assert.deepEqual(res.kept, [`${dst}/keyring.json.replaced-2026-12-07T16-00-00-000Z`]);
    assert.equal(await Deno.readTextFile(res.kept[0]), other);
    assert.equal(await Deno.readTextFile(`${dst}/keyring.json`), KEYRING);
  } finally {
    await Deno.remove(src, { recursive: true });
    await Deno.remove(dst, { recursive: true });
  }
});
