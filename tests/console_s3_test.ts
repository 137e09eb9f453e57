/**
 * The console's object API (`/api/v1/s3/...`) runs S3 in-process as the session's user: its
 * writes count against the tenant quota shared with S3 clients, the user's grants and policies
 * refuse what they refuse over S3, bucket create/delete is audited like an S3 request (actor,
 * tenant, client IP and user agent), and a session id is no S3 access key.
 */
import {
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { randomBytes, REGION } from "./_helpers/server.ts";
import { errorCode } from "./_helpers/signed_fetch.ts";
import { type AuditEntry, makeTenant, startIamServer } from "./iam_fixture.ts";

const KiB = 1024;
const UA = "console-s3-test/1.0";

Deno.test("console object API: quotas, permissions and audit as for S3", async (t) => {
  const s = await startIamServer();
  /** The id of the newest audit entry (0 when there is none). */
  const newestAuditId = async (): Promise<number> => {
    const r = await s.api("/audit?limit=1", { token: s.adminToken });
    return (r.body.items as AuditEntry[])[0]?.id ?? 0;
  };
  /** Bucket create/delete entries after `since`. */
  const auditSince = async (since: number): Promise<AuditEntry[]> => {
    const out: AuditEntry[] = [];
    for (const action of ["bucket.create", "bucket.delete"]) {
      const r = await s.api(`/audit?action=${action}&limit=50`, { token: s.adminToken });
      assertEquals(r.status, 200);
      out.push(...(r.body.items as AuditEntry[]).filter((e) => e.id > since));
    }
    return out;
  };
  try {
    const a = await makeTenant(s, "cs3", { maxBytes: 10 * KiB });
    /** A passthrough request with the session's bearer token; the answer read whole. */
    const call = async (
      token: string,
      method: string,
      path: string,
      init: { body?: string | Uint8Array; headers?: Record<string, string> } = {},
    ) => {
      const res = await fetch(`${s.srv.consoleUrl}/api/v1/s3${path}`, {
        method,
        // A copy on a plain ArrayBuffer (what fetch's BodyInit takes).
        body: typeof init.body === "string" ? init.body : init.body && new Uint8Array(init.body),
        headers: { authorization: `Bearer ${token}`, "user-agent": UA, ...init.headers },
      });
      const text = await res.text();
      return { status: res.status, text, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? null };
    };
    const usage = async () =>
      (await s.api(`/tenants/${a.tenantId}`, { token: s.adminToken })).body.usage as {
        bytes: number;
        reserved: number;
      };
    const userS3 = s.s3(a.user.key, a.user.secret);

    await t.step("console uploads count against the tenant quota", async () => {
      assertEquals((await call(a.user.token, "PUT", "/cs3-user")).status, 200);
      const first = await call(a.user.token, "PUT", "/cs3-user/eight", {
        body: randomBytes(8 * KiB, 1),
      });
      assertEquals(first.status, 200, first.text);
      assertEquals((await usage()).bytes, 8 * KiB);
      // The console's bytes are the S3 client's too: 8 + 4 KiB does not fit either way.
      await assertS3Error(
        () =>
          userS3.send(
            new PutObjectCommand({ Bucket: "cs3-user", Key: "sdk", Body: randomBytes(4 * KiB) }),
          ),
        "QuotaExceeded",
        403,
      );
      const over = await call(a.user.token, "PUT", "/cs3-user/four", {
        body: randomBytes(4 * KiB, 2),
      });
      assertEquals([over.status, over.code], [403, "QuotaExceeded"]);
      // Multipart through the console: the part's reservation is refused the same way.
      const created = await call(a.user.token, "POST", "/cs3-user/mp?uploads");
      assertEquals(created.status, 200, created.text);
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)![1];
      const part = await call(
        a.user.token,
        "PUT",
        `/cs3-user/mp?partNumber=1&uploadId=${encodeURIComponent(uploadId)}`,
        { body: randomBytes(4 * KiB, 3) },
      );
      assertEquals([part.status, part.code], [403, "QuotaExceeded"]);
      assertEquals((await usage()).reserved, 0);
      assertEquals(
        (await call(a.user.token, "DELETE", `/cs3-user/mp?uploadId=${uploadId}`)).status,
        204,
      );
      // What the console frees, S3 clients may use.
      assertEquals((await call(a.user.token, "DELETE", "/cs3-user/eight")).status, 204);
      assertEquals((await usage()).bytes, 0);
      await userS3.send(
        new PutObjectCommand({ Bucket: "cs3-user", Key: "sdk", Body: randomBytes(4 * KiB) }),
      );
      assertEquals((await usage()).bytes, 4 * KiB);
    });

    await t.step("the user's grants and policies refuse console requests", async () => {
      assertEquals((await call(a.admin.token, "PUT", "/cs3-team")).status, 200);
      assertEquals(
        (await call(a.admin.token, "PUT", "/cs3-team/doc.txt", { body: "team doc" })).status,
        200,
      );
      for (
        const [method, path, body] of [
          ["GET", "/cs3-team/doc.txt"],
          ["GET", "/cs3-team?list-type=2"],
          ["PUT", "/cs3-team/planted.txt", "x"],
          ["DELETE", "/cs3-team/doc.txt"],
        ]
      ) {
        const r = await call(a.user.token, method, path, { body });
        assertEquals([r.status, r.code], [403, "AccessDenied"], `${method} ${path}`);
      }
      const grant = await s.api("/buckets/cs3-team/permissions", {
        token: a.admin.token,
        body: { subjectType: "user", subjectId: a.user.id, access: "read" },
      });
      assertEquals(grant.status, 201, JSON.stringify(grant.body));
      const read = await call(a.user.token, "GET", "/cs3-team/doc.txt");
      assertEquals([read.status, read.text], [200, "team doc"]);
      const write = await call(a.user.token, "PUT", "/cs3-team/planted.txt", { body: "x" });
      assertEquals([write.status, write.code], [403, "AccessDenied"], "read grant only");

      // An explicit Deny wins over ownership, and sees the browser's user agent.
      const policy = await s.api("/policies", {
        token: a.admin.token,
        body: {
          name: "no-delete-from-console-test",
          document: {
            Version: "2012-10-17",
            Statement: [{
              Effect: "Deny",
              Action: "s3:DeleteObject",
              Resource: "arn:aws:s3:::cs3-user/*",
              Condition: { StringLike: { "aws:UserAgent": "console-s3-test/*" } },
            }],
          },
        },
      });
      assertEquals(policy.status, 201, JSON.stringify(policy.body));
      const attach = await s.api(`/policies/${policy.body.id}/attachments/users/${a.user.id}`, {
        method: "PUT",
        token: a.admin.token,
      });
      assertEquals(attach.status, 204);
      const del = await call(a.user.token, "DELETE", "/cs3-user/sdk");
      assertEquals([del.status, del.code], [403, "AccessDenied"]);
      const otherUa = await call(a.user.token, "DELETE", "/cs3-user/sdk", {
        headers: { "user-agent": "another-browser/2.0" },
      });
      assertEquals(otherUa.status, 204, "the condition names the test's user agent only");
    });

    await t.step("bucket create/delete from the console is audited like S3", async () => {
      const since = await newestAuditId();
      assertEquals((await call(a.user.token, "PUT", "/cs3-audit")).status, 200);
      const refused = await call(a.user.token, "DELETE", "/cs3-team");
      assertEquals([refused.status, refused.code], [403, "AccessDenied"]);
      const missing = await call(a.user.token, "DELETE", "/cs3-missing");
      assertEquals([missing.status, missing.code], [404, "NoSuchBucket"]);
      // The bucket routes of the API run the same S3 requests.
      const viaApi = { token: a.user.token, headers: { "user-agent": UA } };
      const created = await s.api("/buckets", { ...viaApi, body: { name: "cs3-api" } });
      assertEquals(created.status, 201, JSON.stringify(created.body));
      assertEquals((await s.api("/buckets/cs3-api", { ...viaApi, method: "DELETE" })).status, 204);
      const slash = await s.api("/buckets", { ...viaApi, body: { name: "cs3-api/key" } });
      assertEquals([slash.status, slash.body.error.code], [400, "InvalidRequest"]);
      const entries = (await auditSince(since)).map((e) => {
        assertEquals(e.actorName, a.user.username, e.resource ?? "");
        assertEquals(e.tenantId, a.tenantId, e.resource ?? "");
        assertEquals(e.ip, "127.0.0.1", e.resource ?? "");
        assertEquals(e.userAgent, UA, e.resource ?? "");
        return [e.action, e.resource, e.result];
      });
      assertEquals(entries.sort(), [
        ["bucket.create", "bucket/cs3-api", "success"],
        ["bucket.create", "bucket/cs3-audit", "success"],
        // Refused by the API before S3 (the router's failure audit names it its own way).
        ["bucket.create", "buckets/cs3-api/key", "failure"],
        ["bucket.delete", "bucket/cs3-api", "success"],
        ["bucket.delete", "bucket/cs3-missing", "failure"],
        ["bucket.delete", "bucket/cs3-team", "denied"],
      ]);
    });

    await t.step("a console session's id is not an S3 access key", async () => {
      const sessionId = a.user.token.split(".")[0];
      for (const keyId of [`MXS${sessionId}`, `MXS${sessionId}.${a.tenantId}`]) {
        const c = new S3Client({
          endpoint: s.srv.endpoint,
          region: REGION,
          forcePathStyle: true,
          credentials: { accessKeyId: keyId, secretAccessKey: "x".repeat(40) },
          maxAttempts: 1,
        });
        try {
          const e = await c.send(new GetObjectCommand({ Bucket: "cs3-team", Key: "doc.txt" }))
            .then(() => null, (e: S3ServiceException) => e);
          assert(e !== null, keyId);
          assertEquals([e.name, e.$metadata.httpStatusCode], ["InvalidAccessKeyId", 403]);
        } finally {
          c.destroy();
        }
      }
      // The console itself keeps working for that session.
      const r = await fetch(`${s.srv.consoleUrl}/api/v1/s3/cs3-team/doc.txt`, {
        headers: { authorization: `Bearer ${a.user.token}` },
      });
      assertEquals(await errorCode(r.clone()), null);
      assertEquals(await r.text(), "team doc");
    });
  } finally {
    await s.stop();
  }
});
