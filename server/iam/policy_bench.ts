/**
 * Cost of evaluating a realistic 20-statement bucket policy (mixed principals, wildcards,
 * conditions including IpAddress and StringLike) against one request: the target is well under
 * 20 µs per evaluation. Run: `deno bench server/iam/policy_bench.ts`.
 */
import { evaluatePolicy, parsePolicy, type PolicyRequest } from "./policy.ts";

const statements: unknown[] = [];
for (let i = 0; i < 4; i++) {
  statements.push(
    {
      Sid: `TeamRead${i}`,
      Effect: "Allow",
      Principal: { AWS: [`arn:aws:iam::acme:user/reader${i}`, `team${i}`] },
      Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
      Resource: `arn:aws:s3:::data/team${i}/*`,
    },
    {
      Sid: `TeamWrite${i}`,
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::acme:user/writer${i}` },
      Action: ["s3:PutObject*", "s3:DeleteObject"],
      Resource: [`arn:aws:s3:::data/team${i}/*`, `arn:aws:s3:::data/shared/${i}/*`],
      Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control" } },
    },
    {
      Sid: `OfficeList${i}`,
      Effect: "Allow",
      Principal: "*",
      Action: "s3:ListBucket",
      Resource: "arn:aws:s3:::data",
      Condition: {
        IpAddress: { "aws:SourceIp": [`10.${i}.0.0/16`, "2001:db8::/32"] },
        StringLike: { "s3:prefix": [`team${i}/*`, "public/*"] },
      },
    },
    {
      Sid: `Home${i}`,
      Effect: "Allow",
      Principal: { CanonicalUser: `u-home-${i}` },
      Action: "s3:*",
      Resource: "arn:aws:s3:::data/home/${aws:username}/*",
    },
    {
      Sid: `DenyInsecure${i}`,
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: `arn:aws:s3:::data/secret${i}/*`,
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
  );
}
const policy = parsePolicy(
  JSON.stringify({ Version: "2012-10-17", Statement: statements }),
  { kind: "bucket", bucket: "data", account: "acme" },
);

const req: PolicyRequest = {
  action: "s3:GetObject",
  resource: "arn:aws:s3:::data/public/reports/2026/q1.csv",
  principal: {
    arn: "arn:aws:iam::acme:user/carol",
    account: "acme",
    canonicalId: "u-carol",
    username: "carol",
    userId: "u-carol",
  },
  context: {
    "aws:sourceip": "10.3.7.9",
    "aws:securetransport": "true",
    "aws:username": "carol",
    "aws:userid": "u-carol",
    "s3:prefix": undefined,
  },
};
const listReq: PolicyRequest = {
  ...req,
  action: "s3:ListBucket",
  resource: "arn:aws:s3:::data",
  context: { ...req.context, "s3:prefix": "team3/reports/" },
};

if (evaluatePolicy([policy], listReq).decision !== "Allow") throw new Error("bench policy broken");

Deno.bench("bucket policy, 20 statements: GetObject that matches nothing", () => {
  evaluatePolicy([policy], req);
});

Deno.bench("bucket policy, 20 statements: ListBucket allowed by IpAddress + StringLike", () => {
  evaluatePolicy([policy], listReq);
});
