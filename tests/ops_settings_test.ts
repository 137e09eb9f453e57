/**
 * Settings, maintenance mode, the event stream and bucket quotas through the console API of the
 * real server, with the AWS SDK for the S3 side.
 */
import { CreateBucketCommand, DeleteBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { randomBytes } from "./_helpers/server.ts";
import { type AuditEntry, startIamServer } from "./iam_fixture.ts";
import { startApp } from "./_helpers/app.ts";
import { BucketQuotas } from "../server/iam/bucket_quotas.ts";
import { openEvents } from "./_helpers/events.ts";

const KiB = 1024;

Deno.test("settings: categories validated, secrets never answered, changes audited", async () => {
  const s = await startIamServer();
  try {
    const patch = (body: unknown) =>
      s.api("/settings", { method: "PATCH", token: s.adminToken, body });
    const before = (await s.api("/settings", { token: s.adminToken })).body;
    assertEquals(before.email.enabled, false);
    assertEquals(before.alerts.diskWarnPercent, 80);
    assertEquals(before.audit.s3ObjectEvents, false);

    const bad = await patch({
      sessionHours: 2,
      email: { password: "smtp-Secret-9" },
      alerts: { quotaWarnPercent: 95 },
    });
    assertEquals(bad.status, 400);
    assertEquals(bad.body.error.code, "InvalidRequest");
    assertEquals(bad.body.error.field, "alerts.quotaWarnPercent");
    assertEquals((await s.api("/settings", { token: s.adminToken })).body, before);

    const ok = await patch({
      email: {
        host: "127.0.0.1",
        port: 2525,
        security: "none",
        password: "smtp-Secret-9",
        from: "maxiofs@example.com",
        to: ["ops@example.com"],
      },
    });
    assertEquals(ok.status, 200);
    assertEquals(ok.body.email.passwordSet, true);
    assertEquals(ok.body.email.port, 2525);
    assert(!JSON.stringify(ok.body).includes("smtp-Secret-9"));
    assert(!("password" in ok.body.email));

    const audit = (await s.api("/audit?action=settings.update", { token: s.adminToken })).body
      .items as AuditEntry[];
    // The fixture's own change, the refused one (a failure) and the stored one.
    assertEquals(audit.filter((e) => e.result === "failure").length, 1);
    const stored = audit.find((e) => e.detail?.includes("email."))!;
    assert(stored.detail!.includes("email.password"), stored.detail!);
    assert(!JSON.stringify(audit).includes("smtp-Secret-9"), "no secret in the audit log");

    const tenantUser = await s.api("/settings", { token: "not-a-token" });
    assertEquals(tenantUser.status, 401);
  } finally {
    await s.stop();
  }
});

Deno.test("maintenance mode: console changes 503 except sign-in and settings; consoles told", async () => {
  const s = await startIamServer();
  const events = await openEvents(s.srv.consoleUrl, s.adminToken);
  try {
    assertEquals(await events.next(), {
      type: "maintenance",
      data: { enabled: false, message: "" },
    });
    const on = await s.api("/settings", {
      method: "PATCH",
      token: s.adminToken,
      body: { system: { maintenanceMode: true, maintenanceMessage: "upgrade" } },
    });
    assertEquals(on.status, 200);
    assertEquals(await events.next(), {
      type: "maintenance",
      data: { enabled: true, message: "upgrade" },
    });

    const refused = await s.api("/buckets", { token: s.adminToken, body: { name: "mm-bucket" } });
    assertEquals(refused.status, 503);
    assertEquals(refused.body.error.code, "ServiceUnavailable");
    assert(refused.body.error.message.includes("upgrade"));
    assertEquals(refused.headers.get("retry-after"), "60");
    const put = await s.api("/s3/some-bucket/k", { method: "PUT", token: s.adminToken, body: "x" });
    assertEquals(put.status, 503);
    assertEquals((await s.api("/buckets", { token: s.adminToken })).status, 200);
    const token = await s.login("admin", "Admin-password-1");
    assert(token);
    // S3 writes are refused the same way.
    const c = s.srv.client();
    const e = await c.send(new CreateBucketCommand({ Bucket: "mm-bucket" })).then(
      () => null,
      (e) => e,
    );
    assertEquals(e?.name, "ServiceUnavailable");
    c.destroy();

    const off = await s.api("/settings", {
      method: "PATCH",
      token: s.adminToken,
      body: { system: { maintenanceMode: false } },
    });
    assertEquals(off.status, 200);
    assertEquals((await events.next()).data, { enabled: false, message: "upgrade" });
    const created = await s.api("/buckets", { token: s.adminToken, body: { name: "mm-bucket" } });
    assertEquals(created.status, 201);
  } finally {
    await events.close();
    await s.stop();
  }
});

Deno.test("bucket quotas: parallel writers cannot pass a bucket's objects or bytes", async (t) => {
  const s = await startIamServer();
  const c = s.srv.client();
  try {
    const quota = (bucket: string, body?: unknown) =>
      s.api(`/buckets/${bucket}/quota`, {
        method: body === undefined ? "GET" : "PUT",
        token: s.adminToken,
        body,
      });
    await c.send(new CreateBucketCommand({ Bucket: "quota-objects" }));
    await c.send(new CreateBucketCommand({ Bucket: "quota-bytes" }));

    await t.step("an invalid quota is refused and leaves the previous one", async () => {
      assertEquals((await quota("quota-objects", { maxObjects: 5 })).status, 200);
      const bad = await quota("quota-objects", { maxObjects: -1 });
      assertEquals(bad.status, 400);
      assertEquals((await quota("quota-objects", { maxBytes: "1" })).status, 400);
      assertEquals((await quota("no-such-bucket", { maxObjects: 1 })).status, 404);
      assertEquals((await quota("quota-objects")).body.quota, { maxBytes: null, maxObjects: 5 });
    });

    const parallel = async (bucket: string, n: number, size: number) => {
      const body = randomBytes(size, 3);
      const results = await Promise.allSettled(
        Array.from(
          { length: n },
          (_, i) => c.send(new PutObjectCommand({ Bucket: bucket, Key: `o-${i}`, Body: body })),
        ),
      );
      for (const r of results) {
        if (r.status === "rejected") {
          assertEquals(r.reason.name, "QuotaExceeded");
          assertEquals(r.reason.$metadata.httpStatusCode, 403);
        }
      }
      const stored = results.flatMap((r, i) => r.status === "fulfilled" ? [`o-${i}`] : []);
      return { count: stored.length, stored };
    };

    await t.step("24 parallel uploads into a 5-object quota: exactly 5 succeed", async () => {
      assertEquals((await parallel("quota-objects", 24, 1 * KiB)).count, 5);
      assertEquals((await quota("quota-objects")).body.usage.objects, 5);
    });

    await t.step("24 parallel 10 KiB uploads into a 40 KiB quota: exactly 4 succeed", async () => {
      assertEquals((await quota("quota-bytes", { maxBytes: 40 * KiB })).status, 200);
      const { count, stored } = await parallel("quota-bytes", 24, 10 * KiB);
      assertEquals(count, 4);
      const q = (await quota("quota-bytes")).body;
      assertEquals(q.usage, { bytes: 40 * KiB, objects: 4 });
      // An overwrite that does not grow the bucket passes.
      await c.send(new PutObjectCommand({ Bucket: "quota-bytes", Key: stored[0], Body: "small" }));
    });

    await t.step(
      "the storage default applies to buckets without a quota of their own",
      async () => {
        const r = await s.api("/settings", {
          method: "PATCH",
          token: s.adminToken,
          body: { storage: { defaultBucketMaxObjects: 2 } },
        });
        assertEquals(r.status, 200);
        await c.send(new CreateBucketCommand({ Bucket: "quota-default" }));
        assertEquals((await parallel("quota-default", 8, 100)).count, 2);
        assertEquals((await quota("quota-default")).body.defaults.maxObjects, 2);
        // Its own limit replaces the default.
        await quota("quota-default", { maxObjects: 3 });
        await c.send(new PutObjectCommand({ Bucket: "quota-default", Key: "third", Body: "x" }));
      },
    );
  } finally {
    c.destroy();
    await s.stop();
  }
});

Deno.test("a deleted bucket's quota goes with it", async () => {
  const s = await startApp();
  try {
    await s.s3.send(new CreateBucketCommand({ Bucket: "quota-gone" }));
    const b = await s.app.storage.backend.getBucket("", "quota-gone");
    s.app.iam.bucketQuotas.put(b, { maxBytes: null, maxObjects: 1 });
    await s.s3.send(new DeleteBucketCommand({ Bucket: "quota-gone" }));
    assertEquals(s.app.iam.bucketQuotas.get(b.id), { maxBytes: null, maxObjects: null });
    // Nor is it read back at the next start.
    assertEquals(new BucketQuotas(s.app.iam.core).get(b.id), { maxBytes: null, maxObjects: null });
  } finally {
    await s.stop();
  }
});
