/**
 * Behind a trusted reverse proxy (`--trusted-proxies 127.0.0.1`): the client IP comes from
 * X-Forwarded-For for the login rate limit, the audit log and `aws:SourceIp` policies.
 */
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { assertEquals } from "./_helpers/assert.ts";
import { signedFetch } from "./_helpers/signed_fetch.ts";
import { makeTenant, startIamServer } from "./iam_fixture.ts";

Deno.test("X-Forwarded-For from a trusted proxy", async (t) => {
  const s = await startIamServer({ MAXIOFS_TRUSTED_PROXIES: "127.0.0.1,::1" });
  try {
    const a = await makeTenant(s, "proxy-t");

    await t.step("rate limit counts per forwarded client IP", async () => {
      await s.api("/settings", {
        method: "PATCH",
        token: s.adminToken,
        body: { loginRateLimitPerMinute: 2 },
      });
      const attempt = (ip: string) =>
        s.api("/auth/login", {
          body: { username: "nobody", password: "nothing-1" },
          headers: { "x-forwarded-for": `${ip}, 127.0.0.1` },
        });
      assertEquals((await attempt("198.51.100.1")).status, 401);
      assertEquals((await attempt("198.51.100.1")).status, 401);
      assertEquals((await attempt("198.51.100.1")).status, 429);
      assertEquals((await attempt("198.51.100.2")).status, 401);
      await s.api("/settings", {
        method: "PATCH",
        token: s.adminToken,
        body: { loginRateLimitPerMinute: 0 },
      });
      const audit = await s.api("/audit?action=login.failure&limit=10", { token: s.adminToken });
      assertEquals(audit.body.items[0].ip, "198.51.100.2");
    });

    await t.step("aws:SourceIp sees the forwarded address; bucket audit keeps it", async () => {
      const p = await s.api("/policies", {
        token: a.admin.token,
        body: {
          name: "office-only",
          document: {
            Statement: [{
              Effect: "Deny",
              Action: "s3:*",
              Resource: "*",
              Condition: { NotIpAddress: { "aws:SourceIp": "203.0.113.0/24" } },
            }],
          },
        },
      });
      await s.api(`/policies/${p.body.id}/attachments/users/${a.user.id}`, {
        method: "PUT",
        token: a.admin.token,
      });
      const create = (xff?: string) =>
        signedFetch(s.srv, {
          method: "PUT",
          path: "/office-bucket",
          accessKey: a.user.key,
          secretKey: a.user.secret,
        }, xff ? { headers: { "x-forwarded-for": xff } } : undefined);
      const outside = await create();
      assertEquals(outside.status, 403);
      await outside.body?.cancel();
      const inside = await create("203.0.113.50");
      assertEquals(inside.status, 200);
      await inside.body?.cancel();
      const audit = await s.api("/audit?action=bucket.create", { token: a.admin.token });
      assertEquals(
        audit.body.items.map((e: { result: string; ip: string }) => [e.result, e.ip]),
        [["success", "203.0.113.50"], ["denied", "127.0.0.1"]],
      );
      // Without the proxy header the admin (no policy) is unaffected.
      await s.s3(a.admin.key, a.admin.secret).send(new CreateBucketCommand({ Bucket: "adm-b" }));
    });

    await t.step(
      "aws:SecureTransport is true only for https forwarded by a trusted proxy",
      async () => {
        const p = await s.api("/policies", {
          token: a.admin.token,
          body: {
            name: "tls-only",
            document: {
              Statement: [{
                Effect: "Deny",
                Action: "s3:*",
                Resource: "*",
                Condition: { Bool: { "aws:SecureTransport": "false" } },
              }],
            },
          },
        });
        await s.api(`/policies/${p.body.id}/attachments/users/${a.admin.id}`, {
          method: "PUT",
          token: a.admin.token,
        });
        const list = (headers?: Record<string, string>) =>
          signedFetch(s.srv, {
            method: "GET",
            path: "/",
            accessKey: a.admin.key,
            secretKey: a.admin.secret,
          }, headers ? { headers } : undefined);
        const plain = await list();
        assertEquals(plain.status, 403);
        await plain.body?.cancel();
        const tls = await list({ "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7" });
        assertEquals(tls.status, 200);
        await tls.body?.cancel();
      },
    );
  } finally {
    await s.stop();
  }
});
