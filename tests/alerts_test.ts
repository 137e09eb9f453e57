/**
 * Alerts end to end: a tenant filling its quota raises a warning, then a critical alert, and
 * recovers when it deletes; a locked account raises one; each alert is seen by the right
 * administrators only, and read marks count down. Checks run on demand (`--alert-interval 0`).
 */
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { makeTenant, startIamServer } from "./iam_fixture.ts";
import { openEvents } from "./_helpers/events.ts";
import { findProgram, needs } from "./_helpers/programs.ts";
import { freePort, startSmtpServer } from "./_helpers/smtp.ts";

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
      const tenantConsole = await openEvents(s.srv.consoleUrl, a.admin.token);
      const otherConsole = await openEvents(s.srv.consoleUrl, b.admin.token);
      try {
        assertEquals((await tenantConsole.next()).type, "maintenance", "the stream's first state");
        assertEquals((await otherConsole.next()).type, "maintenance");
        await put("two", 35);
        assertEquals(await check(), [{ kind: "raised", key: quotaKey }]);
        const ev = await tenantConsole.next("alert");
        assertEquals(ev.type, "alert", "an open console of the tenant hears of it at once");
        const data = ev.data as { kind: string; alert: { key: string } };
        assertEquals([data.kind, data.alert.key], ["raised", quotaKey]);
      } finally {
        await tenantConsole.close();
        await otherConsole.close();
      }
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

    await t.step("a bucket's own quota raises its alert, named tenant:bucket", async () => {
      await c.send(new CreateBucketCommand({ Bucket: "capped" }));
      const q = await s.api("/buckets/capped/quota", {
        method: "PUT",
        token: a.admin.token,
        body: { maxBytes: 20 * KiB },
      });
      assertEquals(q.status, 200, JSON.stringify(q.body));
      await c.send(
        new PutObjectCommand({ Bucket: "capped", Key: "k", Body: new Uint8Array(19 * KiB) }),
      );
      const changes = await check();
      const bucketAlert = changes.find((x) => x.key.startsWith("quota:bucket:"));
      assertEquals(bucketAlert?.kind, "raised", JSON.stringify(changes));
      const seen = (await list(a.admin.token, true)).items.find((x) => x.key === bucketAlert!.key);
      assertEquals(seen?.title, "Quota of bucket alert-a:capped 95% used");
      assertEquals(seen?.level, "critical");
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

const aiosmtpd = await findProgram("aiosmtpd");

Deno.test(needs(aiosmtpd, {
  name: "alerts by email: the Test button, an alert and its recovery reach a real SMTP server",
  fn: async () => {
    const smtp = await startSmtpServer(aiosmtpd, { user: "maxiofs", password: "Smtp-pass-1" });
    const s = await startIamServer({}, { args: ["--alert-interval", "0"] });
    try {
      const setEmail = (email: Record<string, unknown>) =>
        s.api("/settings", { method: "PATCH", token: s.adminToken, body: { email } });
      const refused = await setEmail({ port: 0 });
      assertEquals(refused.status, 400, "an invalid port is refused");
      const ok = await setEmail({
        enabled: true,
        host: "127.0.0.1",
        port: freePort(),
        security: "none",
        username: "maxiofs",
        password: "Smtp-pass-1",
        from: "maxiofs@example.test",
        to: ["ops@example.test"],
      });
      assertEquals(ok.status, 200, JSON.stringify(ok.body));
      assertEquals(ok.body.email.passwordSet, true);
      assert(!JSON.stringify(ok.body).includes("Smtp-pass-1"), "the password is never sent back");
      const down = await s.api("/settings/email/test", { token: s.adminToken, body: {} });
      assertEquals(down.status, 502);
      assert(/refused the connection/.test(down.body.error.message), down.body.error.message);
      assertEquals((await setEmail({ port: smtp.port })).status, 200);
      const sent = await s.api("/settings/email/test", { token: s.adminToken, body: {} });
      assertEquals(sent.status, 200, JSON.stringify(sent.body));
      const [test] = await smtp.waitFor(1);
      assert(test.authenticated && test.data.includes("Subject: [MaxIOFS] Test email"));

      const tn = await makeTenant(s, "mail-t", { maxBytes: 100 * KiB });
      const c = s.s3(tn.user.key, tn.user.secret);
      await c.send(new CreateBucketCommand({ Bucket: "mail" }));
      await c.send(
        new PutObjectCommand({ Bucket: "mail", Key: "k", Body: new Uint8Array(95 * KiB) }),
      );
      await s.api("/alerts/check", { token: s.adminToken, body: {} });
      const mails = await smtp.waitFor(2);
      assert(mails[1].data.includes("Subject: [MaxIOFS CRITICAL] Quota of tenant mail-t 95% used"));
      await c.send(new DeleteObjectCommand({ Bucket: "mail", Key: "k" }));
      await s.api("/alerts/check", { token: s.adminToken, body: {} });
      const after = await smtp.waitFor(3);
      assert(after[2].data.includes("Subject: [MaxIOFS RESOLVED] Quota of tenant mail-t"));
    } finally {
      await s.stop();
      await smtp.stop();
    }
  },
}));
