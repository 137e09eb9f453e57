/**
 * The audit log records every login (success, failure, lockout), 2FA change, user / tenant / key /
 * group / permission / policy change and bucket create/delete (console API and S3), successes and
 * failures alike, each with time, actor, tenant, action, resource, IP, user agent and result.
 * Also: the 2FA disable flow, with the next TOTP window's code (the enable code cannot be reused).
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { REGION } from "./_helpers/server.ts";
import { base32Decode, totp, TOTP_STEP_SECONDS } from "../server/iam/totp.ts";
import { type ApiResult, type AuditEntry, makeTenant, startIamServer } from "./iam_fixture.ts";

const UA = "maxiofs-audit-test/1.0";

Deno.test("audit log: logins, 2FA, IAM changes and bucket create/delete, with failures", async (t) => {
  const s = await startIamServer();
  // Every API call of this test carries a known user agent.
  const api = (path: string, init: Parameters<typeof s.api>[1] = {}): Promise<ApiResult> =>
    s.api(path, { ...init, headers: { "user-agent": UA, ...init.headers } });
  try {
    const a = await makeTenant(s, "audit-a");
    /** The newest entry matching the filters (after `since`), with all fields checked. */
    let since = 0;
    const entry = async (
      q: Record<string, string>,
      want: { result: string; actorName?: string; tenantId?: string | null; anyUa?: boolean },
    ): Promise<AuditEntry> => {
      const r = await api(`/audit?${new URLSearchParams({ ...q, limit: "50" })}`, {
        token: s.adminToken,
      });
      assertEquals(r.status, 200);
      const items = (r.body.items as AuditEntry[]).filter((e) =>
        e.id > since && e.result === want.result &&
        (want.actorName === undefined || e.actorName === want.actorName)
      );
      assert(items.length > 0, `no ${want.result} entry for ${JSON.stringify(q)}`);
      const e = items[0];
      assert(e.time > 0, "time");
      assert(e.actorName, "actor name");
      assert(e.resource, "resource");
      assertEquals(e.ip, "127.0.0.1", `ip of ${e.action}`);
      if (want.anyUa) assert(e.userAgent, `user agent of ${e.action}`);
      else assertEquals(e.userAgent, UA, `user agent of ${e.action}`);
      if (want.tenantId !== undefined) assertEquals(e.tenantId, want.tenantId, e.action);
      return e;
    };
    const mark = async () => {
      const r = await api("/audit?limit=1", { token: s.adminToken });
      since = r.body.items[0]?.id ?? 0;
    };

    await t.step("logins: success, failure and lockout", async () => {
      await mark();
      const pw = `${a.user.username}-Password-1`;
      const ok = await api("/auth/login", { body: { username: a.user.username, password: pw } });
      assertEquals(ok.status, 200);
      const bad = await api("/auth/login", { body: { username: a.user.username, password: "x" } });
      assertEquals(bad.status, 401);
      const okE = await entry({ action: "login.success" }, {
        result: "success",
        actorName: a.user.username,
        tenantId: a.tenantId,
      });
      assertEquals(okE.actorId, a.user.id);
      await entry({ action: "login.failure" }, {
        result: "failure",
        actorName: a.user.username,
        tenantId: a.tenantId,
      });
      await api("/settings", {
        method: "PATCH",
        token: s.adminToken,
        body: { lockoutThreshold: 2, lockoutMinutes: 5 },
      });
      const u = await api("/users", {
        token: s.adminToken,
        body: {
          username: "audit-locky",
          password: "Audit-locky-1",
          role: "tenant_user",
          tenantId: a.tenantId,
        },
      });
      assertEquals(u.status, 201);
      for (let i = 0; i < 3; i++) {
        await api("/auth/login", { body: { username: "audit-locky", password: "wrong" } });
      }
      await entry({ action: "login.locked" }, { result: "denied", actorName: "audit-locky" });
      await api("/settings", {
        method: "PATCH",
        token: s.adminToken,
        body: { lockoutThreshold: 0 },
      });
    });

    await t.step("2FA: setup, enable, backup codes and disable (next window's code)", async () => {
      await mark();
      const setup = await api("/auth/2fa/setup", { method: "POST", token: a.user.token });
      assertEquals(setup.status, 200);
      const secret = base32Decode(setup.body.secret);
      const enableCode = totp(secret, Date.now());
      const en = await api("/auth/2fa/enable", { token: a.user.token, body: { code: enableCode } });
      assertEquals(en.status, 200);
      // New backup codes, proven with one of the first set.
      const regen = await api("/auth/2fa/backup-codes", {
        token: a.user.token,
        body: { code: en.body.backupCodes[0] },
      });
      assertEquals(regen.status, 200);
      assertEquals(regen.body.backupCodes.length, 10);
      const pw = `${a.user.username}-Password-1`;
      // The code that enabled 2FA is spent: it cannot also turn it off.
      const reuse = await api("/auth/2fa/disable", {
        token: a.user.token,
        body: { password: pw, code: enableCode },
      });
      assertEquals([reuse.status, reuse.body.error.code], [401, "InvalidTotp"]);
      const next = () => totp(secret, Date.now() + TOTP_STEP_SECONDS * 1000);
      const wrongPw = await api("/auth/2fa/disable", {
        token: a.user.token,
        body: { password: "not-it", code: next() },
      });
      assertEquals(wrongPw.status, 401);
      // The next 30-second window's code is accepted now (±1 step of drift) and was never used.
      const off = await api("/auth/2fa/disable", {
        token: a.user.token,
        body: { password: pw, code: next() },
      });
      assertEquals(off.status, 204);
      const me = await api("/auth/me", { token: a.user.token });
      assertEquals(me.body.user.totpEnabled, false);
      const login = await api("/auth/login", { body: { username: a.user.username, password: pw } });
      assertEquals(login.status, 200);
      assert(login.body.token, "no TOTP step once 2FA is off");
      assertEquals(login.body.totpRequired ?? false, false);
      const again = await api("/auth/2fa/disable", {
        token: a.user.token,
        body: { password: pw, code: next() },
      });
      assertEquals(again.status, 409, "not enabled any more");

      const who = { actorName: a.user.username, tenantId: a.tenantId };
      await entry({ action: "2fa.setup" }, { result: "success", ...who });
      await entry({ action: "2fa.enable" }, { result: "success", ...who });
      await entry({ action: "2fa.backup_codes" }, { result: "success", ...who });
      await entry({ action: "2fa.disable" }, { result: "success", ...who });
      await entry({ action: "2fa.disable" }, { result: "failure", ...who });
      const failures = await api("/audit?action=2fa.disable&result=failure", {
        token: s.adminToken,
      });
      const why = (failures.body.items as AuditEntry[]).filter((e) => e.id > since).map((e) =>
        e.detail?.split(":")[0]
      );
      assertEquals(why.sort(), ["Conflict", "InvalidCredentials", "InvalidTotp"]);
    });

    await t.step("user, tenant, key, group, grant and policy changes are recorded", async () => {
      await mark();
      const tn = await api("/tenants", { token: s.adminToken, body: { name: "audit-t2" } });
      assertEquals(tn.status, 201);
      await api(`/tenants/${tn.body.id}`, {
        method: "PATCH",
        token: s.adminToken,
        body: { quota: { maxBuckets: 3 } },
      });
      const u = await api("/users", {
        token: a.admin.token,
        body: { username: "audit-u", password: "Audit-user-pass-1", role: "tenant_user" },
      });
      assertEquals(u.status, 201);
      await api(`/users/${u.body.id}`, {
        method: "PATCH",
        token: a.admin.token,
        body: { displayName: "Audited" },
      });
      const k = await api("/access-keys", { token: a.admin.token, body: { userId: u.body.id } });
      assertEquals(k.status, 201);
      await api(`/access-keys/${k.body.accessKeyId}`, {
        method: "PATCH",
        token: a.admin.token,
        body: { status: "inactive" },
      });
      await api(`/access-keys/${k.body.accessKeyId}`, { method: "DELETE", token: a.admin.token });
      const g = await api("/groups", { token: a.admin.token, body: { name: "audit-g" } });
      await api(`/groups/${g.body.id}/members/${u.body.id}`, {
        method: "PUT",
        token: a.admin.token,
      });
      const adminS3 = s3(s, a.admin.key, a.admin.secret);
      await adminS3.send(new CreateBucketCommand({ Bucket: "audit-shared" }));
      const gr = await api("/buckets/audit-shared/permissions", {
        token: a.admin.token,
        body: { subjectType: "user", subjectId: u.body.id, access: "read" },
      });
      assertEquals(gr.status, 201);
      await api(`/buckets/audit-shared/permissions/${gr.body.id}`, {
        method: "DELETE",
        token: a.admin.token,
      });
      const p = await api("/policies", {
        token: a.admin.token,
        body: {
          name: "audit-p",
          document: { Statement: [{ Effect: "Deny", Action: "s3:DeleteObject", Resource: "*" }] },
        },
      });
      await api(`/policies/${p.body.id}/attachments/users/${u.body.id}`, {
        method: "PUT",
        token: a.admin.token,
      });
      await api(`/users/${u.body.id}`, { method: "DELETE", token: a.admin.token });
      await api(`/tenants/${tn.body.id}`, { method: "DELETE", token: s.adminToken });
      const byA = { actorName: a.admin.username, tenantId: a.tenantId };
      for (
        const action of [
          "user.create",
          "user.update",
          "user.delete",
          "access_key.create",
          "access_key.update",
          "access_key.delete",
          "group.create",
          "group.member_add",
          "grant.create",
          "grant.delete",
          "policy.create",
          "policy.attach",
        ]
      ) {
        await entry({ action }, { result: "success", ...byA });
      }
      for (const action of ["tenant.create", "tenant.update", "tenant.delete"]) {
        await entry({ action }, { result: "success", actorName: "admin", tenantId: tn.body.id });
      }
    });

    await t.step("refused changes by unauthorized users are recorded as denied", async () => {
      await mark();
      const attempts: [string, string, string, unknown?][] = [
        ["user.update", "PATCH", `/users/${a.user.id}`, { role: "global_admin" }],
        ["user.create", "POST", "/users", { username: "x1", password: "X1-password-1" }],
        ["tenant.create", "POST", "/tenants", { name: "nope" }],
        ["tenant.update", "PATCH", `/tenants/${a.tenantId}`, { quota: { maxBytes: null } }],
        ["grant.create", "POST", "/buckets/audit-shared/permissions", {
          subjectType: "user",
          subjectId: a.user.id,
          access: "full",
        }],
        ["policy.create", "POST", "/policies", { name: "mine", document: { Statement: [] } }],
        ["group.create", "POST", "/groups", { name: "mine" }],
        ["settings.update", "PATCH", "/settings", { lockoutThreshold: 0 }],
      ];
      for (const [action, method, path, body] of attempts) {
        const r = await api(path, { method, body, token: a.user.token });
        assert([403, 404].includes(r.status), `${method} ${path}: ${r.status}`);
        const e = await entry({ action }, {
          result: r.status === 403 ? "denied" : "failure",
          actorName: a.user.username,
          tenantId: a.tenantId,
        });
        assert(e.detail, `${action}: the refusal says why`);
      }
      // A tenant admin aiming at the tenant's quota (global admins only) is denied too.
      const q = await api(`/tenants/${a.tenantId}`, {
        method: "PATCH",
        token: a.admin.token,
        body: { quota: { maxBytes: null } },
      });
      assertEquals(q.status, 403);
      await entry({ action: "tenant.update" }, {
        result: "denied",
        actorName: a.admin.username,
        tenantId: a.tenantId,
      });
    });

    await t.step(
      "S3 and API bucket create/delete, including failures, with client details",
      async () => {
        await mark();
        const c = s3(s, a.user.key, a.user.secret);
        await c.send(new CreateBucketCommand({ Bucket: "audit-s3" }));
        await c.send(new PutObjectCommand({ Bucket: "audit-s3", Key: "k", Body: "x" }));
        await assertS3Error(
          () => c.send(new DeleteBucketCommand({ Bucket: "audit-s3" })),
          "BucketNotEmpty",
          409,
        );
        await assertS3Error(
          () => c.send(new DeleteBucketCommand({ Bucket: "audit-missing" })),
          "NoSuchBucket",
          404,
        );
        const who = { actorName: a.user.username, tenantId: a.tenantId, anyUa: true };
        await entry({ action: "bucket.create" }, { result: "success", ...who });
        const fails = await api("/audit?action=bucket.delete&result=failure&limit=5", {
          token: s.adminToken,
        });
        const resources = (fails.body.items as AuditEntry[]).filter((e) => e.id > since).map(
          (e) => {
            assertEquals(e.ip, "127.0.0.1", e.resource ?? "");
            assert(e.userAgent, e.resource ?? "");
            return e.resource;
          },
        );
        assertEquals(resources.sort(), ["bucket/audit-missing", "bucket/audit-s3"]);
        // Through the console API: a tenant bucket created by the global admin, and a refused one.
        const created = await api("/buckets", {
          token: s.adminToken,
          body: { name: "audit-api", tenantId: a.tenantId },
        });
        assertEquals(created.status, 201);
        await entry({ action: "bucket.create" }, {
          result: "success",
          actorName: "admin",
          tenantId: a.tenantId,
        });
        const dup = await api("/buckets", {
          token: s.adminToken,
          body: { name: "audit-api", tenantId: a.tenantId },
        });
        assertEquals(dup.status, 409);
        await entry({ action: "bucket.create" }, {
          result: "failure",
          actorName: "admin",
          tenantId: a.tenantId,
        });
        const del = await api(`/buckets/audit-api?tenantId=${a.tenantId}`, {
          method: "DELETE",
          token: s.adminToken,
        });
        assertEquals(del.status, 204);
        await entry({ action: "bucket.delete" }, {
          result: "success",
          actorName: "admin",
          tenantId: a.tenantId,
        });
      },
    );
  } finally {
    await s.stop();
  }
});

/** An SDK client (its own user agent). */
function s3(s: { srv: { endpoint: string } }, key: string, secret: string): S3Client {
  return new S3Client({
    endpoint: s.srv.endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: key, secretAccessKey: secret },
    maxAttempts: 1,
  });
}
