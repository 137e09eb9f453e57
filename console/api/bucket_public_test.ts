import { assertEquals } from "../../tests/_helpers/assert.ts";
import { aclIsPublic, policyStatusIsPublic } from "./bucket_public.ts";

Deno.test("policy status: IsPublic true only", () => {
  assertEquals(
    policyStatusIsPublic("<PolicyStatus><IsPublic>true</IsPublic></PolicyStatus>"),
    true,
  );
  assertEquals(
    policyStatusIsPublic("<PolicyStatus><IsPublic>false</IsPublic></PolicyStatus>"),
    false,
  );
  assertEquals(policyStatusIsPublic("<Error><Code>NoSuchBucketPolicy</Code></Error>"), false);
});

Deno.test("ACL: grants to AllUsers or AuthenticatedUsers are public, others not", () => {
  const acl = (grantee: string) =>
    `<AccessControlPolicy><Owner><ID>u1</ID></Owner><AccessControlList><Grant>${grantee}` +
    `<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>`;
  const group = (g: string) =>
    `<Grantee xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/${g}</URI></Grantee>`;
  assertEquals(aclIsPublic(acl(group("AllUsers"))), true);
  assertEquals(aclIsPublic(acl(group("AuthenticatedUsers"))), true);
  assertEquals(
    aclIsPublic(acl(group("").replace("global/", "s3/LogDelivery"))),
    false,
  );
  assertEquals(aclIsPublic(acl(`<Grantee xsi:type="CanonicalUser"><ID>u2</ID></Grantee>`)), false);
});
