/**
 * Master-key status and rotation through the console API and the admin CLI's online mode, on
 * the real server: global admins only, audited, and the rotation ends with one key again.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { ADMIN_PASSWORD, ADMIN_USER, makeTenant, startIamServer } from "./iam_fixture.ts";
import { cli } from "./_helpers/admin_cli.ts";

Deno.test("console API and admin CLI: master-key status and rotation", async (t) => {
  const s = await startIamServer();
  try {
    const tenant = await makeTenant(s, "keyless");
    const status = () => s.api("/encryption/status", { token: s.adminToken });
    const first = await status();
    assertEquals(first.status, 200, JSON.stringify(first.body));
    assertEquals(first.body.keys, 1);
    assertEquals(first.body.retiring, []);
    assertEquals(first.body.running, false);
    assertEquals(first.body.progress, null);
    const oldId = first.body.activeKeyId as string;

    await t.step("tenant administrators may neither look nor rotate", async () => {
      assertEquals((await s.api("/encryption/status", { token: tenant.admin.token })).status, 403);
      const r = await s.api("/encryption/rotate", { method: "POST", token: tenant.admin.token });
      assertEquals(r.status, 403);
      const audit = await s.api("/audit?action=encryption.rotate", { token: s.adminToken });
      assertEquals(audit.body.items[0]?.result, "denied");
    });

    await t.step(
      "a global admin rotates; the old key is retired when the rewrap ends",
      async () => {
        const r = await s.api("/encryption/rotate", { method: "POST", token: s.adminToken });
        assertEquals(r.status, 202, JSON.stringify(r.body));
        assert(r.body.activeKeyId !== oldId);
        assertEquals(r.body.keys, 2);
        assertEquals(r.body.retiring, [oldId]);
        // The data dir is empty: the passes are quick. A bounded number of status reads.
        let last = r.body;
        for (let i = 0; i < 500 && (last.running || last.keys > 1); i++) {
          last = (await status()).body;
        }
        assertEquals(last.keys, 1);
        assertEquals(last.activeKeyId, r.body.activeKeyId);
        assert(last.progress.finished > 0);
        assertEquals(last.progress.rewrapped, 0);
        const audit = await s.api("/audit?action=encryption.rotate", { token: s.adminToken });
        const ok = audit.body.items.find((e: { result: string }) => e.result === "success");
        assertEquals(ok?.resource, `master-key/${r.body.activeKeyId}`);
        assertEquals(ok?.actorName, ADMIN_USER);
      },
    );

    await t.step("the admin CLI shows and rotates through the API", async () => {
      const online = [
        "--url",
        s.srv.consoleUrl,
        "--user",
        ADMIN_USER,
        "--password",
        ADMIN_PASSWORD,
      ];
      const st = await cli("keys", "status", ...online);
      assertEquals(st.code, 0, st.stderr);
      const before = (st.json as { activeKeyId: string }).activeKeyId;
      const rot = await cli("keys", "rotate", ...online);
      assertEquals(rot.code, 0, rot.stderr);
      const after = rot.json as { activeKeyId: string; keys: number };
      assert(after.activeKeyId !== before);
      assertEquals(after.keys, 2);
    });
  } finally {
    await s.stop();
  }
});
