/**
 * The admin CLI's `kms` commands: offline on a stopped server's data dir (the ids conformance
 * suites use, a tenant's key, errors), then online through the console API on the same keys.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { cli } from "./_helpers/admin_cli.ts";
import { startServer } from "./_helpers/server.ts";
import { ADMIN_PASSWORD, ADMIN_USER } from "./iam_fixture.ts";

interface Key {
  id: string;
  arn: string;
  ns: string;
  state: string;
  versions: number;
  description: string;
}

Deno.test("admin CLI: kms keys offline and online", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-kms-cli-" });
  const env = { MAXIOFS_ROOT_USER: ADMIN_USER, MAXIOFS_ROOT_PASSWORD: ADMIN_PASSWORD };
  try {
    let srv = await startServer({ dataDir, env });
    await srv.stop({ keepData: true });
    const offline = ["--data-dir", dataDir];

    await t.step("offline: create, list, disable, rotate; errors exit 1", async () => {
      const k1 = await cli("kms", "create", "--id", "testkey-1", "--description", "d", ...offline);
      assertEquals(k1.code, 0, k1.stderr);
      const key = k1.json as Key;
      assertEquals([key.id, key.arn, key.state], [
        "testkey-1",
        "arn:aws:kms:us-east-1::key/testkey-1",
        "Enabled",
      ]);
      const tenant = await cli("tenant", "create", "kms-t", ...offline);
      assertEquals(tenant.code, 0, tenant.stderr);
      const tk = await cli("kms", "create", "--id", "testkey-2", "--tenant", "kms-t", ...offline);
      assertEquals(tk.code, 0, tk.stderr);
      assertEquals((tk.json as Key).ns, (tenant.json as { id: string }).id);
      const off = await cli("kms", "disable", "testkey-1", ...offline);
      assertEquals([off.code, (off.json as Key).state], [0, "Disabled"], off.stderr);
      const rot = await cli("kms", "rotate", "testkey-2", "--tenant", "kms-t", ...offline);
      assertEquals([rot.code, (rot.json as Key).versions], [0, 2], rot.stderr);
      const list = await cli("kms", "list", ...offline);
      assertEquals((list.json as Key[]).map((k) => `${k.id} ${k.state}`), ["testkey-1 Disabled"]);
      // The tenant's key is not in the global namespace; a taken id; a bad command.
      const missing = await cli("kms", "rotate", "testkey-2", ...offline);
      assertEquals(missing.code, 1);
      assert(missing.stderr.includes("KMS.NotFoundException"), missing.stderr);
      const dup = await cli("kms", "create", "--id", "testkey-1", ...offline);
      assertEquals(dup.code, 1);
      assert(dup.stderr.includes("AlreadyExists"), dup.stderr);
      const unknown = await cli("kms", "explode", ...offline);
      assertEquals(unknown.code, 2);
    });

    srv = await startServer({ dataDir, env });
    try {
      await t.step("online: the same keys through the console API", async () => {
        const online = [
          "--url",
          srv.consoleUrl,
          "--user",
          ADMIN_USER,
          "--password",
          ADMIN_PASSWORD,
        ];
        const on = await cli("kms", "enable", "testkey-1", ...online);
        assertEquals([on.code, (on.json as Key).state], [0, "Enabled"], on.stderr);
        const list = await cli("kms", "list", "--tenant", "kms-t", ...online);
        assertEquals(list.code, 0, list.stderr);
        assertEquals((list.json as Key[]).map((k) => `${k.id} ${k.versions}`), ["testkey-2 2"]);
        const created = await cli("kms", "create", "--description", "generated", ...online);
        assertEquals(created.code, 0, created.stderr);
        assert(/^[0-9a-f-]{36}$/.test((created.json as Key).id));
        const audit = await cli("audit", "--action", "kms.key", ...online);
        const seen = (audit.json as { action: string; actorName: string }[])
          .map((e) => `${e.action} ${e.actorName}`);
        for (
          const want of [
            "kms.key.create admin-cli",
            "kms.key.disable admin-cli",
            "kms.key.rotate admin-cli",
            "kms.key.enable admin",
            "kms.key.create admin",
          ]
        ) assert(seen.includes(want), `${want} in ${JSON.stringify(seen)}`);
      });
    } finally {
      await srv.stop({ keepData: true });
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
