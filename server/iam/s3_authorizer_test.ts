/**
 * The authorizer's part reservations (quota accounting before an UploadPartCopy runs): only a
 * copy-source range the operation will accept reserves its length. A range whose end comes
 * before its start is refused by the operation, and must not reserve a negative length
 * meanwhile: that lowered the tenant's reserved counter until the refusal, letting concurrent
 * writes past the quota. Without a range, the length is that of the source version named.
 */
import { assertEquals } from "../../tests/_helpers/assert.ts";
import { startApp } from "../../tests/_helpers/app.ts";
import { quiet } from "../../tests/_helpers/storage.ts";
import { parseEndpoint, splitTarget } from "../s3/endpoint.ts";
import { authenticatedAs } from "../s3/auth/mod.ts";
import { NO_CLIENT } from "./net.ts";
import { createTenant } from "./tenants.ts";
import type { OpContext } from "../s3/context.ts";
import type { Principal } from "./types.ts";

Deno.test("UploadPartCopy reserves a well-formed range, else the source version named", async () => {
  const h = await startApp();
  try {
    const { app } = h;
    const tenant = createTenant(app.iam.core, { name: "resv", quota: { maxBytes: 10_000 } });
    const admin: Principal = {
      kind: "user",
      userId: "u-resv",
      tenantId: tenant.id,
      isAdmin: true,
      displayName: "resv",
      role: "tenant_admin",
    };
    const s3 = (method: string, path: string) =>
      app.handleAs(new Request(`http://127.0.0.1${path}`, { method }), admin, NO_CLIENT);
    assertEquals((await s3("PUT", "/resv")).status, 200);
    const created = await s3("POST", "/resv/k?uploads");
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())![1];
    const bucket = await app.storage.backend.getBucket(tenant.id, "resv");

    /**
     * Runs only the authorizer on an UploadPartCopy of `source` (with `range` if given); returns
     * the reserved bytes.
     */
    const reservedAfter = async (range: string | null, requestId: string, source = "/resv/src") => {
      const headers: Record<string, string> = { "x-amz-copy-source": source };
      if (range !== null) headers["x-amz-copy-source-range"] = range;
      const req = new Request(
        `http://127.0.0.1/resv/k?partNumber=1&uploadId=${uploadId}`,
        { method: "PUT", headers },
      );
      const target = splitTarget(req);
      const ctx: OpContext = {
        req,
        client: NO_CLIENT,
        ep: parseEndpoint(req, { domain: null }, target),
        target,
        auth: authenticatedAs(req, admin),
        principal: admin,
        ns: tenant.id,
        deps: {
          storage: app.storage.backend,
          credentials: { lookup: () => Promise.resolve(null) },
          authorizer: app.iam.authorizer,
          namespaces: app.iam.namespaces,
          grantees: app.iam.grantees,
          region: "us-east-1",
          domain: null,
          clock: { now: () => Date.now() },
          log: quiet,
        },
        requestId,
        bucket: () => Promise.resolve(bucket),
        bucketNamed: (name) => app.storage.backend.getBucket(tenant.id, name),
      };
      await app.iam.authorizer.authorize(ctx, bucket);
      return (await app.storage.backend.usage.read(tenant.id)).reserved;
    };

    assertEquals(await reservedAfter("bytes=900-0", "r-inverted"), 0);
    assertEquals(await reservedAfter("bytes=0-99", "r-valid"), 100);

    // Without a range, the source version named is the length reserved, not the latest one.
    await app.storage.backend.updateBucket(bucket, (b) => ({ ...b, versioning: "Enabled" }));
    const put = (size: number) =>
      app.handleAs(
        new Request("http://127.0.0.1/resv/src", {
          method: "PUT",
          body: "x".repeat(size),
          headers: { "content-length": String(size) },
        }),
        admin,
        NO_CLIENT,
      );
    const older = (await put(500)).headers.get("x-amz-version-id");
    assertEquals((await put(10)).status, 200);
    assertEquals(
      await reservedAfter(null, "r-version", `/resv/src?versionId=${older}`),
      100 + 500,
    );
  } finally {
    await h.stop();
  }
});
