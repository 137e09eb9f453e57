/**
 * Alerts end to end: a tenant filling its quota raises a warning, then a critical alert, and
 * recovers when it deletes; a locked account raises one; each alert is seen by the right
 * administrators only, and read marks count down. Checks run on demand (`--alert-interval 0`).
 */
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { makeTenant, startIamServer } from "./iam_fixture.ts";

const KiB = 1024;

interface AlertDoc {
  id: number;
  key: string;
  level: string;
  title: string;
  resolvedAt: number | null;
}

Deno.test("alerts: tenant quota, lockouts, visibility and read marks", async (t) => {
  const s = await startIamServer({}, { args: ["--alert-interval", "0"] });
  try {
    const a = await makeTenant(s, "alert-a", { maxBytes: 100 * KiB });
    const b = await makeTenant(s, "alert-b", { maxBytes: 100 * KiB });
    const c = s.s3(a.user.key, a.user.secret);
    await c.send(new CreateBucketCommand({ Bucket: "fill" }));
    const put = (key: string, kib: number) =>
      c.send(new PutObjectCommand({ Bucket: "fill", Key: key, Body: new Uint8Array(kib * KiB) }));
    const check = async () => {
      const r = await s.api("/alerts/check", { token: s.adminToken, body: {} });
      assertEquals(r.status, 200, JSON.stringify(r.body));
      // The test machine's own disk may be full enough for a disk alert: not this test's subject.
      return (r.body.changes as { kind: string; key: string }[]).filter((x) => x.key !== "disk");
    };
    const list = async (token: string, active = false) => {
      const r = await s.api(`/alerts${active ? "?active=true" : ""}`, { token });
      assertEquals(r.status, 200, JSON.stringify(r.body));
      return r.body as { items: AlertDoc[]; unread: number };
    };
    const quotaKey = `quota:tenant:${a.tenantId}`;

    await t.step("below 80% nothing; at 85% a warning the tenant's admins see", async () => {
      await put("one", 50);
      assertEquals(await check(), []);
      await put("two", 35);
      assertEquals(await check(), [{ kind: "raised", key: quotaKey }]);
      const mine = await list(a.admin.token);
      assertEquals(mine.items.map((x) => [x.key, x.level]), [[quotaKey, "warning"]]);
      // (tenant admins never see the global disk alert, whatever the disk)
      assertEquals(mine.items[0].title, "Quota of tenant alert-a 85% used");
      assertEquals(mine.unread, 1);
      assertEquals((await list(b.admin.token)).items, [], "another tenant's admin sees none");
      const all = (await list(s.adminToken)).items.map((x) => x.key);
      assert(all.includes(quotaKey), "the global admin sees it too");
      const denied = await s.api("/alerts", { token: a.user.token });
      assertEquals(denied.status, 403, "tenant users are not shown alerts");
    });

    await t.step("checked again at the same level: nothing new", async () => {
      assertEquals(await check(), []);
    });

    await t.step("at 95% it escalates and is unread again; deleting resolves it", async () => {
      await s.api("/alerts/read", { token: a.admin.token, body: {} });
      assertEquals((await list(a.admin.token)).unread, 0);
      await put("three", 10);
      assertEquals(await check(), [{ kind: "escalated", key: quotaKey }]);
      const mine = await list(a.admin.token);
      assertEquals(mine.items[0].level, "critical");
      assertEquals(mine.unread, 1);
      await c.send(new DeleteObjectCommand({ Bucket: "fill", Key: "two" }));
      assertEquals(await check(), [{ kind: "resolved", key: quotaKey }]);
      assertEquals((await list(a.admin.token, true)).items, []);
      const past = (await list(a.admin.token)).items[0];
      assert(past.resolvedAt !== null, "kept, resolved");
    });

    await t.step("a locked account raises an alert for its tenant", async () => {
      for (let i = 0; i < 5; i++) {
        const r = await s.api("/auth/login", {
          body: { username: b.user.username, password: "wrong-Password-1" },
        });
        assert(r.status === 401 || r.status === 423, String(r.status));
      }
      const changes = await check();
      const key = changes.find((x) => x.key.startsWith("lockout:"))?.key;
      assert(key, JSON.stringify(changes));
      const seen = await list(b.admin.token, true);
      assertEquals(seen.items.map((x) => x.title), [`Account ${b.user.username} locked`]);
      const id = seen.items[0].id;
      const resolved = await s.api(`/alerts/${id}/resolve`, { token: b.admin.token, body: {} });
      assertEquals(resolved.status, 200);
      const again = await s.api(`/alerts/${id}/resolve`, { token: b.admin.token, body: {} });
      assertEquals(again.status, 404, "already resolved");
    });

    await t.step("bad input: a malformed read request and limit are refused", async () => {
      const r = await s.api("/alerts/read", { token: s.adminToken, body: { ids: ["x"] } });
      assertEquals(r.status, 400);
      assertEquals((await s.api("/alerts?limit=0", { token: s.adminToken })).status, 400);
    });
  } finally {
    await s.stop();
  }
});
