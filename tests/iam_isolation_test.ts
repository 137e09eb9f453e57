/**
 * Tenant isolation: a user and an admin of tenant A try every S3 operation and every console
 * API endpoint on tenant B's buckets, objects, users, keys, groups and policies; each attempt
 * fails with the documented code and B's data stays untouched.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { bodyBytes } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";
import { makeTenant, startIamServer } from "./iam_fixture.ts";

Deno.test("tenant isolation", async (t) => {
  const s = await startIamServer();
  try {
    const a = await makeTenant(s, "tenant-a");
    const b = await makeTenant(s, "tenant-b");
    const bS3 = s.s3(b.user.key, b.user.secret);
    const aS3 = s.s3(a.user.key, a.user.secret);
    await bS3.send(new CreateBucketCommand({ Bucket: "b-only" }));
    await bS3.send(new PutObjectCommand({ Bucket: "b-only", Key: "secret.txt", Body: "B data" }));
    // Both tenants own a bucket called "backups": separate namespaces.
    await bS3.send(new CreateBucketCommand({ Bucket: "backups" }));
    await bS3.send(new PutObjectCommand({ Bucket: "backups", Key: "b.txt", Body: "B backup" }));
    await aS3.send(new CreateBucketCommand({ Bucket: "backups" }));

    await t.step("same bucket name in two tenants holds separate objects", async () => {
      await assertS3Error(
        () => aS3.send(new GetObjectCommand({ Bucket: "backups", Key: "b.txt" })),
        "NoSuchKey",
        404,
      );
      const listed = await aS3.send(new ListBucketsCommand({}));
      assertEquals(listed.Buckets?.map((x) => x.Name), ["backups"]);
    });

    const copySrc = { "x-amz-copy-source": "/b-only/secret.txt" };
    const deleteBody = "<Delete><Object><Key>secret.txt</Key></Object></Delete>";
    const ops: [
      string,
      string,
      Record<string, string>,
      (string | undefined)?,
      Record<string, string>?,
    ][] = [
      ["HEAD", "/b-only", {}],
      ["GET", "/b-only", { "list-type": "2" }],
      ["GET", "/b-only", {}],
      ["GET", "/b-only", { location: "" }],
      ["GET", "/b-only", { versioning: "" }],
      [
        "PUT",
        "/b-only",
        { versioning: "" },
        "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
      ],
      ["GET", "/b-only", { versions: "" }],
      ["GET", "/b-only", { uploads: "" }],
      ["GET", "/b-only", { tagging: "" }],
      [
        "PUT",
        "/b-only",
        { tagging: "" },
        "<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>",
      ],
      ["DELETE", "/b-only", { tagging: "" }],
      ["GET", "/b-only", { acl: "" }],
      ["GET", "/b-only", { policy: "" }],
      ["PUT", "/b-only", { policy: "" }, '{"Statement":[]}'],
      ["GET", "/b-only", { lifecycle: "" }],
      ["GET", "/b-only", { cors: "" }],
      ["GET", "/b-only", { "object-lock": "" }],
      ["POST", "/b-only", { delete: "" }, deleteBody, { "content-md5": md5b64(deleteBody) }],
      ["DELETE", "/b-only", {}],
      ["GET", "/b-only/secret.txt", {}],
      ["HEAD", "/b-only/secret.txt", {}],
      ["PUT", "/b-only/secret.txt", {}, "A overwrites"],
      ["DELETE", "/b-only/secret.txt", {}],
      ["GET", "/b-only/secret.txt", { tagging: "" }],
      ["PUT", "/b-only/secret.txt", { tagging: "" }, "<Tagging><TagSet></TagSet></Tagging>"],
      ["GET", "/b-only/secret.txt", { acl: "" }],
      ["GET", "/b-only/secret.txt", { attributes: "" }, undefined, {
        "x-amz-object-attributes": "ETag",
      }],
      ["GET", "/b-only/secret.txt", { retention: "" }],
      ["GET", "/b-only/secret.txt", { "legal-hold": "" }],
      ["POST", "/b-only/secret.txt", { uploads: "" }],
      ["PUT", "/b-only/secret.txt", { partNumber: "1", uploadId: "x" }, "part"],
      ["GET", "/b-only/secret.txt", { uploadId: "x" }],
      ["DELETE", "/b-only/secret.txt", { uploadId: "x" }],
      ["PUT", "/b-only/copy.txt", {}, undefined, copySrc],
    ];

    for (const who of [a.user, a.admin]) {
      await t.step(
        `${who.username}: every S3 operation on B's bucket is NoSuchBucket`,
        async () => {
          for (const [method, path, query, body, headers] of ops) {
            const res = await signedFetch(s.srv, {
              method,
              path,
              query,
              body,
              headers,
              accessKey: who.key,
              secretKey: who.secret,
            });
            assertEquals(res.status, 404, `${method} ${path}?${new URLSearchParams(query)}`);
            if (method !== "HEAD") {
              assertEquals(await errorCode(res), "NoSuchBucket", `${method} ${path}`);
            } else await res.body?.cancel();
          }
        },
      );
    }

    await t.step("CopyObject from B's bucket into A's own bucket is NoSuchBucket", async () => {
      const res = await signedFetch(s.srv, {
        method: "PUT",
        path: "/backups/stolen.txt",
        headers: copySrc,
        accessKey: a.admin.key,
        secretKey: a.admin.secret,
      });
      assertEquals(res.status, 404);
      assertEquals(await errorCode(res), "NoSuchBucket");
    });

    await t.step("B's data is untouched", async () => {
      const got = await bS3.send(new GetObjectCommand({ Bucket: "b-only", Key: "secret.txt" }));
      assertEquals(new TextDecoder().decode(await bodyBytes(got.Body)), "B data");
    });

    // Tenant B's records that A will aim at.
    const bGroup = await s.api("/groups", { token: b.admin.token, body: { name: "b-group" } });
    assertEquals(bGroup.status, 201);
    const bPolicy = await s.api("/policies", {
      token: b.admin.token,
      body: {
        name: "b-policy",
        document: { Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] },
      },
    });
    assertEquals(bPolicy.status, 201);
    const aPolicy = await s.api("/policies", {
      token: a.admin.token,
      body: {
        name: "a-policy",
        document: { Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] },
      },
    });
    assertEquals(aPolicy.status, 201);
    const aGroup = await s.api("/groups", { token: a.admin.token, body: { name: "a-group" } });
    const bId = b.user.id;
    const endpoints: [string, string, unknown?][] = [
      ["GET", `/users/${bId}`],
      ["PATCH", `/users/${bId}`, { displayName: "pwned" }],
      ["PATCH", `/users/${bId}`, { status: "disabled" }],
      ["DELETE", `/users/${bId}`],
      ["POST", `/users/${bId}/password`, { password: "Another-pass-1" }],
      ["POST", `/users/${bId}/unlock`],
      ["POST", `/users/${bId}/2fa/reset`],
      ["GET", `/users/${bId}/sessions`],
      ["DELETE", `/users/${bId}/sessions`],
      ["GET", `/tenants/${b.tenantId}`],
      ["PATCH", `/tenants/${b.tenantId}`, { status: "suspended" }],
      ["DELETE", `/tenants/${b.tenantId}`],
      ["GET", `/access-keys?userId=${bId}`],
      ["POST", "/access-keys", { userId: bId }],
      ["PATCH", `/access-keys/${b.user.key}`, { status: "inactive" }],
      ["DELETE", `/access-keys/${b.user.key}`],
      ["GET", `/groups/${bGroup.body.id}`],
      ["PATCH", `/groups/${bGroup.body.id}`, { name: "x" }],
      ["DELETE", `/groups/${bGroup.body.id}`],
      ["PUT", `/groups/${bGroup.body.id}/members/${a.user.id}`],
      ["GET", "/buckets/b-only/permissions"],
      ["POST", "/buckets/b-only/permissions", {
        subjectType: "user",
        subjectId: a.user.id,
        access: "full",
      }],
      ["GET", `/policies/${bPolicy.body.id}`],
      ["PATCH", `/policies/${bPolicy.body.id}`, { name: "x" }],
      ["DELETE", `/policies/${bPolicy.body.id}`],
      ["PUT", `/policies/${bPolicy.body.id}/attachments/users/${a.user.id}`],
      ["PUT", `/policies/${aPolicy.body.id}/attachments/users/${bId}`],
      ["PUT", `/policies/${aPolicy.body.id}/attachments/groups/${bGroup.body.id}`],
      ["GET", "/s3/b-only/secret.txt"],
      ["DELETE", "/buckets/b-only"],
    ];
    await t.step("tenant A's admin gets NotFound for every endpoint on B's records", async () => {
      for (const [method, path, body] of endpoints) {
        const r = await s.api(path, { method, body, token: a.admin.token });
        assertEquals(r.status, 404, `${method} ${path}: ${JSON.stringify(r.body)}`);
      }
      const addB = await s.api(`/groups/${aGroup.body.id}/members/${bId}`, {
        method: "PUT",
        token: a.admin.token,
      });
      assertEquals(addB.status, 400, "B's user cannot join A's group");
    });

    await t.step(
      "tenant A's user is refused too (Forbidden for admin endpoints, else NotFound)",
      async () => {
        for (const [method, path, body] of endpoints) {
          const r = await s.api(path, { method, body, token: a.user.token });
          assert([403, 404].includes(r.status), `${method} ${path}: ${r.status}`);
          if (
            path.startsWith("/users/") || path.startsWith("/access-keys") ||
            path.startsWith("/tenants/")
          ) {
            assertEquals(r.status, 404, `${method} ${path}`);
          }
        }
      },
    );

    const raw = (path: string, token: string, init: RequestInit = {}) =>
      fetch(`${s.srv.consoleUrl}/api/v1${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...init.headers },
      });

    await t.step(
      "the S3 passthrough's tenantId is refused for everyone but global admins",
      async () => {
        const q = `tenantId=${b.tenantId}`;
        const attempts: [string, string, string?][] = [
          ["GET", `/s3/b-only/secret.txt?${q}`],
          ["HEAD", `/s3/b-only/secret.txt?${q}`],
          ["GET", `/s3/b-only?list-type=2&${q}`],
          ["GET", `/s3?${q}`],
          ["PUT", `/s3/b-only/planted.txt?${q}`, "A was here"],
          ["PUT", `/s3/b-only/secret.txt?${q}`, "overwritten"],
          ["DELETE", `/s3/b-only/secret.txt?${q}`],
          ["PUT", `/s3/a-new-bucket?${q}`],
          ["DELETE", `/s3/b-only?${q}`],
        ];
        for (const token of [a.user.token, a.admin.token]) {
          for (const [method, path, body] of attempts) {
            const r = await raw(path, token, { method, body });
            await r.body?.cancel();
            assertEquals(r.status, 403, `${method} ${path}`);
          }
        }
        // Naming one's own tenant is allowed (and changes nothing).
        const own = await raw(`/s3/backups?list-type=2&tenantId=${a.tenantId}`, a.user.token);
        assertEquals(own.status, 200);
        await own.body?.cancel();
        await assertS3Error(
          () => bS3.send(new GetObjectCommand({ Bucket: "b-only", Key: "planted.txt" })),
          "NoSuchKey",
          404,
        );
      },
    );

    await t.step(
      "a global admin browses and uploads in a tenant's bucket with ?tenantId=",
      async () => {
        const q = `tenantId=${b.tenantId}`;
        const noScope = await raw("/s3/b-only?list-type=2", s.adminToken);
        assertEquals(noScope.status, 404, "without tenantId: the global namespace");
        assertEquals(await errorCode(noScope), "NoSuchBucket");
        const list = await raw(`/s3/b-only?list-type=2&${q}`, s.adminToken);
        assertEquals(list.status, 200);
        assert((await list.text()).includes("<Key>secret.txt</Key>"));
        const buckets = await raw(`/s3?${q}`, s.adminToken);
        const names = [...(await buckets.text()).matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) =>
          m[1]
        );
        assertEquals(names.sort(), ["b-only", "backups"]);
        const put = await raw(`/s3/b-only/from-admin.txt?${q}`, s.adminToken, {
          method: "PUT",
          body: "uploaded by the global admin",
        });
        assertEquals(put.status, 200);
        await put.body?.cancel();
        const got = await bS3.send(
          new GetObjectCommand({ Bucket: "b-only", Key: "from-admin.txt" }),
        );
        assertEquals(
          new TextDecoder().decode(await bodyBytes(got.Body)),
          "uploaded by the global admin",
        );
        const dl = await raw(`/s3/b-only/secret.txt?${q}`, s.adminToken);
        assertEquals(await dl.text(), "B data");
        const del = await raw(`/s3/b-only/from-admin.txt?${q}`, s.adminToken, { method: "DELETE" });
        assertEquals(del.status, 204);
        const unknown = await raw("/s3/b-only?list-type=2&tenantId=t-none", s.adminToken);
        assertEquals(unknown.status, 404);
        await unknown.body?.cancel();
      },
    );

    await t.step("lists show only the caller's tenant", async () => {
      const users = await s.api("/users", { token: a.admin.token });
      assertEquals(users.status, 200);
      assert(users.body.items.every((u: { tenantId: string }) => u.tenantId === a.tenantId));
      const tenants = await s.api("/tenants", { token: a.admin.token });
      assertEquals(tenants.body.items.map((x: { id: string }) => x.id), [a.tenantId]);
      const keys = await s.api("/access-keys", { token: a.admin.token });
      assert(keys.body.items.every((k: { tenantId: string }) => k.tenantId === a.tenantId));
      const audit = await s.api(`/audit?tenantId=${b.tenantId}`, { token: a.admin.token });
      assertEquals(audit.status, 200);
      assert(audit.body.items.length > 0);
      assert(audit.body.items.every((e: { tenantId: string }) => e.tenantId === a.tenantId));
      const buckets = await s.api("/buckets", { token: a.admin.token });
      assertEquals(buckets.body.items.map((x: { name: string }) => x.name), ["backups"]);
      const groups = await s.api("/groups", { token: a.admin.token });
      assertEquals(groups.body.items.map((g: { name: string }) => g.name), ["a-group"]);
      const created = await s.api("/users", {
        token: a.admin.token,
        body: {
          username: "sneaky",
          password: "Sneaky-pass-1",
          role: "tenant_user",
          tenantId: b.tenantId,
        },
      });
      assertEquals(created.status, 201);
      assertEquals(
        created.body.tenantId,
        a.tenantId,
        "tenant admins create users in their own tenant",
      );
    });

    await t.step("B's records survived every attempt", async () => {
      const u = await s.api(`/users/${bId}`, { token: s.adminToken });
      assertEquals(u.body.status, "active");
      assertEquals(u.body.displayName, "");
      const k = await s.api(`/access-keys?userId=${bId}`, { token: s.adminToken });
      assertEquals(k.body.items[0].status, "active");
      const tb = await s.api(`/tenants/${b.tenantId}`, { token: s.adminToken });
      assertEquals(tb.body.status, "active");
      const p = await s.api(`/policies/${bPolicy.body.id}`, { token: s.adminToken });
      assertEquals(p.body.attachments, { users: [], groups: [] });
    });
  } finally {
    await s.stop();
  }
});

function md5b64(s: string): string {
  return createHash("md5").update(s).digest("base64");
}
