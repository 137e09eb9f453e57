/**
 * The key service's keys through the console API (`/api/v1/kms/keys`): who may list, create,
 * disable, enable and rotate them in which namespace, bad input, and the audit of each change.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { type AuditEntry, makeTenant, startIamServer } from "./iam_fixture.ts";

Deno.test("console API: key service keys by role and namespace, audited", async (t) => {
  const s = await startIamServer();
  try {
    const a = await makeTenant(s, "kmsa");
    const b = await makeTenant(s, "kmsb");
    const admin = s.adminToken;

    await t.step("a global admin creates keys of the global namespace", async () => {
      const r = await s.api("/kms/keys", {
        token: admin,
        body: { id: "testkey-1", description: "conformance" },
      });
      assertEquals(r.status, 201, JSON.stringify(r.body));
      assertEquals(r.body.id, "testkey-1");
      assertEquals(r.body.ns, "");
      assertEquals(r.body.arn, "arn:aws:kms:us-east-1::key/testkey-1");
      assertEquals([r.body.state, r.body.versions], ["Enabled", 1]);
      // No id: a generated UUID.
      const gen = await s.api("/kms/keys", { token: admin, body: {} });
      assertEquals(gen.status, 201);
      assert(/^[0-9a-f-]{36}$/.test(gen.body.id), gen.body.id);
      // Taken, malformed, or not a string.
      const dup = await s.api("/kms/keys", { token: admin, body: { id: "testkey-1" } });
      assertEquals([dup.status, dup.body.error.code], [409, "Conflict"]);
      for (const body of [{ id: "no/slash" }, { id: "x:y" }, { id: 7 }, { description: [] }]) {
        const bad = await s.api("/kms/keys", { token: admin, body });
        assertEquals(
          [bad.status, bad.body.error.code],
          [400, "InvalidRequest"],
          JSON.stringify(body),
        );
      }
      const list = await s.api("/kms/keys", { token: admin });
      assertEquals(list.status, 200);
      assertEquals(list.body.items.length, 2);
    });

    await t.step("disable, enable and rotate; by id or ARN", async () => {
      const off = await s.api("/kms/keys/testkey-1/disable", { method: "POST", token: admin });
      assertEquals([off.status, off.body.state], [200, "Disabled"]);
      const on = await s.api(
        `/kms/keys/${encodeURIComponent("arn:aws:kms:us-east-1::key/testkey-1")}/enable`,
        { method: "POST", token: admin },
      );
      assertEquals([on.status, on.body.state], [200, "Enabled"]);
      const rot = await s.api("/kms/keys/testkey-1/rotate", { method: "POST", token: admin });
      assertEquals([rot.status, rot.body.versions], [200, 2]);
      assertEquals(typeof rot.body.rotated, "number");
      const one = await s.api("/kms/keys/testkey-1", { token: admin });
      assertEquals([one.status, one.body.versions, one.body.description], [200, 2, "conformance"]);
      const none = await s.api("/kms/keys/nokey/disable", { method: "POST", token: admin });
      assertEquals([none.status, none.body.error.code], [404, "NotFound"]);
    });

    await t.step("tenant admins manage their tenant's keys only", async () => {
      // The same id in a tenant is another key; a tenantId in the body is ignored.
      const r = await s.api("/kms/keys", {
        token: a.admin.token,
        body: { id: "testkey-1", tenantId: b.tenantId },
      });
      assertEquals(r.status, 201, JSON.stringify(r.body));
      assertEquals(r.body.ns, a.tenantId);
      assertEquals(r.body.arn, `arn:aws:kms:us-east-1:${a.tenantId}:key/testkey-1`);
      const mine = await s.api("/kms/keys", { token: a.admin.token });
      assertEquals(mine.body.items.map((k: { arn: string }) => k.arn), [r.body.arn]);
      const theirs = await s.api("/kms/keys", { token: b.admin.token });
      assertEquals(theirs.body.items, []);
      // Another tenant's key, or the global key's ARN: not found.
      for (const id of ["testkey-1", "arn:aws:kms:us-east-1::key/testkey-1", r.body.arn]) {
        const x = await s.api(`/kms/keys/${encodeURIComponent(id)}/disable`, {
          method: "POST",
          token: b.admin.token,
        });
        assertEquals(x.status, 404, id);
      }
      const rot = await s.api("/kms/keys/testkey-1/rotate", {
        method: "POST",
        token: a.admin.token,
      });
      assertEquals([rot.status, rot.body.versions], [200, 2]);
    });

    await t.step("tenant users read their tenant's keys and change none", async () => {
      const list = await s.api("/kms/keys", { token: a.user.token });
      assertEquals([list.status, list.body.items.length], [200, 1]);
      const create = await s.api("/kms/keys", { token: a.user.token, body: { id: "mine" } });
      assertEquals(create.status, 403);
      const off = await s.api("/kms/keys/testkey-1/disable", {
        method: "POST",
        token: a.user.token,
      });
      assertEquals(off.status, 403);
      const one = await s.api("/kms/keys/testkey-1", { token: a.user.token });
      assertEquals([one.status, one.body.state], [200, "Enabled"]);
    });

    await t.step("a global admin reaches a tenant's keys with ?tenantId=", async () => {
      const list = await s.api(`/kms/keys?tenantId=${a.tenantId}`, { token: admin });
      assertEquals(list.body.items.map((k: { ns: string }) => k.ns), [a.tenantId]);
      const off = await s.api(`/kms/keys/testkey-1/disable?tenantId=${a.tenantId}`, {
        method: "POST",
        token: admin,
      });
      assertEquals([off.status, off.body.state, off.body.ns], [200, "Disabled", a.tenantId]);
      // The global key of the same id is untouched.
      const global = await s.api("/kms/keys/testkey-1", { token: admin });
      assertEquals(global.body.state, "Enabled");
      const unknown = await s.api("/kms/keys?tenantId=nosuchtenant", { token: admin });
      assertEquals(unknown.status, 404);
    });

    await t.step("every change is audited, failures and refusals too", async () => {
      const r = await s.api("/audit?action=kms.key&limit=100", { token: admin });
      assertEquals(r.status, 200);
      const entries = (r.body.items as AuditEntry[]).reverse();
      const seen = entries.map((e) => `${e.action} ${e.result} ${e.resource}`);
      for (
        const want of [
          "kms.key.create success kms-key/testkey-1",
          "kms.key.create failure kms/keys",
          "kms.key.disable success kms-key/testkey-1",
          "kms.key.enable success kms-key/testkey-1",
          "kms.key.rotate success kms-key/testkey-1",
          "kms.key.create denied kms/keys",
          "kms.key.disable denied kms/keys/testkey-1/disable",
        ]
      ) assert(seen.includes(want), `${want} in ${JSON.stringify(seen)}`);
      const tenantCreate = entries.find((e) =>
        e.action === "kms.key.create" && e.actorName === a.admin.username
      );
      assertEquals(tenantCreate?.tenantId, a.tenantId);
      // A tenant admin's audit view shows its tenant's key changes.
      const own = await s.api("/audit?action=kms.key", { token: a.admin.token });
      assert(own.body.items.length >= 2);
      assert(own.body.items.every((e: AuditEntry) => e.tenantId === a.tenantId));
    });
  } finally {
    await s.stop();
  }
});
