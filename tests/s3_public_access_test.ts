/**
 * Public access block configuration end to end: the bucket level through the SDK (bad documents
 * leave the previous block), the tenant level and the global default through the console API
 * (who may set which), and the admin CLI online.
 */
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  DeletePublicAccessBlockCommand,
  GetPublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { ADMIN_PASSWORD, ADMIN_USER, makeTenant, startIamServer } from "./iam_fixture.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";
import { cli } from "./_helpers/admin_cli.ts";

const md5 = (s: string) => createHash("md5").update(s).digest("base64");
const NONE = {
  blockPublicAcls: false,
  ignorePublicAcls: false,
  blockPublicPolicy: false,
  restrictPublicBuckets: false,
};

Deno.test("public access block: bucket, tenant and global levels", async (t) => {
  const s = await startIamServer();
  const srv = s.srv;
  const s3 = srv.client();
  const B = "blocked";
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));

    await t.step("bucket level: none set is NoSuchPublicAccessBlockConfiguration", async () => {
      await assertS3Error(
        () => s3.send(new GetPublicAccessBlockCommand({ Bucket: B })),
        "NoSuchPublicAccessBlockConfiguration",
        404,
      );
    });

    await t.step("bucket level: Put then Get, absent flags false", async () => {
      await s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: B,
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
        }),
      );
      const got = await s3.send(new GetPublicAccessBlockCommand({ Bucket: B }));
      assertEquals(got.PublicAccessBlockConfiguration, {
        BlockPublicAcls: true,
        IgnorePublicAcls: false,
        BlockPublicPolicy: false,
        RestrictPublicBuckets: true,
      });
    });

    await t.step("bucket level: bad documents are MalformedXML and change nothing", async () => {
      for (
        const doc of [
          "<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>",
          "<PublicAccessBlockConfiguration><BlockAll>true</BlockAll></PublicAccessBlockConfiguration>",
          "<PublicAccessBlockConfiguration><BlockPublicAcls>false</BlockPublicAcls>",
          "<PublicAccessBlock><BlockPublicAcls>false</BlockPublicAcls></PublicAccessBlock>",
        ]
      ) {
        const res = await signedFetch(srv, {
          method: "PUT",
          path: `/${B}`,
          query: { publicAccessBlock: "" },
          headers: { "content-md5": md5(doc) },
          body: doc,
        });
        assertEquals(res.status, 400, doc);
        assertEquals(await errorCode(res), "MalformedXML", doc);
      }
      const got = await s3.send(new GetPublicAccessBlockCommand({ Bucket: B }));
      assertEquals(got.PublicAccessBlockConfiguration?.BlockPublicAcls, true);
      assertEquals(got.PublicAccessBlockConfiguration?.RestrictPublicBuckets, true);
    });

    await t.step("bucket level: Delete removes it", async () => {
      await s3.send(new DeletePublicAccessBlockCommand({ Bucket: B }));
      await assertS3Error(
        () => s3.send(new GetPublicAccessBlockCommand({ Bucket: B })),
        "NoSuchPublicAccessBlockConfiguration",
        404,
      );
    });

    const acme = await makeTenant(s, "acme");
    const other = await makeTenant(s, "other");
    const path = `/tenants/${acme.tenantId}/public-access-block`;

    await t.step("tenant level: its admins and global admins set it", async () => {
      let r = await s.api(path, { token: acme.admin.token });
      assertEquals(r.status, 200);
      assertEquals(r.body, { publicAccessBlock: null });
      r = await s.api(path, {
        method: "PUT",
        token: acme.admin.token,
        body: { blockPublicPolicy: true },
      });
      assertEquals(r.status, 200);
      assertEquals(r.body.publicAccessBlock, { ...NONE, blockPublicPolicy: true });
      r = await s.api(path, { token: s.adminToken });
      assertEquals(r.body.publicAccessBlock, { ...NONE, blockPublicPolicy: true });
      r = await s.api(path, {
        method: "PUT",
        token: s.adminToken,
        body: { ignorePublicAcls: true },
      });
      assertEquals(r.status, 200);
      r = await s.api(path, { token: acme.admin.token });
      assertEquals(r.body.publicAccessBlock, { ...NONE, ignorePublicAcls: true });
    });

    await t.step(
      "tenant level: users and other tenants may not; bad input changes nothing",
      async () => {
        let r = await s.api(path, { method: "PUT", token: acme.user.token, body: {} });
        assertEquals(r.status, 403);
        r = await s.api(path, { token: other.admin.token });
        assertEquals(r.status, 404);
        r = await s.api(path, { method: "DELETE", token: other.admin.token });
        assertEquals(r.status, 404);
        for (const body of [{ blockPublicAcls: "true" }, { blockEverything: true }, [true]]) {
          r = await s.api(path, { method: "PUT", token: acme.admin.token, body });
          assertEquals(r.status, 400, JSON.stringify(body));
          assertEquals(r.body.error.code, "InvalidRequest");
        }
        r = await s.api(path, { token: acme.admin.token });
        assertEquals(r.body.publicAccessBlock, { ...NONE, ignorePublicAcls: true });
        r = await s.api(path, { method: "DELETE", token: acme.admin.token });
        assertEquals(r.status, 204);
        r = await s.api(path, { token: acme.admin.token });
        assertEquals(r.body.publicAccessBlock, null);
        const audit = await s.api("/audit?action=tenant.public-access-block.put", {
          token: s.adminToken,
        });
        assert(audit.body.items.length >= 2);
      },
    );

    await t.step("global default: a setting of global admins", async () => {
      let r = await s.api("/settings", { token: s.adminToken });
      assertEquals(r.body.publicAccessBlock, NONE);
      r = await s.api("/settings", {
        method: "PATCH",
        token: s.adminToken,
        body: { publicAccessBlock: { ...NONE, blockPublicAcls: true } },
      });
      assertEquals(r.status, 200);
      assertEquals(r.body.publicAccessBlock, { ...NONE, blockPublicAcls: true });
      r = await s.api("/settings", {
        method: "PATCH",
        token: s.adminToken,
        body: { publicAccessBlock: { blockPublicAcls: 1 } },
      });
      assertEquals(r.status, 400);
      r = await s.api("/settings", {
        method: "PATCH",
        token: acme.admin.token,
        body: { publicAccessBlock: NONE },
      });
      assertEquals(r.status, 403);
      r = await s.api("/settings", { token: s.adminToken });
      assertEquals(r.body.publicAccessBlock, { ...NONE, blockPublicAcls: true });
    });

    await t.step("the admin CLI reads and sets both levels online", async () => {
      const online = ["--url", srv.consoleUrl, "--user", ADMIN_USER, "--password", ADMIN_PASSWORD];
      let r = await cli(
        "public-access-block",
        "set",
        "--tenant",
        "acme",
        "--block-public-acls",
        "--restrict-public-buckets",
        "true",
        ...online,
      );
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.json, { ...NONE, blockPublicAcls: true, restrictPublicBuckets: true });
      r = await cli("public-access-block", "get", "--tenant", "acme", ...online);
      assertEquals(r.json, { ...NONE, blockPublicAcls: true, restrictPublicBuckets: true });
      r = await cli("public-access-block", "set", "--ignore-public-acls", ...online);
      assertEquals(r.code, 0, r.stderr);
      r = await cli("public-access-block", "get", ...online);
      assertEquals(r.json, { ...NONE, ignorePublicAcls: true });
      r = await cli("public-access-block", "delete", "--tenant", "acme", ...online);
      assertEquals(r.code, 0, r.stderr);
      r = await cli("public-access-block", "get", "--tenant", "acme", ...online);
      assertEquals(r.json, null);
      r = await cli("public-access-block", "set", "--block-public-acls", "maybe", ...online);
      assertEquals(r.code, 1);
    });
  } finally {
    s3.destroy();
    await s.stop();
  }
});
