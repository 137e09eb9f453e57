/**
 * Permissions inside a tenant: default deny for non-owners, bucket grants to users, groups and
 * the whole tenant (read / write / full, with expiry), and JSON policies with explicit Deny and
 * the aws:SourceIp and s3:prefix conditions, all checked on real S3 requests.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { makeTenant, startIamServer } from "./iam_fixture.ts";

Deno.test("permissions inside a tenant", async (t) => {
  const s = await startIamServer();
  try {
    const a = await makeTenant(s, "perm-t");
    const owner = s.s3(a.admin.key, a.admin.secret);
    const user = s.s3(a.user.key, a.user.secret);
    await owner.send(new CreateBucketCommand({ Bucket: "team-data" }));
    for (const key of ["doc.txt", "public/readme", "home/alice/a", "home/bob/b"]) {
      await owner.send(new PutObjectCommand({ Bucket: "team-data", Key: key, Body: key }));
    }
    const get = (key: string) => user.send(new GetObjectCommand({ Bucket: "team-data", Key: key }));
    const put = (key: string) =>
      user.send(new PutObjectCommand({ Bucket: "team-data", Key: key, Body: "u" }));
    const grant = (body: Record<string, unknown>) =>
      s.api("/buckets/team-data/permissions", { token: a.admin.token, body });

    await t.step("default deny for a non-owner", async () => {
      await assertS3Error(() => get("doc.txt"), "AccessDenied", 403);
      await assertS3Error(() => put("x"), "AccessDenied", 403);
    });

    await t.step("read grant: reads only", async () => {
      const g = await grant({ subjectType: "user", subjectId: a.user.id, access: "read" });
      assertEquals(g.status, 201);
      await get("doc.txt");
      await assertS3Error(() => put("x"), "AccessDenied", 403);
      await s.api(`/buckets/team-data/permissions/${g.body.id}`, {
        method: "DELETE",
        token: a.admin.token,
      });
      await assertS3Error(() => get("doc.txt"), "AccessDenied", 403);
    });

    await t.step(
      "write grant through a group: object writes, not bucket configuration",
      async () => {
        const g = await s.api("/groups", { token: a.admin.token, body: { name: "writers" } });
        await s.api(`/groups/${g.body.id}/members/${a.user.id}`, {
          method: "PUT",
          token: a.admin.token,
        });
        await grant({ subjectType: "group", subjectId: g.body.id, access: "write" });
        await put("from-user");
        await get("from-user");
        await assertS3Error(
          () =>
            user.send(
              new PutBucketVersioningCommand({
                Bucket: "team-data",
                VersioningConfiguration: { Status: "Enabled" },
              }),
            ),
          "AccessDenied",
          403,
        );
        await s.api(`/groups/${g.body.id}`, { method: "DELETE", token: a.admin.token });
        await assertS3Error(() => put("again"), "AccessDenied", 403);
      },
    );

    // That the grant stops at its expiry is tested on an injected clock in
    // tests/iam_grant_expiry_test.ts; this server runs on the real one, and no test waits for an
    // expiry on it.
    await t.step("tenant-wide grant with a future expiry gives access until then", async () => {
      const expiresAt = Date.now() + 3600_000;
      const r = await grant({
        subjectType: "tenant",
        subjectId: a.tenantId,
        access: "read",
        expiresAt,
      });
      assertEquals(r.status, 201);
      assertEquals(r.body.expiresAt, expiresAt);
      await get("doc.txt");
      await s.api(`/buckets/team-data/permissions/${r.body.id}`, {
        method: "DELETE",
        token: a.admin.token,
      });
      await assertS3Error(() => get("doc.txt"), "AccessDenied", 403);
    });

    await t.step("CopyObject needs read access to the source", async () => {
      await user.send(new CreateBucketCommand({ Bucket: "user-own" }));
      await assertS3Error(
        () =>
          user.send(
            new CopyObjectCommand({
              Bucket: "user-own",
              Key: "c",
              CopySource: "team-data/doc.txt",
            }),
          ),
        "AccessDenied",
        403,
      );
    });

    const policy = async (name: string, statement: unknown, subject = a.user.id) => {
      const p = await s.api("/policies", {
        token: a.admin.token,
        body: { name, document: { Version: "2012-10-17", Statement: statement } },
      });
      assertEquals(p.status, 201, JSON.stringify(p.body));
      const at = await s.api(`/policies/${p.body.id}/attachments/users/${subject}`, {
        method: "PUT",
        token: a.admin.token,
      });
      assertEquals(at.status, 204);
      return p.body.id as string;
    };

    await t.step("policy Allow on a prefix; s3:prefix condition on listing", async () => {
      await policy("public-read", [
        { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::team-data/public/*" },
        {
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: "arn:aws:s3:::team-data",
          Condition: { StringLike: { "s3:prefix": "home/alice/*" } },
        },
      ]);
      await get("public/readme");
      await assertS3Error(() => get("doc.txt"), "AccessDenied", 403);
      const listed = await user.send(
        new ListObjectsV2Command({ Bucket: "team-data", Prefix: "home/alice/" }),
      );
      assertEquals(listed.Contents?.map((o) => o.Key), ["home/alice/a"]);
      await assertS3Error(
        () => user.send(new ListObjectsV2Command({ Bucket: "team-data", Prefix: "home/bob/" })),
        "AccessDenied",
        403,
      );
    });

    await t.step("explicit Deny wins over ownership", async () => {
      const id = await policy("no-delete", [{
        Effect: "Deny",
        Action: "s3:DeleteObject",
        Resource: "arn:aws:s3:::user-own/*",
      }]);
      await user.send(new PutObjectCommand({ Bucket: "user-own", Key: "k", Body: "v" }));
      await assertS3Error(
        () => user.send(new DeleteObjectCommand({ Bucket: "user-own", Key: "k" })),
        "AccessDenied",
        403,
      );
      await s.api(`/policies/${id}`, { method: "DELETE", token: a.admin.token });
      await user.send(new DeleteObjectCommand({ Bucket: "user-own", Key: "k" }));
    });

    await t.step("aws:SourceIp conditions", async () => {
      const id = await policy("only-elsewhere", [{
        Effect: "Deny",
        Action: "s3:*",
        Resource: "*",
        Condition: { NotIpAddress: { "aws:SourceIp": ["10.0.0.0/8"] } },
      }]);
      await assertS3Error(
        () => user.send(new PutObjectCommand({ Bucket: "user-own", Key: "k2", Body: "v" })),
        "AccessDenied",
        403,
      );
      await s.api(`/policies/${id}`, {
        method: "PATCH",
        token: a.admin.token,
        body: {
          document: {
            Statement: [{
              Effect: "Deny",
              Action: "s3:*",
              Resource: "*",
              Condition: { NotIpAddress: { "aws:SourceIp": ["127.0.0.0/8", "::1"] } },
            }],
          },
        },
      });
      await user.send(new PutObjectCommand({ Bucket: "user-own", Key: "k2", Body: "v" }));
    });

    await t.step(
      "grants go with their bucket: a new bucket of the same name has none",
      async () => {
        await owner.send(new CreateBucketCommand({ Bucket: "temp-g" }));
        const g = await s.api("/buckets/temp-g/permissions", {
          token: a.admin.token,
          body: { subjectType: "user", subjectId: a.user.id, access: "full" },
        });
        assertEquals(g.status, 201);
        await owner.send(new DeleteBucketCommand({ Bucket: "temp-g" }));
        await owner.send(new CreateBucketCommand({ Bucket: "temp-g" }));
        const list = await s.api("/buckets/temp-g/permissions", { token: a.admin.token });
        assertEquals(list.body.items, []);
        await assertS3Error(
          () => user.send(new PutObjectCommand({ Bucket: "temp-g", Key: "k", Body: "v" })),
          "AccessDenied",
          403,
        );
      },
    );

    await t.step("invalid policy documents are refused with the problem named", async () => {
      const bad = await s.api("/policies", {
        token: a.admin.token,
        body: {
          name: "bad",
          document: { Statement: [{ Effect: "Perhaps", Action: "s3:*", Resource: "*" }] },
        },
      });
      assertEquals(bad.status, 400);
      assertEquals(bad.body.error.code, "InvalidRequest");
    });
  } finally {
    await s.stop();
  }
});
