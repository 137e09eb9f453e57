import { assertEquals } from "../../tests/_helpers/assert.ts";
import { evaluatePolicies, type PolicyDocument, policyProblem, wildcardMatch } from "./policy.ts";
import { clientIp, ipInCidr } from "./net.ts";

const facts = (action: string, resource: string, context: Record<string, string> = {}) => ({
  action,
  resource,
  context,
});

Deno.test("explicit Deny wins over Allow", () => {
  const docs: PolicyDocument[] = [
    { Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::b/*" }] },
    { Statement: { Effect: "Deny", Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/*" } },
  ];
  assertEquals(evaluatePolicies(docs, facts("s3:GetObject", "arn:aws:s3:::b/k")), "Allow");
  assertEquals(evaluatePolicies(docs, facts("s3:DeleteObject", "arn:aws:s3:::b/k")), "Deny");
  assertEquals(evaluatePolicies(docs, facts("s3:GetObject", "arn:aws:s3:::c/k")), "NoMatch");
});

Deno.test("conditions: SourceIp, prefix, SecureTransport", () => {
  const doc: PolicyDocument = {
    Statement: [{
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: "arn:aws:s3:::b",
      Condition: {
        IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"] },
        StringLike: { "s3:prefix": "home/alice/*" },
      },
    }, {
      Effect: "Deny",
      Action: "s3:*",
      Resource: "*",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    }],
  };
  const ok = {
    "aws:sourceip": "10.1.2.3",
    "s3:prefix": "home/alice/x",
    "aws:securetransport": "true",
  };
  assertEquals(evaluatePolicies([doc], facts("s3:ListBucket", "arn:aws:s3:::b", ok)), "Allow");
  assertEquals(
    evaluatePolicies(
      [doc],
      facts("s3:ListBucket", "arn:aws:s3:::b", { ...ok, "aws:sourceip": "11.0.0.1" }),
    ),
    "NoMatch",
  );
  assertEquals(
    evaluatePolicies(
      [doc],
      facts("s3:ListBucket", "arn:aws:s3:::b", { ...ok, "s3:prefix": "home/bob/" }),
    ),
    "NoMatch",
  );
  assertEquals(
    evaluatePolicies(
      [doc],
      facts("s3:ListBucket", "arn:aws:s3:::b", { ...ok, "aws:securetransport": "false" }),
    ),
    "Deny",
  );
  assertEquals(
    evaluatePolicies(
      [doc],
      facts("s3:ListBucket", "arn:aws:s3:::b", { ...ok, "aws:sourceip": "2001:db8::5" }),
    ),
    "Allow",
  );
});

Deno.test("validation names the problem", () => {
  assertEquals(policyProblem({ Statement: [] }), "Statement is required");
  assertEquals(
    policyProblem({ Statement: [{ Effect: "Maybe", Action: "s3:*", Resource: "*" }] }),
    "Statement[0].Effect must be Allow or Deny",
  );
  assertEquals(
    policyProblem({
      Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*", Condition: { Foo: {} } }],
    }),
    'Statement[0] condition operator "Foo"',
  );
  assertEquals(
    policyProblem({ Statement: { Effect: "Allow", Action: "s3:Get*", Resource: "*" } }),
    null,
  );
  // An address condition that could never match (or, for a bare "/", matched everyone).
  const ipCondition = (Condition: unknown) =>
    policyProblem({ Statement: [{ Effect: "Deny", Action: "s3:*", Resource: "*", Condition }] });
  assertEquals(
    ipCondition({ IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "10.0.0.0/"] } }),
    'Statement[0].Condition.IpAddress: "10.0.0.0/" is not an IP address or CIDR block',
  );
  assertEquals(
    ipCondition({ NotIpAddress: { "aws:SourceIp": "not-an-ip" } }),
    'Statement[0].Condition.NotIpAddress: "not-an-ip" is not an IP address or CIDR block',
  );
  assertEquals(ipCondition({ IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "::1"] } }), null);
});

Deno.test("wildcards and IPs", () => {
  assertEquals(wildcardMatch("arn:aws:s3:::b/a?c/*", "arn:aws:s3:::b/abc/d/e"), true);
  assertEquals(wildcardMatch("arn:aws:s3:::b/a.c", "arn:aws:s3:::b/abc"), false);
  assertEquals(ipInCidr("::ffff:192.168.1.9", "192.168.1.0/24"), true);
  assertEquals(ipInCidr("192.168.2.9", "192.168.1.0/24"), false);
  assertEquals(ipInCidr("::1", "::1"), true);
  assertEquals(clientIp("127.0.0.1", "1.2.3.4, 10.0.0.2", ["127.0.0.1", "10.0.0.0/8"]), "1.2.3.4");
  assertEquals(clientIp("9.9.9.9", "1.2.3.4", ["127.0.0.1"]), "9.9.9.9");
});
