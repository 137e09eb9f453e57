/**
 * The authorizer's part reservations (quota accounting before an UploadPartCopy runs): only a
 * copy-source range the operation will accept reserves its length. A range whose end comes
 * before its start is refused by the operation, and must not reserve a negative length
 * meanwhile: that lowered the tenant's reserved counter until the refusal, letting concurrent
 * writes past the quota.
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

Deno.test("UploadPartCopy reserves only a well-formed copy-source range", async () => {
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

    /** Runs only the authorizer on an UploadPartCopy with `range`; returns the reserved bytes. */
    const reservedAfter = async (range: string, requestId: string) => {
      const req = new Request(
        `http://127.0.0.1/resv/k?partNumber=1&uploadId=${uploadId}`,
        {
          method: "PUT",
          headers: { "x-amz-copy-source": "/resv/src", "x-amz-copy-source-range": range },
        },
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
          region: "us-east-1",
          domain: null,
          clock: { now: () => Date.now() },
          log: quiet,
        },
        requestId,
        bucket: () => Promise.resolve(bucket),
      };
      await app.iam.authorizer.authorize(ctx, bucket);
      return (await app.storage.backend.usage.read(tenant.id)).reserved;
    };

    assertEquals(await reservedAfter("bytes=900-0", "r-inverted"), 0);
    assertEquals(await reservedAfter("bytes=0-99", "r-valid"), 100);
  } finally {
    await h.stop();
  }
});
