/**
 * Who a share link reads as, in-process: a global administrator's link to a tenant's object reads
 * in that tenant's namespace; a link stops while its creator is disabled and works again once they
 * are enabled; a bucket deleted and created again under the same name is another bucket to it.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assertEquals } from "./_helpers/assert.ts";
import { startApp } from "./_helpers/app.ts";
import { inProcessApi } from "./_helpers/console_api.ts";
import { createTenant } from "../server/iam/tenants.ts";
import { createUser, updateUser } from "../server/iam/users.ts";
import { createAccessKey } from "../server/iam/access_keys.ts";

Deno.test("share links read as their creator, in the bucket they were made in", async () => {
  const a = await startApp();
  const clients: { destroy(): void }[] = [];
  try {
    const core = a.app.iam.core;
    await a.app.iam.bootstrap({ user: "admin", password: "Admin-password-1" });
    const { call, login } = inProcessApi(a.app, a.endpoint);
    const tenant = createTenant(core, { name: "share-ns" });
    const owner = await createUser(core, {
      username: "share-owner",
      password: "Share-owner-1",
      role: "tenant_admin",
      tenantId: tenant.id,
    });
    const key = await createAccessKey(core, owner.id);
    const s3 = a.client(key.accessKeyId, key.secretAccessKey);
    clients.push(s3);
    await s3.send(new CreateBucketCommand({ Bucket: "docs" }));
    await s3.send(new PutObjectCommand({ Bucket: "docs", Key: "k", Body: "tenant bytes" }));
    // The global namespace has a bucket of the same name with other bytes.
    await a.s3.send(new CreateBucketCommand({ Bucket: "docs" }));
    await a.s3.send(new PutObjectCommand({ Bucket: "docs", Key: "k", Body: "global bytes" }));

    const get = async (url: string) => {
      const res = await fetch(url);
      return { status: res.status, text: await res.text() };
    };
    const admin = await login("admin", "Admin-password-1");
    const byAdmin = await call("POST", "/buckets/docs/shares", admin, {
      key: "k",
      tenantId: tenant.id,
      expiresInSeconds: 600,
    });
    assertEquals(byAdmin.status, 201, JSON.stringify(byAdmin.body));
    assertEquals(byAdmin.body.share.tenantId, tenant.id);
    assertEquals((await get(byAdmin.body.url)).text, "tenant bytes");

    const ownerToken = await login("share-owner", "Share-owner-1");
    const byOwner = await call("POST", "/buckets/docs/shares", ownerToken, {
      key: "k",
      expiresInSeconds: 600,
    });
    assertEquals(byOwner.status, 201);
    assertEquals((await get(byOwner.body.url)).text, "tenant bytes");

    updateUser(core, owner.id, { status: "disabled" });
    assertEquals((await get(byOwner.body.url)).status, 403);
    assertEquals((await get(byAdmin.body.url)).status, 200);
    updateUser(core, owner.id, { status: "active" });
    assertEquals((await get(byOwner.body.url)).status, 200);

    // The bucket goes and comes back with the same key: the old links do not open it.
    await s3.send(new DeleteObjectCommand({ Bucket: "docs", Key: "k" }));
    await s3.send(new DeleteBucketCommand({ Bucket: "docs" }));
    await s3.send(new CreateBucketCommand({ Bucket: "docs" }));
    await s3.send(new PutObjectCommand({ Bucket: "docs", Key: "k", Body: "new bucket" }));
    for (const url of [byOwner.body.url, byAdmin.body.url]) {
      const r = await get(url);
      assertEquals(r.status, 403, r.text);
    }
  } finally {
    for (const c of clients) c.destroy();
    await a.stop();
  }
});
