/**
 * `S3Front.handleAs`: a request on behalf of a principal the caller authenticated runs the
 * same authorization and `onRequest` hook as `handle`, in the principal's namespace, and never
 * looks at signature headers; `handle` never takes a principal from the request.
 */
import { assert, assertEquals } from "../../tests/_helpers/assert.ts";
import { quiet, withStorage } from "../../tests/_helpers/storage.ts";
import { createS3Handler } from "./handler.ts";
import { NO_CLIENT } from "../iam/net.ts";
import { S3Error } from "./errors.ts";
import type { Principal } from "../iam/types.ts";
import type { RequestInfo } from "./context.ts";
import { GLOBAL_ONLY } from "./bucket_ref.ts";
import { noPublicAccessBlock } from "../iam/public_access.ts";

const alice: Principal = {
  kind: "user",
  userId: "u-alice",
  tenantId: "t1",
  isAdmin: false,
  displayName: "alice",
  role: "tenant_user",
};
const bob: Principal = { ...alice, userId: "u-bob", displayName: "bob" };

Deno.test("handleAs runs S3 as the given principal; handle trusts only signatures", async () => {
  await withStorage("maxiofs-handle-as-", async (s) => {
    const seen: RequestInfo[] = [];
    const authorized: (string | null)[] = [];
    const s3 = createS3Handler({
      storage: s.backend,
      credentials: { lookup: () => Promise.resolve(null) },
      authorizer: {
        // Owners only, in their own namespace.
        authorize(ctx, bucket) {
          authorized.push(ctx.principal?.userId ?? null);
          const p = ctx.principal;
          const owns = p !== null &&
            (!bucket || (bucket.ns === ctx.ns && bucket.ownerId === p.userId));
          return owns ? Promise.resolve() : Promise.reject(new S3Error("AccessDenied"));
        },
        mayList: () => Promise.resolve(true),
        publicAccessBlock: () => Promise.resolve(noPublicAccessBlock()),
      },
      namespaces: GLOBAL_ONLY,
      grantees: { userById: (id) => ({ id, displayName: id }), usersByEmail: () => [] },
      region: "us-east-1",
      domain: null,
      clock: { now: () => Date.now() },
      log: quiet,
      onRequest: (info) => seen.push(info),
    });
    const req = (method: string, path: string, init: RequestInit = {}) =>
      new Request(`http://127.0.0.1${path}`, { method, ...init });

    const created = await s3.handleAs(req("PUT", "/box"), alice, NO_CLIENT);
    assertEquals(created.status, 200);
    assertEquals((await s.backend.getBucket("t1", "box")).ownerId, "u-alice");

    // Signature headers are not consulted: a bogus Authorization and payload hash change nothing.
    const put = await s3.handleAs(
      req("PUT", "/box/k", {
        body: "hello",
        headers: {
          "content-length": "5",
          authorization: "AWS4-HMAC-SHA256 Credential=nobody/20200101/x/s3/aws4_request",
          "x-amz-content-sha256": "0".repeat(64),
        },
      }),
      alice,
      NO_CLIENT,
    );
    assertEquals(put.status, 200);
    await put.body?.cancel();
    const got = await s3.handleAs(req("GET", "/box/k"), alice, NO_CLIENT);
    assertEquals(await got.text(), "hello");

    // The authorizer decides for handleAs exactly as for a signed request.
    const denied = await s3.handleAs(req("GET", "/box/k"), bob, NO_CLIENT);
    assertEquals(denied.status, 403);
    assert((await denied.text()).includes("<Code>AccessDenied</Code>"));

    // handle: the same unsigned request is anonymous, so it addresses the global namespace
    // (where there is no such bucket) and never alice's.
    const anon = await s3.handle(req("GET", "/box/k"), NO_CLIENT);
    assertEquals(anon.status, 404);
    assert((await anon.text()).includes("<Code>NoSuchBucket</Code>"));

    assertEquals(authorized, ["u-alice", "u-alice", "u-alice", "u-bob"]);
    assertEquals(
      seen.map((i) => [i.op, i.status, i.principal?.userId ?? null, i.bucket]),
      [
        ["CreateBucket", 200, "u-alice", "box"],
        ["PutObject", 200, "u-alice", "box"],
        ["GetObject", 200, "u-alice", "box"],
        ["GetObject", 403, "u-bob", "box"],
        ["GetObject", 404, null, "box"],
      ],
    );
  });
});
