import { assertEquals } from "../../tests/_helpers/assert.ts";
import { conditionHolds, parseConditions } from "./policy_conditions.ts";
import type { PolicyContext } from "./policy_pattern.ts";

/** Whether a Condition block holds for a context (every operator and key ANDed). */
function holds(block: Record<string, unknown>, ctx: PolicyContext, variables = true): boolean {
  return parseConditions(block, variables, true).every((c) => conditionHolds(c, ctx));
}

Deno.test("string operators: equals, ignore case, like, the negations, absent keys", () => {
  const ctx = { "s3:prefix": "Home/Alice/" };
  assertEquals(holds({ StringEquals: { "s3:prefix": ["x", "Home/Alice/"] } }, ctx), true);
  assertEquals(holds({ StringEquals: { "s3:prefix": "home/alice/" } }, ctx), false);
  assertEquals(holds({ StringEquals: { "s3:prefix": "Home/*" } }, ctx), false);
  assertEquals(holds({ StringEqualsIgnoreCase: { "s3:prefix": "HOME/alice/" } }, ctx), true);
  assertEquals(holds({ StringNotEqualsIgnoreCase: { "s3:prefix": "HOME/alice/" } }, ctx), false);
  assertEquals(holds({ StringNotEquals: { "s3:prefix": "other" } }, ctx), true);
  assertEquals(holds({ StringLike: { "s3:prefix": "Home/*/" } }, ctx), true);
  assertEquals(holds({ StringLike: { "s3:prefix": "Home/?lice/" } }, ctx), true);
  assertEquals(holds({ StringNotLike: { "s3:prefix": "Home/*" } }, ctx), false);
  // Keys are case-insensitive.
  assertEquals(holds({ StringEquals: { "S3:Prefix": "Home/Alice/" } }, ctx), true);
  // Absent key: positive operators fail, negated ones hold.
  assertEquals(holds({ StringEquals: { "s3:delimiter": "/" } }, ctx), false);
  assertEquals(holds({ StringNotEquals: { "s3:delimiter": "/" } }, ctx), true);
  assertEquals(holds({ StringNotLike: { "s3:delimiter": "/" } }, ctx), true);
});

Deno.test("IfExists: an absent key holds, a present one is tested", () => {
  assertEquals(holds({ StringEqualsIfExists: { "s3:x-amz-acl": "private" } }, {}), true);
  assertEquals(
    holds({ StringEqualsIfExists: { "s3:x-amz-acl": "private" } }, {
      "s3:x-amz-acl": "public-read",
    }),
    false,
  );
  assertEquals(holds({ NumericLessThanIfExists: { "s3:max-keys": "10" } }, {}), true);
  assertEquals(
    holds({ NumericLessThanIfExists: { "s3:max-keys": "10" } }, { "s3:max-keys": "50" }),
    false,
  );
});

Deno.test("numeric operators", () => {
  const ctx = { "s3:max-keys": "10" };
  const n = (op: string, v: unknown) => holds({ [op]: { "s3:max-keys": v } }, ctx);
  assertEquals(n("NumericEquals", 10), true);
  assertEquals(n("NumericEquals", "10.0"), true);
  assertEquals(n("NumericNotEquals", "10"), false);
  assertEquals(n("NumericLessThan", "11"), true);
  assertEquals(n("NumericLessThan", "10"), false);
  assertEquals(n("NumericLessThanEquals", "10"), true);
  assertEquals(n("NumericGreaterThan", "9"), true);
  assertEquals(n("NumericGreaterThanEquals", "11"), false);
  // A request value that is no number matches nothing.
  assertEquals(
    holds({ NumericLessThan: { "s3:max-keys": "11" } }, { "s3:max-keys": "ten" }),
    false,
  );
});

Deno.test("date operators: ISO 8601 and epoch seconds", () => {
  const ctx = { "aws:currenttime": "2026-06-01T12:00:00Z", "aws:epochtime": "1780315200" };
  assertEquals(holds({ DateLessThan: { "aws:CurrentTime": "2026-07-01T00:00:00Z" } }, ctx), true);
  assertEquals(holds({ DateGreaterThan: { "aws:CurrentTime": "2026-07-01" } }, ctx), false);
  assertEquals(holds({ DateEquals: { "aws:CurrentTime": "1780315200" } }, ctx), true);
  assertEquals(holds({ DateNotEquals: { "aws:CurrentTime": "1780315200" } }, ctx), false);
  assertEquals(
    holds({ DateLessThanEquals: { "aws:EpochTime": "2026-06-01T12:00:00Z" } }, ctx),
    true,
  );
  assertEquals(holds({ DateGreaterThanEquals: { "aws:EpochTime": "1780315201" } }, ctx), false);
});

Deno.test("Bool, BinaryEquals and Null", () => {
  assertEquals(
    holds({ Bool: { "aws:SecureTransport": false } }, { "aws:securetransport": "false" }),
    true,
  );
  assertEquals(
    holds({ Bool: { "aws:SecureTransport": "true" } }, { "aws:securetransport": "false" }),
    false,
  );
  assertEquals(holds({ Bool: { "aws:SecureTransport": "true" } }, {}), false);
  assertEquals(holds({ BinaryEquals: { "aws:x": "QmluYXJ5" } }, { "aws:x": "QmluYXJ5" }), true);
  assertEquals(holds({ BinaryEquals: { "aws:x": "QmluYXJ5" } }, { "aws:x": "qmluyxj5" }), false);
  assertEquals(holds({ Null: { "s3:x-amz-server-side-encryption": "true" } }, {}), true);
  assertEquals(
    holds({ Null: { "s3:x-amz-server-side-encryption": "true" } }, {
      "s3:x-amz-server-side-encryption": "AES256",
    }),
    false,
  );
  assertEquals(
    holds({ Null: { "s3:x-amz-server-side-encryption": false } }, {
      "s3:x-amz-server-side-encryption": "AES256",
    }),
    true,
  );
});

Deno.test("IpAddress and NotIpAddress over IPv4 and IPv6", () => {
  const c = { IpAddress: { "aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"] } };
  assertEquals(holds(c, { "aws:sourceip": "192.0.2.77" }), true);
  assertEquals(holds(c, { "aws:sourceip": "::ffff:192.0.2.77" }), true);
  assertEquals(holds(c, { "aws:sourceip": "2001:db8:1::9" }), true);
  assertEquals(holds(c, { "aws:sourceip": "192.0.3.1" }), false);
  assertEquals(holds(c, { "aws:sourceip": "2001:db9::1" }), false);
  assertEquals(holds(c, {}), false);
  const not = { NotIpAddress: { "aws:SourceIp": "192.0.2.188/32" } };
  assertEquals(holds(not, { "aws:sourceip": "192.0.2.188" }), false);
  assertEquals(holds(not, { "aws:sourceip": "192.0.2.1" }), true);
  assertEquals(holds({ ...c, ...not }, { "aws:sourceip": "192.0.2.188" }), false);
});

Deno.test("ARN operators take wildcards", () => {
  const ctx = { "aws:principalarn": "arn:aws:iam::acme:user/alice" };
  assertEquals(holds({ ArnLike: { "aws:PrincipalArn": "arn:aws:iam::acme:user/*" } }, ctx), true);
  assertEquals(
    holds({ ArnEquals: { "aws:PrincipalArn": "arn:aws:iam::*:user/alice" } }, ctx),
    true,
  );
  assertEquals(holds({ ArnNotLike: { "aws:PrincipalArn": "arn:aws:iam::acme:*" } }, ctx), false);
  assertEquals(
    holds({ ArnNotEquals: { "aws:PrincipalArn": "arn:aws:iam::other:user/alice" } }, ctx),
    true,
  );
});

Deno.test("ForAnyValue and ForAllValues over multi-valued keys", () => {
  const keys = { "s3:requestobjecttagkeys": ["team", "cost"] };
  const anyOf = (v: string[]) =>
    holds({ "ForAnyValue:StringEquals": { "s3:RequestObjectTagKeys": v } }, keys);
  const allOf = (v: string[]) =>
    holds({ "ForAllValues:StringEquals": { "s3:RequestObjectTagKeys": v } }, keys);
  assertEquals(anyOf(["team"]), true);
  assertEquals(anyOf(["owner"]), false);
  assertEquals(allOf(["team", "cost", "owner"]), true);
  assertEquals(allOf(["team"]), false);
  // Absent key: ForAllValues holds (nothing to test), ForAnyValue does not.
  assertEquals(
    holds({ "ForAllValues:StringEquals": { "s3:RequestObjectTagKeys": ["a"] } }, {}),
    true,
  );
  assertEquals(
    holds({ "ForAnyValue:StringEquals": { "s3:RequestObjectTagKeys": ["a"] } }, {}),
    false,
  );
  assertEquals(
    holds({ "ForAnyValue:StringNotLike": { "s3:RequestObjectTagKeys": ["t*"] } }, keys),
    true,
  );
  assertEquals(
    holds({ "ForAllValues:StringLike": { "s3:RequestObjectTagKeys": ["t*", "c*"] } }, keys),
    true,
  );
});

Deno.test("policy variables in condition values", () => {
  const c = { StringEquals: { "s3:prefix": "home/${aws:username}/" } };
  assertEquals(holds(c, { "s3:prefix": "home/alice/", "aws:username": "alice" }), true);
  assertEquals(holds(c, { "s3:prefix": "home/bob/", "aws:username": "alice" }), false);
  assertEquals(holds(c, { "s3:prefix": "home/${aws:username}/" }, false), true);
});
