/**
 * Console authentication and account security end to end: lockout, TOTP login with backup
 * codes, forced password change, session revocation, a disabled or deleted key failing on the
 * very next request, privilege escalation attempts, CSRF and the login rate limit.
 */
import { ListBucketsCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { makeTenant, startIamServer } from "./iam_fixture.ts";
import { base32Decode, totp } from "../server/iam/totp.ts";

Deno.test("console authentication and account security", async (t) => {
  const s = await startIamServer();
  try {
    const a = await makeTenant(s, "auth-t");

    await t.step("wrong password: 401 InvalidCredentials, same for unknown users", async () => {
      const r1 = await s.api("/auth/login", {
        body: { username: a.user.username, password: "nope-nope" },
      });
      assertEquals([r1.status, r1.body.error.code], [401, "InvalidCredentials"]);
      const r2 = await s.api("/auth/login", { body: { username: "ghost", password: "nope-nope" } });
      assertEquals([r2.status, r2.body.error.code], [401, "InvalidCredentials"]);
      const me = await s.api("/auth/me", { token: "forged.token" });
      assertEquals([me.status, me.body.error.code], [401, "Unauthenticated"]);
    });

    await t.step(
      "lockout after 5 failures, even with the right password; admin unlock",
      async () => {
        const u = await s.api("/users", {
          token: s.adminToken,
          body: {
            username: "locky",
            password: "Locky-pass-1",
            role: "tenant_user",
            tenantId: a.tenantId,
          },
        });
        for (let i = 0; i < 5; i++) {
          const r = await s.api("/auth/login", {
            body: { username: "locky", password: `bad-${i}-pass` },
          });
          assertEquals(r.status, 401);
        }
        const locked = await s.api("/auth/login", {
          body: { username: "locky", password: "Locky-pass-1" },
        });
        assertEquals([locked.status, locked.body.error.code], [423, "AccountLocked"]);
        assert(locked.body.error.retryAfter > 0);
        const audit = await s.api("/audit?action=login&actor=locky", { token: s.adminToken });
        const actions = audit.body.items.map((e: { action: string }) => e.action);
        assert(
          actions.includes("login.locked") && actions.includes("login.failure"),
          actions.join(),
        );
        const un = await s.api(`/users/${u.body.id}/unlock`, {
          method: "POST",
          token: a.admin.token,
        });
        assertEquals(un.status, 204);
        await s.login("locky", "Locky-pass-1");
      },
    );

    await t.step("TOTP: setup, enable, login needs the code, backup code works once", async () => {
      const setup = await s.api("/auth/2fa/setup", { method: "POST", token: a.user.token });
      assertEquals(setup.status, 200);
      assert(setup.body.otpauthUrl.startsWith("otpauth://totp/"));
      const secret = base32Decode(setup.body.secret);
      const bad = await s.api("/auth/2fa/enable", {
        token: a.user.token,
        body: { code: "000000" },
      });
      assertEquals(bad.status, 401);
      const en = await s.api("/auth/2fa/enable", {
        token: a.user.token,
        body: { code: totp(secret, Date.now()) },
      });
      assertEquals(en.status, 200);
      assertEquals(en.body.backupCodes.length, 10);
      const pw = `${a.user.username}-Password-1`;
      const step1 = await s.api("/auth/login", {
        body: { username: a.user.username, password: pw },
      });
      assertEquals(step1.body.totpRequired, true);
      assertEquals(step1.body.token, undefined);
      const wrong = await s.api("/auth/2fa/verify", {
        body: { challenge: step1.body.challenge, code: "123456" },
      });
      assertEquals([wrong.status, wrong.body.error.code], [401, "InvalidTotp"]);
      const tampered = await s.api("/auth/2fa/verify", {
        body: { challenge: step1.body.challenge.replace(/.$/, "x"), code: en.body.backupCodes[0] },
      });
      assertEquals(tampered.status, 401);
      const ok = await s.api("/auth/2fa/verify", {
        body: { challenge: step1.body.challenge, code: en.body.backupCodes[0] },
      });
      assertEquals(ok.status, 200);
      assert(ok.body.token);
      const again = await s.api("/auth/login", {
        body: { username: a.user.username, password: pw },
      });
      const reuse = await s.api("/auth/2fa/verify", {
        body: { challenge: again.body.challenge, code: en.body.backupCodes[0] },
      });
      assertEquals(reuse.status, 401, "backup codes are one-time");
      const me = await s.api("/auth/me", { token: ok.body.token });
      assertEquals(me.body.user.totpEnabled, true);
      const reset = await s.api(`/users/${a.user.id}/2fa/reset`, {
        method: "POST",
        token: a.admin.token,
      });
      assertEquals(reset.status, 204);
      a.user.token = await s.login(a.user.username, pw);
    });

    await t.step(
      "a disabled key fails on the very next request; re-enabled works; deleted fails",
      async () => {
        const c = s.s3(a.user.key, a.user.secret);
        await c.send(new ListBucketsCommand({}));
        const off = await s.api(`/access-keys/${a.user.key}`, {
          method: "PATCH",
          token: a.user.token,
          body: { status: "inactive" },
        });
        assertEquals(off.status, 200);
        await assertS3Error(() => c.send(new ListBucketsCommand({})), "InvalidAccessKeyId", 403);
        await s.api(`/access-keys/${a.user.key}`, {
          method: "PATCH",
          token: a.user.token,
          body: { status: "active" },
        });
        await c.send(new ListBucketsCommand({}));
        const keys = await s.api("/access-keys", { token: a.user.token });
        assert(keys.body.items[0].lastUsedAt > 0, "last used time is recorded");
        const del = await s.api(`/access-keys/${a.user.key}`, {
          method: "DELETE",
          token: a.user.token,
        });
        assertEquals(del.status, 204);
        await assertS3Error(() => c.send(new ListBucketsCommand({})), "InvalidAccessKeyId", 403);
      },
    );

    await t.step(
      "disabling a user or suspending a tenant stops its keys and sessions",
      async () => {
        const c = s.s3(a.admin.key, a.admin.secret);
        await c.send(new ListBucketsCommand({}));
        const sus = await s.api(`/tenants/${a.tenantId}`, {
          method: "PATCH",
          token: s.adminToken,
          body: { status: "suspended" },
        });
        assertEquals(sus.body.status, "suspended");
        await assertS3Error(() => c.send(new ListBucketsCommand({})), "InvalidAccessKeyId", 403);
        assertEquals((await s.api("/auth/me", { token: a.admin.token })).status, 401);
        await s.api(`/tenants/${a.tenantId}`, {
          method: "PATCH",
          token: s.adminToken,
          body: { status: "active" },
        });
        await c.send(new ListBucketsCommand({}));
        await s.api(`/users/${a.admin.id}`, {
          method: "PATCH",
          token: s.adminToken,
          body: { status: "disabled" },
        });
        await assertS3Error(() => c.send(new ListBucketsCommand({})), "InvalidAccessKeyId", 403);
        const login = await s.api("/auth/login", {
          body: { username: a.admin.username, password: `${a.admin.username}-Password-1` },
        });
        assertEquals([login.status, login.body.error.code], [403, "AccountDisabled"]);
        await s.api(`/users/${a.admin.id}`, {
          method: "PATCH",
          token: s.adminToken,
          body: { status: "active" },
        });
        a.admin.token = await s.login(a.admin.username, `${a.admin.username}-Password-1`);
      },
    );

    await t.step("privilege escalation attempts fail", async () => {
      const attempts: [string, string, string, unknown, number][] = [
        [a.admin.token, "POST", "/users", {
          username: "evil-ga",
          password: "Evil-pass-1",
          role: "global_admin",
        }, 403],
        [a.admin.token, "PATCH", `/users/${a.admin.id}`, { role: "global_admin" }, 403],
        [a.admin.token, "PATCH", `/users/${a.user.id}`, { role: "global_admin" }, 403],
        [a.admin.token, "PATCH", `/users/${a.user.id}`, { tenantId: null }, 403],
        [a.user.token, "PATCH", `/users/${a.user.id}`, { role: "tenant_admin" }, 403],
        [a.user.token, "PATCH", `/users/${a.user.id}`, { status: "active" }, 403],
        [a.user.token, "POST", "/users", {
          username: "evil-u",
          password: "Evil-pass-1",
          role: "tenant_user",
        }, 403],
        [a.user.token, "GET", "/users", undefined, 403],
        [a.user.token, "POST", `/users/${a.admin.id}/password`, { password: "Evil-pass-1" }, 404],
        [a.user.token, "POST", "/access-keys", { userId: a.admin.id }, 404],
        [a.user.token, "GET", "/audit", undefined, 403],
        [a.user.token, "POST", "/policies", {
          name: "p",
          document: { Statement: { Effect: "Allow", Action: "s3:*", Resource: "*" } },
        }, 403],
        [a.admin.token, "POST", "/tenants", { name: "evil-tenant" }, 403],
        [a.admin.token, "PATCH", `/tenants/${a.tenantId}`, { quota: { maxBytes: null } }, 403],
        [a.admin.token, "PATCH", "/settings", { lockoutThreshold: 0 }, 403],
        [a.admin.token, "GET", `/users?tenantId=`, undefined, 200],
      ];
      for (const [token, method, path, body, status] of attempts) {
        const r = await s.api(path, { method, body, token });
        assertEquals(
          r.status,
          status,
          `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`,
        );
      }
      const me = await s.api("/auth/me", { token: a.admin.token });
      assertEquals(me.body.user.role, "tenant_admin");
      const self = await s.api(`/users/${a.user.id}`, {
        method: "PATCH",
        token: a.user.token,
        body: { displayName: "Alice" },
      });
      assertEquals([self.status, self.body.displayName, self.body.role], [
        200,
        "Alice",
        "tenant_user",
      ]);
      const gaList = await s.api("/users", { token: a.admin.token });
      assert(gaList.body.items.every((u: { role: string }) => u.role !== "global_admin"));
    });

    await t.step("forced password change blocks everything else until done", async () => {
      const u = await s.api("/users", {
        token: s.adminToken,
        body: {
          username: "fresh",
          password: "Fresh-pass-1",
          role: "tenant_user",
          tenantId: a.tenantId,
          mustChangePassword: true,
        },
      });
      assertEquals(u.status, 201);
      const token = await s.login("fresh", "Fresh-pass-1");
      const blocked = await s.api("/access-keys", { token });
      assertEquals([blocked.status, blocked.body.error.code], [403, "PasswordChangeRequired"]);
      assertEquals((await s.api("/auth/me", { token })).body.mustChangePassword, true);
      const weak = await s.api("/auth/password", {
        token,
        body: { currentPassword: "Fresh-pass-1", newPassword: "x" },
      });
      assertEquals([weak.status, weak.body.error.code], [400, "WeakPassword"]);
      const ch = await s.api("/auth/password", {
        token,
        body: { currentPassword: "Fresh-pass-1", newPassword: "Fresh-pass-2" },
      });
      assertEquals(ch.status, 204);
      assertEquals((await s.api("/access-keys", { token })).status, 200);
    });

    await t.step("logout and refresh revoke the old session", async () => {
      const t1 = await s.login(a.user.username, `${a.user.username}-Password-1`);
      const r = await s.api("/auth/refresh", { method: "POST", token: t1 });
      assertEquals(r.status, 200);
      assertEquals((await s.api("/auth/me", { token: t1 })).status, 401);
      assertEquals((await s.api("/auth/me", { token: r.body.token })).status, 200);
      const out = await s.api("/auth/logout", { method: "POST", token: r.body.token });
      assertEquals(out.status, 204);
      assertEquals((await s.api("/auth/me", { token: r.body.token })).status, 401);
    });

    await t.step("cookie sessions refuse cross-site writes", async () => {
      const res = await fetch(`${s.srv.consoleUrl}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          username: a.user.username,
          password: `${a.user.username}-Password-1`,
        }),
      });
      const cookie = res.headers.get("set-cookie")!;
      await res.body?.cancel();
      assert(/HttpOnly/.test(cookie) && /SameSite=Strict/.test(cookie));
      const pair = cookie.split(";")[0];
      const cross = await fetch(`${s.srv.consoleUrl}/api/v1/access-keys`, {
        method: "POST",
        headers: {
          cookie: pair,
          origin: "https://evil.example",
          "content-type": "application/json",
        },
        body: "{}",
      });
      assertEquals(cross.status, 403);
      assertEquals((await cross.json()).error.code, "CsrfRejected");
      const me = await fetch(`${s.srv.consoleUrl}/api/v1/auth/me`, { headers: { cookie: pair } });
      assertEquals(me.status, 200);
      await me.body?.cancel();
    });

    await t.step("login rate limit per client IP: 429 with Retry-After", async () => {
      await s.api("/settings", {
        method: "PATCH",
        token: s.adminToken,
        body: { loginRateLimitPerMinute: 3 },
      });
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await s.api("/auth/login", {
          body: { username: "ghost2", password: "whatever-1" },
        });
        codes.push(r.status);
        if (r.status === 429) assert(Number(r.headers.get("retry-after")) > 0);
      }
      // The window may already hold this IP's earlier logins: some 401s, then only 429s.
      const first429 = codes.indexOf(429);
      assert(first429 >= 1 && first429 <= 3, codes.join());
      assert(codes.slice(first429).every((c) => c === 429), codes.join());
      assert(codes.slice(0, first429).every((c) => c === 401), codes.join());
      // X-Forwarded-For is ignored from an untrusted peer: spoofing another IP does not help.
      const spoof = await s.api("/auth/login", {
        body: { username: "ghost2", password: "whatever-1" },
        headers: { "x-forwarded-for": "203.0.113.9" },
      });
      assertEquals(spoof.status, 429);
    });
  } finally {
    await s.stop();
  }
});
