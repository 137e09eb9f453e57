/**
 * Recovery of the key material (issue 16 item 6, docs/operations.md "Restoring"): encrypted
 * objects are written, the keys exported under a passphrase with the admin CLI, the data dir
 * copied without `keyring.json`, the export imported, and the real server reads every object
 * back. A wrong passphrase fails clearly and writes nothing; other keys in place are refused.
 */
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startApp } from "./_helpers/app.ts";
import { cli } from "./_helpers/admin_cli.ts";
import { startServer } from "./_helpers/server.ts";
import { putSse, rootBucket } from "./_helpers/stored_sse.ts";

Deno.test("keys export / import: a data dir restored without keyring.json reads its encrypted objects again", async () => {
  const work = await Deno.makeTempDir({ prefix: "maxiofs-keys-" });
  const src = `${work}/src`;
  const dst = `${work}/dst`;
  const pass = `${work}/pass`;
  const exportFile = `${work}/keys.json`;
  await Deno.writeTextFile(pass, "restore me, please\n");
  const importWith = (passphraseFile: string) =>
    cli(
      "keys",
      "import",
      "--data-dir",
      dst,
      "--in",
      exportFile,
      "--passphrase-file",
      passphraseFile,
    );
  try {
    const expected = new Map<string, string>();
    const w = await startApp({ dataDir: src });
    try {
      const b = await rootBucket(w.app, "safe");
      for (const [key, text] of [["small", "a small secret"], ["large", "L".repeat(50_000)]]) {
        await putSse(w.app, b, key, text);
        expected.set(key, text);
      }
    } finally {
      await w.stop();
    }

    const exp = await cli(
      "keys",
      "export",
      "--data-dir",
      src,
      "--out",
      exportFile,
      "--passphrase-file",
      pass,
    );
    assertEquals(exp.code, 0, exp.stderr);
    assertEquals((await Deno.stat(exportFile)).mode! & 0o777, 0o600);
    const keyring = await Deno.readTextFile(`${src}/keyring.json`);
    const exported = await Deno.readTextFile(exportFile);
    for (const k of JSON.parse(keyring).keys as { key: string }[]) {
      assert(!exported.includes(k.key), "the export shows a master key");
    }

    const cp = await new Deno.Command("cp", { args: ["-a", src, dst] }).output();
    assert(cp.success, new TextDecoder().decode(cp.stderr));
    await Deno.remove(`${dst}/keyring.json`);

    // Asking the restored dir's status does not make a keyring that would stand in the way.
    const noKeys = await cli("keys", "status", "--data-dir", dst);
    assertEquals(noKeys.code, 1);
    assert(/no keyring\.json/.test(noKeys.stderr), noKeys.stderr);

    // A wrong passphrase: a clear error, nothing written.
    await Deno.writeTextFile(`${work}/wrong`, "not the passphrase\n");
    const bad = await importWith(`${work}/wrong`);
    assertEquals(bad.code, 1);
    assert(/wrong passphrase/.test(bad.stderr), bad.stderr);
    await Deno.stat(`${dst}/keyring.json`).then(
      () => assert(false, "keyring.json written"),
      (e) => assert(e instanceof Deno.errors.NotFound),
    );

    const imp = await importWith(pass);
    assertEquals(imp.code, 0, imp.stderr);
    assertEquals((imp.json as { files: Record<string, string> }).files, {
      "keyring.json": "written",
      "secrets.json": "unchanged",
    });
    assertEquals(await Deno.readTextFile(`${dst}/keyring.json`), keyring);

    const readAll = async () => {
      const srv = await startServer({ dataDir: dst });
      try {
        const s3 = srv.client();
        for (const [key, want] of expected) {
          const r = await s3.send(new GetObjectCommand({ Bucket: "safe", Key: key }));
          assertEquals(await r.Body!.transformToString(), want, key);
        }
        s3.destroy();
        // The data dir is in use: import refuses to run next to the server.
        const busy = await importWith(pass);
        assertEquals(busy.code, 1);
        assert(/in use/.test(busy.stderr), busy.stderr);
      } finally {
        await srv.stop({ keepData: true });
      }
    };
    await readAll();

    // Offline rotation of the restored dir: this process rewraps to the end and retires.
    const oldId = JSON.parse(keyring).active as string;
    const rot = await cli("keys", "rotate", "--data-dir", dst);
    assertEquals(rot.code, 0, rot.stderr);
    const after = rot.json as { outcome: string; activeKeyId: string; keys: number };
    assertEquals(after.outcome, "retired");
    assertEquals(after.keys, 1);
    assert(after.activeKeyId !== oldId);
    const st = await cli("keys", "status", "--data-dir", dst);
    assertEquals((st.json as { activeKeyId: string }).activeKeyId, after.activeKeyId);
    await readAll();
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("keys import: a data dir whose server made its own keyring refuses the export unless --force", async () => {
  const work = await Deno.makeTempDir({ prefix: "maxiofs-keys-" });
  const pass = `${work}/pass`;
  await Deno.writeTextFile(pass, "another passphrase");
  try {
    for (const d of ["a", "b"]) await startApp({ dataDir: `${work}/${d}` }).then((x) => x.stop());
    const out = `${work}/a.keys`;
    const keys = (cmd: string, dir: string, file: string, ...more: string[]) =>
      cli(
        "keys",
        cmd,
        "--data-dir",
        `${work}/${dir}`,
        cmd === "export" ? "--out" : "--in",
        file,
        "--passphrase-file",
        pass,
        ...more,
      );
    assertEquals((await keys("export", "a", out)).code, 0);
    const refused = await keys("import", "b", out);
    assertEquals(refused.code, 1);
    assert(/holds other keys/.test(refused.stderr), refused.stderr);
    const forced = await keys("import", "b", out, "--force");
    assertEquals(forced.code, 0, forced.stderr);
    const res = forced.json as { files: Record<string, string>; kept: string[] };
    assertEquals(res.files["keyring.json"], "replaced");
    assertEquals(res.kept.length, 2);
    assertEquals(
      await Deno.readTextFile(`${work}/b/keyring.json`),
      await Deno.readTextFile(`${work}/a/keyring.json`),
    );
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
