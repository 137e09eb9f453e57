/**
 * The console's access-control API: the policy simulator (`POST /api/v1/access/simulate`) by
 * role and with bad input, and the bucket list's `public` flag.
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import { makeTenant, startIamServer } from "./iam_fixture.ts";

Deno.test("console API: the policy simulator by role, bad input, and the public flag", async (t) => {
  const s = await startIamServer();
  try {
    const a = await makeTenant(s, "sima");
    const b = await makeTenant(s, "simb");
    const mkBucket = async (token: string, name: string) => {
      const r = await s.api("/buckets", { token, body: { name } });
      assertEquals(r.status, 201, JSON.stringify(r.body));
    };
    await mkBucket(a.user.token, "sima-data");
    await mkBucket(b.user.token, "simb-data");
    await mkBucket(s.adminToken, "global-data");
    const sim = (token: string, body: Record<string, unknown>) =>
      s.api("/access/simulate", { token, body });

    await t.step("a tenant admin asks about its own tenant's bucket", async () => {
      const owner = await sim(a.admin.token, {
        principal: a.user.username,
        op: "GetObject",
        bucket: "sima-data",
        key: "k",
      });
      assertEquals(owner.status, 200, JSON.stringify(owner.body));
      assertEquals(owner.body.allowed, true);
      assertEquals(owner.body.by, "bucket owner");
      assertEquals(owner.body.bucket, { name: "sima-data", account: "sima" });
      // Anonymous and another tenant's user: the bucket is named for them as sima:sima-data.
      for (const principal of ["anonymous", b.user.username]) {
        const r = await sim(a.admin.token, {
          principal,
          op: "GetObject",
          bucket: "sima-data",
          key: "k",
        });
        assertEquals(r.status, 200, JSON.stringify(r.body));
        assertEquals(r.body.allowed, false, principal);
        assert(typeof r.body.by === "string" && r.body.by.length > 0);
      }
    });

    await t.step("a tenant admin cannot look into another tenant's bucket", async () => {
      const r = await sim(a.admin.token, {
        principal: b.user.username,
        op: "GetObject",
        bucket: "simb:simb-data",
        key: "k",
      });
      assertEquals(r.status, 404);
      // tenantId of another tenant is ignored for tenant admins (their own tenant is used).
      const other = await sim(a.admin.token, {
        principal: b.user.username,
        op: "ListObjectsV2",
        bucket: "simb-data",
        tenantId: b.tenantId,
      });
      assertEquals(other.status, 404);
    });

    await t.step("a global admin asks about any bucket, by tenantId or tenant:bucket", async () => {
      const byId = await sim(s.adminToken, {
        principal: b.user.username,
        op: "PutObject",
        bucket: "simb-data",
        key: "x",
        tenantId: b.tenantId,
        sourceIp: "203.0.113.7",
        secure: true,
      });
      assertEquals(byId.status, 200, JSON.stringify(byId.body));
      assertEquals([byId.body.allowed, byId.body.by], [true, "bucket owner"]);
      const byName = await sim(s.adminToken, {
        principal: "anonymous",
        op: "ListObjectsV2",
        bucket: "simb:simb-data",
      });
      assertEquals(byName.status, 200);
      assertEquals(byName.body.allowed, false);
      const root = await sim(s.adminToken, {
        principal: "root",
        op: "DeleteBucket",
        bucket: "global-data",
      });
      assertEquals([root.status, root.body.allowed], [200, true]);
    });

    await t.step("tenant users and anonymous callers may not simulate", async () => {
      const r = await sim(a.user.token, {
        principal: a.user.username,
        op: "GetObject",
        bucket: "sima-data",
        key: "k",
      });
      assertEquals([r.status, r.body.error.code], [403, "Forbidden"]);
      const anon = await s.api("/access/simulate", {
        body: { principal: "anonymous", op: "GetObject", bucket: "global-data", key: "k" },
      });
      assertEquals(anon.status, 401);
    });

    await t.step("bad input is refused with the reason", async () => {
      const good = { principal: a.user.username, op: "GetObject", bucket: "sima-data", key: "k" };
      for (
        const [body, why] of [
          [{ ...good, op: "Frobnicate" }, "op must be"],
          [{ ...good, principal: "" }, "principal"],
          [{ ...good, principal: "no-such-user" }, "no user"],
          [{ ...good, key: "" }, "needs a key"],
          [{ ...good, sourceIp: "not-an-ip" }, "sourceIp"],
          [{ ...good, bucket: 7 }, "bucket"],
        ] as const
      ) {
        const r = await sim(a.admin.token, body);
        assertEquals([r.status, r.body.error.code], [400, "InvalidRequest"], JSON.stringify(body));
        assert(r.body.error.message.includes(why), r.body.error.message);
      }
      const res = await fetch(`${s.srv.consoleUrl}/api/v1/access/simulate`, {
        method: "POST",
        headers: { authorization: `Bearer ${a.admin.token}`, "content-type": "application/json" },
        body: "{not json",
      });
      assertEquals(res.status, 400);
      await res.body?.cancel();
      const missing = await sim(a.admin.token, { ...good, bucket: "no-such-bucket" });
      assertEquals(missing.status, 404);
    });

    await t.step("the bucket list says whether each bucket is public", async () => {
      const r = await s.api("/buckets", { token: a.user.token });
      assertEquals(r.status, 200);
      const row = r.body.items.find((x: { name: string }) => x.name === "sima-data");
      // Private: no policy, the owner-only ACL.
      assertEquals(row.public, false);
    });
  } finally {
    await s.stop();
  }
});
