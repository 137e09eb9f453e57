import { assertEquals } from "../../tests/_helpers/assert.ts";
import { isPublicPolicy, parsePolicy } from "./policy.ts";

const opts = { kind: "bucket" as const, bucket: "b", account: "" };
const read = { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" };

function isPublic(statement: Record<string, unknown>): boolean {
  return isPublicPolicy(
    parsePolicy({ Version: "2012-10-17", Statement: [statement] }, opts),
  );
}

Deno.test("everyone without a fixing condition is public", () => {
  assertEquals(isPublic({ ...read, Principal: "*" }), true);
  assertEquals(isPublic({ ...read, Principal: { AWS: "*" } }), true);
  assertEquals(isPublic({ ...read, Principal: { AWS: ["acme", "*"] } }), true);
  assertEquals(isPublic({ ...read, NotPrincipal: { AWS: "acme" } }), true);
  // Conditions on keys that do not pin the caller leave it public.
  assertEquals(
    isPublic({ ...read, Principal: "*", Condition: { Bool: { "aws:SecureTransport": "true" } } }),
    true,
  );
});

Deno.test("fixed principals and Deny statements are not public", () => {
  assertEquals(isPublic({ ...read, Principal: { AWS: "acme" } }), false);
  assertEquals(isPublic({ ...read, Principal: { CanonicalUser: "u1" } }), false);
  assertEquals(isPublic({ ...read, Effect: "Deny", Principal: "*" }), false);
});

Deno.test("aws:SourceIp limited to CIDR blocks is not public; a wide block is", () => {
  const ip = (v: unknown, op = "IpAddress") => ({
    ...read,
    Principal: "*",
    Condition: { [op]: { "aws:SourceIp": v } },
  });
  assertEquals(isPublic(ip("192.0.2.0/24")), false);
  assertEquals(isPublic(ip(["192.0.2.0/24", "2001:db8::/32"])), false);
  assertEquals(isPublic(ip("0.0.0.0/0")), true);
  assertEquals(isPublic(ip(["192.0.2.0/24", "::/0"])), true);
  assertEquals(isPublic(ip("10.0.0.0/7")), true);
  assertEquals(isPublic(ip("192.0.2.0/24", "NotIpAddress")), true);
  assertEquals(isPublic(ip("192.0.2.0/24", "IpAddressIfExists")), true);
});

Deno.test("fixed values of the listed keys are not public; wildcards and variables are", () => {
  const cond = (Condition: unknown) => ({ ...read, Principal: "*", Condition });
  for (
    const key of [
      "aws:SourceArn",
      "aws:SourceVpc",
      "aws:SourceVpce",
      "aws:SourceAccount",
      "aws:SourceOwner",
      "aws:PrincipalAccount",
      "aws:PrincipalOrgID",
      "s3:DataAccessPointArn",
      "s3:x-amz-server-side-encryption-aws-kms-key-id",
    ]
  ) {
    assertEquals(isPublic(cond({ StringEquals: { [key]: "fixed-value" } })), false, key);
  }
  assertEquals(isPublic(cond({ StringEquals: { "aws:userid": "AIDAEXAMPLE" } })), false);
  assertEquals(isPublic(cond({ StringLike: { "aws:userid": "AROLEID:*" } })), true);
  assertEquals(isPublic(cond({ ArnLike: { "aws:SourceArn": "arn:aws:sns:*" } })), true);
  assertEquals(isPublic(cond({ StringEquals: { "aws:SourceAccount": "${aws:username}" } })), true);
  assertEquals(isPublic(cond({ StringNotEquals: { "aws:SourceAccount": "acme" } })), true);
  assertEquals(isPublic(cond({ StringEqualsIfExists: { "aws:SourceAccount": "acme" } })), true);
  assertEquals(
    isPublic(cond({ "ForAllValues:StringEquals": { "aws:SourceAccount": "acme" } })),
    true,
  );
  assertEquals(isPublic(cond({ StringEquals: { "s3:prefix": "fixed" } })), true);
});

Deno.test("one public statement makes the policy public", () => {
  const p = parsePolicy({
    Version: "2012-10-17",
    Statement: [
      { ...read, Sid: "a", Principal: { AWS: "acme" } },
      { ...read, Sid: "b", Principal: "*" },
    ],
  }, opts);
  assertEquals(isPublicPolicy(p), true);
});
