import { assert, assertEquals } from "../../tests/_helpers/assert.ts";
import { S3Error } from "../s3/errors.ts";
import { parseXml } from "../s3/xml.ts";
import {
  aclDocument,
  aclFromSpec,
  aclPermits,
  aclSpecFrom,
  ALL_USERS,
  AUTHENTICATED_USERS,
  cannedAcl,
  type GranteeLookup,
  isPrivateAcl,
  isPublicAcl,
  LOG_DELIVERY,
  parseAclDocument,
  type StoredAcl,
} from "./acl.ts";

const alice = { id: "u-alice", displayName: "alice" };
const bob = { id: "u-bob", displayName: "bob" };
const carol = { id: "u-carol", displayName: "carol" };
const lookup: GranteeLookup = {
  userById: (id) => [alice, bob, carol].find((u) => u.id === id) ?? null,
  usersByEmail: (email) => {
    const e = email.toLowerCase();
    if (e === "bob@example.com") return [bob];
    if (e === "shared@example.com") return [alice, carol];
    return [];
  },
};

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
  return "no error";
}

const summary = (acl: StoredAcl) =>
  acl.grants.map((g) =>
    `${g.grantee.type === "Group" ? g.grantee.uri.split("/").pop() : g.grantee.id}:${g.permission}`
  );

Deno.test("canned ACLs expand as the S3 user guide's table says, group grants first", () => {
  const opts = { bucketOwner: bob, forBucket: false };
  const expand = (c: Parameters<typeof cannedAcl>[0], forBucket = false) =>
    summary(cannedAcl(c, alice, { ...opts, forBucket }));
  assertEquals(expand("private"), ["u-alice:FULL_CONTROL"]);
  assertEquals(expand("public-read"), ["AllUsers:READ", "u-alice:FULL_CONTROL"]);
  assertEquals(expand("public-read-write"), [
    "AllUsers:READ",
    "AllUsers:WRITE",
    "u-alice:FULL_CONTROL",
  ]);
  assertEquals(expand("authenticated-read"), ["AuthenticatedUsers:READ", "u-alice:FULL_CONTROL"]);
  assertEquals(expand("aws-exec-read"), ["u-alice:FULL_CONTROL"]);
  assertEquals(expand("bucket-owner-read"), ["u-alice:FULL_CONTROL", "u-bob:READ"]);
  assertEquals(expand("bucket-owner-full-control"), ["u-alice:FULL_CONTROL", "u-bob:FULL_CONTROL"]);
  assertEquals(expand("log-delivery-write"), [
    "LogDelivery:WRITE",
    "LogDelivery:READ_ACP",
    "u-alice:FULL_CONTROL",
  ]);
  // On a bucket the bucket-owner ACLs are ignored.
  assertEquals(expand("bucket-owner-read", true), ["u-alice:FULL_CONTROL"]);
  assertEquals(expand("bucket-owner-full-control", true), ["u-alice:FULL_CONTROL"]);
  // The bucket owner writing bucket-owner-full-control gets one grant, not two.
  assertEquals(
    summary(cannedAcl("bucket-owner-full-control", bob, opts)),
    ["u-bob:FULL_CONTROL"],
  );
});

Deno.test("x-amz-acl and x-amz-grant-* headers", () => {
  const spec = (h: Record<string, string>) => aclSpecFrom(new Headers(h), lookup);
  assertEquals(spec({}), { kind: "none" });
  assertEquals(spec({ "x-amz-acl": "public-read" }), { kind: "canned", canned: "public-read" });
  assertEquals(code(() => spec({ "x-amz-acl": "public" })), "InvalidArgument");
  assertEquals(
    code(() => spec({ "x-amz-acl": "private", "x-amz-grant-read": `id="u-bob"` })),
    "InvalidRequest",
  );
  const s = spec({
    "x-amz-grant-read": `id="u-bob", uri="${ALL_USERS}"`,
    "x-amz-grant-write": `uri=${LOG_DELIVERY}`,
    "x-amz-grant-full-control": `emailAddress="Bob@Example.com",id=u-carol`,
  });
  // Exactly the grants named: the owner gets nothing implicitly.
  assertEquals(summary(aclFromSpec(s, alice, { bucketOwner: alice, forBucket: true })), [
    "u-bob:READ",
    "AllUsers:READ",
    "LogDelivery:WRITE",
    "u-bob:FULL_CONTROL",
    "u-carol:FULL_CONTROL",
  ]);
  assertEquals(code(() => spec({ "x-amz-grant-read": `id="nobody"` })), "InvalidArgument");
  assertEquals(
    code(() => spec({ "x-amz-grant-read": `emailAddress="x@example.com"` })),
    "UnresolvableGrantByEmailAddress",
  );
  assertEquals(
    code(() => spec({ "x-amz-grant-read": `emailAddress="shared@example.com"` })),
    "AmbiguousGrantByEmailAddress",
  );
  assertEquals(
    code(() => spec({ "x-amz-grant-read": `uri="http://acs.amazonaws.com/groups/x"` })),
    "InvalidArgument",
  );
  for (const bad of ["u-bob", `id=`, `id="u-bob" uri="x"`, `name="u-bob"`, " "]) {
    assertEquals(code(() => spec({ "x-amz-grant-read": bad })), "InvalidArgument", bad);
  }
});

function doc(grants: string, owner = `<Owner><ID>u-alice</ID></Owner>`): string {
  return `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${owner}` +
    `<AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
}
const XSI = `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`;
const grant = (type: string, inner: string, perm: string) =>
  `<Grant><Grantee ${XSI} xsi:type="${type}">${inner}</Grantee><Permission>${perm}</Permission></Grant>`;

Deno.test("AccessControlPolicy documents round-trip in AWS's form", () => {
  const acl = cannedAcl("public-read", alice, { bucketOwner: alice, forBucket: true });
  const xml = aclDocument(acl);
  assertEquals(
    xml,
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Owner><ID>u-alice</ID><DisplayName>alice</DisplayName></Owner><AccessControlList>` +
      grant("Group", `<URI>${ALL_USERS}</URI>`, "READ") +
      grant("CanonicalUser", `<ID>u-alice</ID><DisplayName>alice</DisplayName>`, "FULL_CONTROL") +
      `</AccessControlList></AccessControlPolicy>`,
  );
  assertEquals(parseAclDocument(parseXml(xml), alice, lookup), acl);

  const parsed = parseAclDocument(
    parseXml(doc(
      grant("AmazonCustomerByEmail", `<EmailAddress>bob@example.com</EmailAddress>`, "WRITE_ACP") +
        grant("Group", `<URI>${AUTHENTICATED_USERS}</URI>`, "READ_ACP"),
    )),
    alice,
    lookup,
  );
  // Email grantees are stored (and answered) as the user they name.
  assertEquals(summary(parsed), ["u-bob:WRITE_ACP", "AuthenticatedUsers:READ_ACP"]);
  assertEquals(parsed.grants[0].grantee, {
    type: "CanonicalUser",
    id: "u-bob",
    displayName: "bob",
  });
});

Deno.test("AccessControlPolicy errors", () => {
  const parse = (xml: string) => () => parseAclDocument(parseXml(xml), alice, lookup);
  const user = (id: string) => grant("CanonicalUser", `<ID>${id}</ID>`, "READ");
  assertEquals(code(parse(doc(user("u-bob")))), "no error");
  assertEquals(code(parse(doc(user("nobody")))), "InvalidArgument");
  assertEquals(code(parse(doc(user("u-bob"), `<Owner><ID>u-bob</ID></Owner>`))), "AccessDenied");
  assertEquals(code(parse(doc(user("u-bob"), ""))), "no error");
  assertEquals(code(parse(`<AccessControlPolicy></AccessControlPolicy>`)), "MalformedACLError");
  assertEquals(
    code(parse(doc(grant("CanonicalUser", "<ID>u-bob</ID>", "ALL")))),
    "MalformedACLError",
  );
  assertEquals(code(parse(doc(grant("Nobody", "<ID>u-bob</ID>", "READ")))), "MalformedACLError");
  assertEquals(code(parse(doc(grant("Group", "", "READ")))), "MalformedACLError");
  assertEquals(code(parse(doc(grant("Group", "<URI>urn:x</URI>", "READ")))), "InvalidArgument");
  assertEquals(
    code(parse(doc(grant("AmazonCustomerByEmail", "<EmailAddress>n@x</EmailAddress>", "READ")))),
    "UnresolvableGrantByEmailAddress",
  );
  assertEquals(
    code(parse(doc(`<Grant><Permission>READ</Permission></Grant>`))),
    "MalformedACLError",
  );
  assertEquals(code(parse(doc(user("u-bob").repeat(101)))), "MalformedACLError");
});

Deno.test("aclPermits: users, groups, FULL_CONTROL implies every permission", () => {
  const acl: StoredAcl = {
    owner: alice,
    grants: [
      { grantee: { type: "CanonicalUser", ...alice }, permission: "FULL_CONTROL" },
      { grantee: { type: "CanonicalUser", ...bob }, permission: "READ_ACP" },
      { grantee: { type: "Group", uri: AUTHENTICATED_USERS }, permission: "READ" },
      { grantee: { type: "Group", uri: LOG_DELIVERY }, permission: "WRITE" },
    ],
  };
  const signed = (id: string) => ({ canonicalId: id, authenticated: true });
  const anonymous = { canonicalId: null, authenticated: false };
  for (const p of ["READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"] as const) {
    assert(aclPermits(acl, signed("u-alice"), p), p);
  }
  assert(aclPermits(acl, signed("u-bob"), "READ_ACP"));
  assert(aclPermits(acl, signed("u-bob"), "READ"), "bob is an authenticated user");
  assert(!aclPermits(acl, signed("u-bob"), "WRITE_ACP"));
  assert(!aclPermits(acl, signed("u-carol"), "WRITE"), "LogDelivery is no caller");
  assert(!aclPermits(acl, anonymous, "READ"));
  const open = cannedAcl("public-read", alice, { bucketOwner: alice, forBucket: true });
  assert(aclPermits(open, anonymous, "READ"));
  assert(!aclPermits(open, anonymous, "WRITE"));
});

Deno.test("isPublicAcl and isPrivateAcl", () => {
  const opts = { bucketOwner: bob, forBucket: false };
  assert(isPublicAcl(cannedAcl("public-read", alice, opts)));
  assert(isPublicAcl(cannedAcl("authenticated-read", alice, opts)));
  assert(!isPublicAcl(cannedAcl("log-delivery-write", alice, opts)));
  assert(!isPublicAcl(cannedAcl("bucket-owner-full-control", alice, opts)));
  assert(isPrivateAcl(cannedAcl("private", alice, opts)));
  assert(!isPrivateAcl(cannedAcl("bucket-owner-read", alice, opts)));
  assert(!isPrivateAcl({ owner: alice, grants: [] }));
});
