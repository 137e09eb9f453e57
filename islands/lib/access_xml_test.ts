import { assertEquals } from "../../tests/_helpers/assert.ts";
import {
  type Acl,
  aclXml,
  ALL_USERS,
  granteeLabel,
  ownershipXml,
  parseAcl,
  parseOwnership,
  parsePublicAccessBlock,
  publicAccessBlockFromJson,
  publicAccessBlockJson,
  publicAccessBlockXml,
} from "./access_xml.ts";

// GetBucketAcl's response example in the AWS S3 API reference, with a group grant added.
const AWS_ACL = `<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy>
  <Owner>
    <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
    <DisplayName>CustomersName@amazon.com</DisplayName>
  </Owner>
  <AccessControlList>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">
        <URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>
      </Grantee>
      <Permission>READ</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">
        <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
        <DisplayName>CustomersName@amazon.com &amp; co</DisplayName>
      </Grantee>
      <Permission>FULL_CONTROL</Permission>
    </Grant>
  </AccessControlList>
</AccessControlPolicy>`;

Deno.test("ACL: AWS's document is read, written and read back the same", () => {
  const acl = parseAcl(AWS_ACL);
  const id = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
  assertEquals(acl, {
    owner: { id, displayName: "CustomersName@amazon.com" },
    grants: [
      { type: "Group", value: ALL_USERS, permission: "READ" },
      {
        type: "CanonicalUser",
        value: id,
        displayName: "CustomersName@amazon.com & co",
        permission: "FULL_CONTROL",
      },
    ],
  });
  // Grantees are sent by id alone (S3 ignores a display name in a request).
  const sent = parseAcl(aclXml(acl));
  assertEquals(sent.owner, acl.owner);
  assertEquals(sent.grants, acl.grants.map(({ displayName: _, ...g }) => g));
  assertEquals(granteeLabel(acl.grants[0]), "AllUsers");
});

Deno.test("ACL: email grantees and escaping", () => {
  const acl: Acl = {
    owner: { id: "u1" },
    grants: [{ type: "AmazonCustomerByEmail", value: "a<b@example.com", permission: "WRITE" }],
  };
  const xml = aclXml(acl);
  assertEquals(xml.includes("<EmailAddress>a&lt;b@example.com</EmailAddress>"), true);
  assertEquals(xml.includes('xsi:type="AmazonCustomerByEmail"'), true);
  assertEquals(parseAcl(xml), acl);
});

Deno.test("public access block and ownership documents", () => {
  const pab = {
    BlockPublicAcls: true,
    IgnorePublicAcls: false,
    BlockPublicPolicy: true,
    RestrictPublicBuckets: false,
  };
  assertEquals(parsePublicAccessBlock(publicAccessBlockXml(pab)), pab);
  // A flag S3 leaves out is false.
  assertEquals(
    parsePublicAccessBlock(
      "<PublicAccessBlockConfiguration><BlockPublicAcls>TRUE</BlockPublicAcls>" +
        "</PublicAccessBlockConfiguration>",
    ),
    { ...pab, BlockPublicPolicy: false },
  );
  assertEquals(parseOwnership(ownershipXml("BucketOwnerPreferred")), "BucketOwnerPreferred");
  assertEquals(parseOwnership("<OwnershipControls><Rule/></OwnershipControls>"), null);
});

Deno.test("tenant public access block in the console API's JSON", () => {
  const pab = {
    BlockPublicAcls: false,
    IgnorePublicAcls: true,
    BlockPublicPolicy: false,
    RestrictPublicBuckets: true,
  };
  const body = publicAccessBlockJson(pab);
  assertEquals(body, {
    blockPublicAcls: false,
    ignorePublicAcls: true,
    blockPublicPolicy: false,
    restrictPublicBuckets: true,
  });
  assertEquals(publicAccessBlockFromJson({ publicAccessBlock: body }), pab);
  // None set: every flag off. AWS's names in a bare object are read too.
  assertEquals(publicAccessBlockFromJson({ publicAccessBlock: null }), {
    ...pab,
    IgnorePublicAcls: false,
    RestrictPublicBuckets: false,
  });
  assertEquals(publicAccessBlockFromJson(pab), pab);
});
