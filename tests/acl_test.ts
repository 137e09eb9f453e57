/**
 * ACLs and Object Ownership end to end with the AWS SDK: bucket and object ACLs from canned
 * ACLs, grant headers and AccessControlPolicy documents, per version; what CreateBucket,
 * PutObject, CopyObject, multipart uploads and POST uploads store; the three ownership settings;
 * and bad input that must leave the previous ACL in place.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketOwnershipControlsCommand,
  GetBucketAclCommand,
  type GetBucketAclCommandOutput,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createHmac } from "node:crypto";
import { assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";
import { startIamServer } from "./iam_fixture.ts";

const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/** Grants as `grantee:permission`, grantee = user id or the group's last path segment. */
function grants(out: Pick<GetBucketAclCommandOutput, "Grants">): string[] {
  return (out.Grants ?? []).map((g) =>
    `${
      g.Grantee?.Type === "Group" ? g.Grantee.URI?.split("/").pop() : g.Grantee?.ID
    }:${g.Permission}`
  );
}

const bucketAcl = async (s3: S3Client, Bucket: string) =>
  grants(await s3.send(new GetBucketAclCommand({ Bucket })));
const objectAcl = async (s3: S3Client, Bucket: string, Key: string, VersionId?: string) =>
  grants(await s3.send(new GetObjectAclCommand({ Bucket, Key, VersionId })));
const objectOwner = async (s3: S3Client, Bucket: string, Key: string) =>
  (await s3.send(new GetObjectAclCommand({ Bucket, Key }))).Owner?.ID;
const listedOwner = async (s3: S3Client, Bucket: string, Key: string) =>
  (await s3.send(new ListObjectsV2Command({ Bucket, Prefix: Key, FetchOwner: true })))
    .Contents?.[0].Owner?.ID;
const ownership = async (s3: S3Client, Bucket: string) =>
  (await s3.send(new GetBucketOwnershipControlsCommand({ Bucket }))).OwnershipControls?.Rules
    ?.[0].ObjectOwnership;
const setOwnership = (s3: S3Client, Bucket: string, ObjectOwnership: string) =>
  s3.send(
    new PutBucketOwnershipControlsCommand({
      Bucket,
      OwnershipControls: {
        Rules: [{ ObjectOwnership: ObjectOwnership as "ObjectWriter" }],
      },
    }),
  );

Deno.test("ACLs and object ownership", async (t) => {
  const iam = await startIamServer();
  const srv = iam.srv;
  const root = srv.client();
  let ann: S3Client | null = null;
  try {
    // A second user (global admin, so it may write the root's buckets) with an email address.
    const u = await iam.api("/users", {
      token: iam.adminToken,
      body: {
        username: "ann",
        password: "Ann-password-1",
        role: "global_admin",
        email: "Ann@Example.com",
      },
    });
    assertEquals(u.status, 201);
    const annId = u.body.id as string;
    const key = await iam.api("/access-keys", {
      token: await iam.login("ann", "Ann-password-1"),
      body: {},
    });
    ann = iam.s3(key.body.accessKeyId, key.body.secretAccessKey);

    await t.step(
      "CreateBucket with a canned ACL; Get answers the group grants first, as S3",
      async () => {
        await root.send(new CreateBucketCommand({ Bucket: "pub", ACL: "public-read" }));
        const out = await root.send(new GetBucketAclCommand({ Bucket: "pub" }));
        assertEquals(out.Owner, { ID: "root", DisplayName: "root" });
        assertEquals(grants(out), ["AllUsers:READ", "root:FULL_CONTROL"]);
        assertEquals(out.Grants?.[1].Grantee?.DisplayName, "root");
        // ObjectWriter is the default and is not stored: AWS's answer for a bucket without one.
        await assertS3Error(
          () => ownership(root, "pub"),
          "OwnershipControlsNotFoundError",
          404,
        );
        await root.send(new CreateBucketCommand({ Bucket: "plain" }));
        assertEquals(await bucketAcl(root, "plain"), ["root:FULL_CONTROL"]);
      },
    );

    await t.step("PutBucketAcl: grant headers, then a document", async () => {
      await root.send(
        new PutBucketAclCommand({
          Bucket: "pub",
          GrantRead: `id="${annId}"`,
          GrantWriteACP: `emailAddress="ann@example.com"`,
          GrantFullControl: `id="root", uri="${AUTH_USERS}"`,
        }),
      );
      const out = await root.send(new GetBucketAclCommand({ Bucket: "pub" }));
      assertEquals(grants(out), [
        `${annId}:READ`,
        `${annId}:WRITE_ACP`,
        "root:FULL_CONTROL",
        "AuthenticatedUsers:FULL_CONTROL",
      ]);
      assertEquals(out.Grants?.[1].Grantee, {
        Type: "CanonicalUser",
        ID: annId,
        DisplayName: "ann",
      });

      await root.send(
        new PutBucketAclCommand({
          Bucket: "pub",
          AccessControlPolicy: {
            Owner: { ID: "root" },
            Grants: [
              { Grantee: { Type: "CanonicalUser", ID: "root" }, Permission: "FULL_CONTROL" },
              { Grantee: { Type: "Group", URI: ALL_USERS }, Permission: "READ" },
              {
                Grantee: { Type: "AmazonCustomerByEmail", EmailAddress: "ANN@example.com" },
                Permission: "WRITE",
              },
            ],
          },
        }),
      );
      assertEquals(await bucketAcl(root, "pub"), [
        "root:FULL_CONTROL",
        "AllUsers:READ",
        `${annId}:WRITE`,
      ]);
    });

    await t.step("bad ACLs fail with S3's errors and leave the ACL as it was", async () => {
      const before = await bucketAcl(root, "pub");
      const put = (input: Record<string, unknown>) => () =>
        root.send(new PutBucketAclCommand({ Bucket: "pub", ...input }));
      await assertS3Error(put({ GrantRead: `id="nobody"` }), "InvalidArgument", 400);
      await assertS3Error(
        put({ GrantRead: `emailAddress="nobody@example.com"` }),
        "UnresolvableGrantByEmailAddress",
        400,
      );
      await assertS3Error(put({ GrantRead: `who="x"` }), "InvalidArgument", 400);
      await assertS3Error(put({ ACL: "private", GrantRead: `id="root"` }), "InvalidRequest", 400);
      await assertS3Error(
        put({
          AccessControlPolicy: {
            Owner: { ID: annId },
            Grants: [{ Grantee: { Type: "CanonicalUser", ID: annId }, Permission: "READ" }],
          },
        }),
        "AccessDenied",
        403,
      );
      const raw = async (body: string, headers: Record<string, string> = {}) => {
        const res = await signedFetch(srv, {
          method: "PUT",
          path: "/pub",
          query: { acl: "" },
          body,
          headers,
        });
        return [res.status, await errorCode(res)];
      };
      assertEquals(await raw("<AccessControlPolicy><Owner>"), [400, "MalformedXML"]);
      assertEquals(await raw("<AccessControlPolicy/>"), [400, "MalformedACLError"]);
      assertEquals(await raw(""), [400, "MissingRequestBodyError"]);
      assertEquals(await raw("", { "x-amz-acl": "public" }), [400, "InvalidArgument"]);
      assertEquals(
        await raw(
          `<AccessControlPolicy><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>EVERYTHING</Permission></Grant></AccessControlList></AccessControlPolicy>`,
        ),
        [400, "MalformedACLError"],
      );
      assertEquals(await bucketAcl(root, "pub"), before);
    });

    await t.step("objects get the ACL of their write: PUT, copy, multipart, POST", async () => {
      await root.send(
        new PutObjectCommand({ Bucket: "plain", Key: "pr", Body: "x", ACL: "public-read" }),
      );
      assertEquals(await objectAcl(root, "plain", "pr"), ["AllUsers:READ", "root:FULL_CONTROL"]);
      await root.send(
        new PutObjectCommand({ Bucket: "plain", Key: "g", Body: "x", GrantRead: `id="${annId}"` }),
      );
      assertEquals(await objectAcl(root, "plain", "g"), [`${annId}:READ`]);
      await root.send(new PutObjectCommand({ Bucket: "plain", Key: "none", Body: "x" }));
      assertEquals(await objectAcl(root, "plain", "none"), ["root:FULL_CONTROL"]);

      // A copy gets the ACL of its request, not the source's.
      await root.send(
        new CopyObjectCommand({ Bucket: "plain", Key: "c1", CopySource: "plain/pr" }),
      );
      assertEquals(await objectAcl(root, "plain", "c1"), ["root:FULL_CONTROL"]);
      await root.send(
        new CopyObjectCommand({
          Bucket: "plain",
          Key: "c2",
          CopySource: "plain/pr",
          ACL: "authenticated-read",
        }),
      );
      assertEquals(await objectAcl(root, "plain", "c2"), [
        "AuthenticatedUsers:READ",
        "root:FULL_CONTROL",
      ]);

      const up = await root.send(
        new CreateMultipartUploadCommand({ Bucket: "plain", Key: "mp", ACL: "public-read-write" }),
      );
      const part = await root.send(
        new UploadPartCommand({
          Bucket: "plain",
          Key: "mp",
          UploadId: up.UploadId,
          PartNumber: 1,
          Body: "part",
        }),
      );
      await root.send(
        new CompleteMultipartUploadCommand({
          Bucket: "plain",
          Key: "mp",
          UploadId: up.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
      assertEquals(await objectAcl(root, "plain", "mp"), [
        "AllUsers:READ",
        "AllUsers:WRITE",
        "root:FULL_CONTROL",
      ]);

      const res = await fetch(`${srv.endpoint}/plain`, {
        method: "POST",
        body: postForm(srv.accessKey, srv.secretKey, "plain", "posted", { acl: "public-read" }),
      });
      await res.body?.cancel();
      assertEquals(res.status, 204);
      assertEquals(await objectAcl(root, "plain", "posted"), [
        "AllUsers:READ",
        "root:FULL_CONTROL",
      ]);
      const bad = await fetch(`${srv.endpoint}/plain`, {
        method: "POST",
        body: postForm(srv.accessKey, srv.secretKey, "plain", "bad", { acl: "nope" }),
      });
      assertEquals([bad.status, await errorCode(bad)], [400, "InvalidArgument"]);
      await assertS3Error(
        () =>
          root.send(
            new PutObjectCommand({ Bucket: "plain", Key: "x", Body: "x", GrantRead: `id="zz"` }),
          ),
        "InvalidArgument",
        400,
      );
    });

    await t.step("object ACLs per version", async () => {
      await root.send(new CreateBucketCommand({ Bucket: "ver" }));
      await root.send(
        new PutBucketVersioningCommand({
          Bucket: "ver",
          VersioningConfiguration: { Status: "Enabled" },
        }),
      );
      const v1 = (await root.send(
        new PutObjectCommand({ Bucket: "ver", Key: "k", Body: "1", ACL: "public-read" }),
      )).VersionId!;
      const v2 = (await root.send(new PutObjectCommand({ Bucket: "ver", Key: "k", Body: "2" })))
        .VersionId!;
      assertEquals(await objectAcl(root, "ver", "k"), ["root:FULL_CONTROL"]);
      assertEquals(await objectAcl(root, "ver", "k", v1), ["AllUsers:READ", "root:FULL_CONTROL"]);
      await root.send(
        new PutObjectAclCommand({ Bucket: "ver", Key: "k", VersionId: v1, ACL: "private" }),
      );
      await root.send(
        new PutObjectAclCommand({
          Bucket: "ver",
          Key: "k",
          VersionId: v2,
          ACL: "authenticated-read",
        }),
      );
      assertEquals(await objectAcl(root, "ver", "k", v1), ["root:FULL_CONTROL"]);
      assertEquals(await objectAcl(root, "ver", "k"), [
        "AuthenticatedUsers:READ",
        "root:FULL_CONTROL",
      ]);
      const res = await signedFetch(srv, {
        method: "GET",
        path: "/ver/k",
        query: { acl: "", versionId: v1 },
      });
      await res.body?.cancel();
      assertEquals(res.headers.get("x-amz-version-id"), v1);
      // A bad ACL leaves the version's ACL alone.
      await assertS3Error(
        () =>
          root.send(
            new PutObjectAclCommand({ Bucket: "ver", Key: "k", VersionId: v2, GrantRead: "id=" }),
          ),
        "InvalidArgument",
        400,
      );
      assertEquals(await objectAcl(root, "ver", "k", v2), [
        "AuthenticatedUsers:READ",
        "root:FULL_CONTROL",
      ]);
    });

    await t.step("ObjectWriter: the writer owns what it writes", async () => {
      await ann!.send(new PutObjectCommand({ Bucket: "plain", Key: "ann", Body: "a" }));
      assertEquals(await objectOwner(root, "plain", "ann"), annId);
      assertEquals(await listedOwner(root, "plain", "ann"), annId);
      await ann!.send(
        new PutObjectCommand({
          Bucket: "plain",
          Key: "ann-bofc",
          Body: "a",
          ACL: "bucket-owner-full-control",
        }),
      );
      assertEquals(await objectOwner(root, "plain", "ann-bofc"), annId);
      assertEquals(await objectAcl(root, "plain", "ann-bofc"), [
        `${annId}:FULL_CONTROL`,
        "root:FULL_CONTROL",
      ]);
    });

    await t.step("BucketOwnerPreferred: bucket-owner-full-control hands over", async () => {
      await setOwnership(root, "plain", "BucketOwnerPreferred");
      assertEquals(await ownership(root, "plain"), "BucketOwnerPreferred");
      await ann!.send(
        new PutObjectCommand({
          Bucket: "plain",
          Key: "pref",
          Body: "a",
          ACL: "bucket-owner-full-control",
        }),
      );
      assertEquals(await objectOwner(root, "plain", "pref"), "root");
      assertEquals(await listedOwner(root, "plain", "pref"), "root");
      assertEquals(await objectAcl(root, "plain", "pref"), ["root:FULL_CONTROL"]);
      await ann!.send(new PutObjectCommand({ Bucket: "plain", Key: "pref2", Body: "a" }));
      assertEquals(await objectOwner(root, "plain", "pref2"), annId);
    });

    await t.step("BucketOwnerEnforced: ACLs off, the bucket owner owns all", async () => {
      await assertS3Error(
        () => setOwnership(root, "pub", "BucketOwnerEnforced"),
        "InvalidBucketAclWithObjectOwnership",
        400,
      );
      assertEquals(
        await ownership(root, "pub").catch((e) => e.name),
        "OwnershipControlsNotFoundError",
      );
      await setOwnership(root, "plain", "BucketOwnerEnforced");
      await ann!.send(new PutObjectCommand({ Bucket: "plain", Key: "enf", Body: "a" }));
      assertEquals(await listedOwner(root, "plain", "enf"), "root");
      // Objects written earlier by others read as the bucket owner's too.
      const acl = await root.send(new GetObjectAclCommand({ Bucket: "plain", Key: "ann" }));
      assertEquals([acl.Owner?.ID, grants(acl)], ["root", ["root:FULL_CONTROL"]]);
      assertEquals(await objectAcl(root, "plain", "pr"), ["root:FULL_CONTROL"]);
      await assertS3Error(
        () =>
          ann!.send(
            new PutObjectCommand({ Bucket: "plain", Key: "x", Body: "a", ACL: "public-read" }),
          ),
        "AccessControlListNotSupported",
        400,
      );
      await ann!.send(
        new PutObjectCommand({
          Bucket: "plain",
          Key: "ok",
          Body: "a",
          ACL: "bucket-owner-full-control",
        }),
      );
      await assertS3Error(
        () => root.send(new PutBucketAclCommand({ Bucket: "plain", ACL: "public-read" })),
        "AccessControlListNotSupported",
        400,
      );
      await assertS3Error(
        () =>
          root.send(
            new PutObjectAclCommand({ Bucket: "plain", Key: "ok", GrantRead: `id="root"` }),
          ),
        "AccessControlListNotSupported",
        400,
      );
      await root.send(new PutBucketAclCommand({ Bucket: "plain", ACL: "private" }));

      // Turning ACLs back on brings the stored object ACLs back.
      await root.send(new DeleteBucketOwnershipControlsCommand({ Bucket: "plain" }));
      await assertS3Error(() => ownership(root, "plain"), "OwnershipControlsNotFoundError", 404);
      assertEquals(await objectAcl(root, "plain", "pr"), ["AllUsers:READ", "root:FULL_CONTROL"]);
      await root.send(new PutBucketAclCommand({ Bucket: "plain", ACL: "public-read" }));
      assertEquals(await bucketAcl(root, "plain"), ["AllUsers:READ", "root:FULL_CONTROL"]);
    });

    await t.step("CreateBucket with x-amz-object-ownership", async () => {
      await root.send(
        new CreateBucketCommand({ Bucket: "enforced", ObjectOwnership: "BucketOwnerEnforced" }),
      );
      assertEquals(await ownership(root, "enforced"), "BucketOwnerEnforced");
      await assertS3Error(
        () =>
          root.send(
            new CreateBucketCommand({
              Bucket: "refused",
              ObjectOwnership: "BucketOwnerEnforced",
              ACL: "public-read",
            }),
          ),
        "InvalidBucketAclWithObjectOwnership",
        400,
      );
      await assertS3Error(
        () => root.send(new HeadBucketCommand({ Bucket: "refused" })),
        "NotFound",
      );
      const bad = await signedFetch(srv, {
        method: "PUT",
        path: "/refused",
        headers: { "x-amz-object-ownership": "Nobody" },
      });
      assertEquals([bad.status, await errorCode(bad)], [400, "InvalidArgument"]);
      const malformed = await signedFetch(srv, {
        method: "PUT",
        path: "/enforced",
        query: { ownershipControls: "" },
        body:
          "<OwnershipControls><Rule><ObjectOwnership>Mine</ObjectOwnership></Rule></OwnershipControls>",
      });
      assertEquals([malformed.status, await errorCode(malformed)], [400, "MalformedXML"]);
      assertEquals(await ownership(root, "enforced"), "BucketOwnerEnforced");
    });
  } finally {
    root.destroy();
    ann?.destroy();
    await iam.stop();
  }
});

Deno.test("--object-ownership BucketOwnerEnforced is what new buckets get", async () => {
  const srv = await startServer({ env: { MAXIOFS_OBJECT_OWNERSHIP: "BucketOwnerEnforced" } });
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "enf-default" }));
    assertEquals(await ownership(s3, "enf-default"), "BucketOwnerEnforced");
    await assertS3Error(
      () => s3.send(new PutBucketAclCommand({ Bucket: "enf-default", ACL: "public-read" })),
      "AccessControlListNotSupported",
      400,
    );
    await s3.send(new CreateBucketCommand({ Bucket: "writer", ObjectOwnership: "ObjectWriter" }));
    await s3.send(new PutBucketAclCommand({ Bucket: "writer", ACL: "public-read" }));
    assertEquals(await bucketAcl(s3, "writer"), ["AllUsers:READ", "root:FULL_CONTROL"]);
  } finally {
    s3.destroy();
    await srv.stop();
  }
});

/** A POST upload form signed with a V2 policy that allows these fields. */
function postForm(
  accessKey: string,
  secretKey: string,
  bucket: string,
  key: string,
  fields: Record<string, string>,
): FormData {
  const conditions = [
    { bucket },
    ["eq", "$key", key],
    ...Object.entries(fields).map(([k, v]) => ({ [k]: v })),
  ];
  const expiration = new Date(Date.now() + 600_000).toISOString();
  const policy = btoa(JSON.stringify({ expiration, conditions }));
  const form = new FormData();
  form.append("key", key);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("AWSAccessKeyId", accessKey);
  form.append("policy", policy);
  form.append("signature", createHmac("sha1", secretKey).update(policy).digest("base64"));
  form.append("file", new Blob(["posted"]), "f.txt");
  return form;
}
