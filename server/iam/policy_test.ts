import { assertEquals } from "../../tests/_helpers/assert.ts";
import {
  evaluatePolicy,
  type ParsedPolicy,
  parsePolicy,
  PolicyError,
  type PolicyPrincipal,
  type PolicyRequest,
  resourceArn,
} from "./policy.ts";
import { clientIp, ipInCidr } from "./net.ts";

const bucketOpts = { kind: "bucket" as const, bucket: "b", account: "acme" };

function bucketPolicy(statements: unknown[], version = "2012-10-17"): ParsedPolicy {
  return parsePolicy(JSON.stringify({ Version: version, Statement: statements }), bucketOpts);
}

function identity(statements: unknown): ParsedPolicy {
  return parsePolicy({ Version: "2012-10-17", Statement: statements }, { kind: "identity" });
}

const alice: PolicyPrincipal = {
  arn: "arn:aws:iam::acme:user/alice",
  account: "acme",
  canonicalId: "u-alice",
  username: "alice",
  userId: "u-alice",
};
const bob: PolicyPrincipal = {
  arn: "arn:aws:iam::other:user/bob",
  account: "other",
  canonicalId: "u-bob",
  username: "bob",
  userId: "u-bob",
};

function req(
  action: string,
  resource: string,
  principal: PolicyPrincipal | null = alice,
  context: PolicyRequest["context"] = {},
): PolicyRequest {
  return { action, resource, principal, context };
}

/** The MalformedPolicy message a document gets, or "ok". */
function fault(doc: unknown, opts: Parameters<typeof parsePolicy>[1] = bucketOpts): string {
  try {
    parsePolicy(typeof doc === "string" ? doc : JSON.stringify(doc), opts);
    return "ok";
  } catch (e) {
    if (e instanceof PolicyError) return e.message;
    throw e;
  }
}

const allowGet = {
  Effect: "Allow",
  Principal: "*",
  Action: "s3:GetObject",
  Resource: "arn:aws:s3:::b/*",
};

Deno.test("an explicit Deny wins and reports its statement; else the first Allow", () => {
  const docs = [
    identity([{ Sid: "all", Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::b/*" }]),
    identity({
      Sid: "nodel",
      Effect: "Deny",
      Action: "s3:DeleteObject",
      Resource: "arn:aws:s3:::b/*",
    }),
  ];
  assertEquals(evaluatePolicy(docs, req("s3:GetObject", "arn:aws:s3:::b/k")), {
    decision: "Allow",
    statement: { policy: 0, index: 0, sid: "all" },
  });
  assertEquals(evaluatePolicy(docs, req("s3:DeleteObject", "arn:aws:s3:::b/k")), {
    decision: "Deny",
    statement: { policy: 1, index: 0, sid: "nodel" },
  });
  assertEquals(evaluatePolicy(docs, req("s3:GetObject", "arn:aws:s3:::c/k")), {
    decision: "NoMatch",
  });
});

Deno.test("actions are case-insensitive and take wildcards", () => {
  const p = identity([{ Effect: "Allow", Action: ["S3:get*", "s3:List?ucket"], Resource: "*" }]);
  assertEquals(
    evaluatePolicy([p], req("s3:GetObjectTagging", "arn:aws:s3:::x/y")).decision,
    "Allow",
  );
  assertEquals(evaluatePolicy([p], req("s3:ListBucket", "arn:aws:s3:::x")).decision, "Allow");
  assertEquals(evaluatePolicy([p], req("s3:PutObject", "arn:aws:s3:::x/y")).decision, "NoMatch");
});

Deno.test("resource wildcards: * spans slashes, ? is one character, case-sensitive", () => {
  const p = bucketPolicy([{ ...allowGet, Resource: "arn:aws:s3:::b/a?c/*" }]);
  const at = (r: string) => evaluatePolicy([p], req("s3:GetObject", r)).decision;
  assertEquals(at("arn:aws:s3:::b/abc/d/e"), "Allow");
  assertEquals(at("arn:aws:s3:::b/a€c/d"), "Allow");
  assertEquals(at("arn:aws:s3:::b/ABC/d"), "NoMatch");
  assertEquals(at("arn:aws:s3:::b/ac/d"), "NoMatch");
  assertEquals(at("arn:aws:s3:::b/abc"), "NoMatch");
});

Deno.test("principals: *, AWS *, accounts, account roots, user ARNs, canonical ids", () => {
  const with_ = (Principal: unknown) => bucketPolicy([{ ...allowGet, Principal }]);
  const get = (p: ParsedPolicy, who: PolicyPrincipal | null) =>
    evaluatePolicy([p], req("s3:GetObject", "arn:aws:s3:::b/k", who)).decision;
  for (const everyone of ["*", { AWS: "*" }, { AWS: ["*"] }]) {
    assertEquals(get(with_(everyone), null), "Allow");
    assertEquals(get(with_(everyone), bob), "Allow");
  }
  assertEquals(get(with_({ AWS: "other" }), bob), "Allow");
  assertEquals(get(with_({ AWS: "other" }), alice), "NoMatch");
  assertEquals(get(with_({ AWS: "other" }), null), "NoMatch");
  assertEquals(get(with_({ AWS: "arn:aws:iam::acme:root" }), alice), "Allow");
  assertEquals(get(with_({ AWS: "arn:aws:iam::acme:root" }), bob), "NoMatch");
  assertEquals(get(with_({ AWS: ["arn:aws:iam::other:user/bob"] }), bob), "Allow");
  assertEquals(get(with_({ AWS: ["arn:aws:iam::other:user/bob"] }), alice), "NoMatch");
  assertEquals(get(with_({ CanonicalUser: "u-alice" }), alice), "Allow");
  assertEquals(get(with_({ CanonicalUser: "u-alice" }), bob), "NoMatch");
  const global = { ...alice, arn: "arn:aws:iam:::user/g", account: "" };
  assertEquals(get(with_({ AWS: "arn:aws:iam:::root" }), global), "Allow");
  assertEquals(get(with_({ AWS: "arn:aws:iam:::root" }), alice), "NoMatch");
});

Deno.test("NotPrincipal, NotAction and NotResource", () => {
  const p = bucketPolicy([
    { ...allowGet, Principal: "*" },
    {
      Sid: "onlyAlice",
      Effect: "Deny",
      NotPrincipal: { AWS: "arn:aws:iam::acme:user/alice" },
      NotAction: ["s3:GetObject"],
      NotResource: "arn:aws:s3:::b/public/*",
    },
  ]);
  const d = (action: string, key: string, who: PolicyPrincipal | null) =>
    evaluatePolicy([p], req(action, `arn:aws:s3:::b/${key}`, who)).decision;
  assertEquals(d("s3:PutObject", "private/x", bob), "Deny");
  assertEquals(d("s3:PutObject", "private/x", null), "Deny");
  assertEquals(d("s3:PutObject", "private/x", alice), "NoMatch");
  assertEquals(d("s3:PutObject", "public/x", bob), "NoMatch");
  assertEquals(d("s3:GetObject", "private/x", bob), "Allow");
});

Deno.test("policy variables in resources and conditions (2012-10-17 only)", () => {
  const p = bucketPolicy([{
    Effect: "Allow",
    Principal: { AWS: "acme" },
    Action: ["s3:PutObject", "s3:ListBucket"],
    Resource: ["arn:aws:s3:::b/home/${aws:username}/*", "arn:aws:s3:::b"],
    Condition: { StringLikeIfExists: { "s3:prefix": "home/${aws:username}/${*}*" } },
  }]);
  const ctx = { "aws:username": "alice", "aws:userid": "u-alice" };
  const d = (action: string, r: string, context: PolicyRequest["context"]) =>
    evaluatePolicy([p], req(action, r, alice, context)).decision;
  assertEquals(d("s3:PutObject", "arn:aws:s3:::b/home/alice/f", ctx), "Allow");
  assertEquals(d("s3:PutObject", "arn:aws:s3:::b/home/bob/f", ctx), "NoMatch");
  // A missing variable matches nothing.
  assertEquals(d("s3:PutObject", "arn:aws:s3:::b/home/alice/f", {}), "NoMatch");
  // ${*} is a literal star, not a wildcard.
  assertEquals(
    d("s3:ListBucket", "arn:aws:s3:::b", { ...ctx, "s3:prefix": "home/alice/*x" }),
    "Allow",
  );
  assertEquals(
    d("s3:ListBucket", "arn:aws:s3:::b", { ...ctx, "s3:prefix": "home/alice/x" }),
    "NoMatch",
  );
  // A user named "*" gets no wildcard out of the variable.
  assertEquals(
    d("s3:PutObject", "arn:aws:s3:::b/home/bob/f", { "aws:username": "*" }),
    "NoMatch",
  );
  const dollar = bucketPolicy([{ ...allowGet, Resource: "arn:aws:s3:::b/${$}{x}${?}" }]);
  assertEquals(
    evaluatePolicy([dollar], req("s3:GetObject", "arn:aws:s3:::b/${x}?", alice)).decision,
    "Allow",
  );
  assertEquals(
    evaluatePolicy([dollar], req("s3:GetObject", "arn:aws:s3:::b/${x}a", alice)).decision,
    "NoMatch",
  );
  // Version 2008-10-17: `${...}` is text.
  const old = bucketPolicy(
    [{ ...allowGet, Resource: "arn:aws:s3:::b/${aws:username}" }],
    "2008-10-17",
  );
  assertEquals(
    evaluatePolicy([old], req("s3:GetObject", "arn:aws:s3:::b/${aws:username}", alice, ctx))
      .decision,
    "Allow",
  );
  assertEquals(
    evaluatePolicy([old], req("s3:GetObject", "arn:aws:s3:::b/alice", alice, ctx)).decision,
    "NoMatch",
  );
});

Deno.test("resources of another namespace's form name the policy's own bucket", () => {
  const p = bucketPolicy([{ ...allowGet, Resource: "arn:aws:s3:::acme:b/*" }]);
  assertEquals(evaluatePolicy([p], req("s3:GetObject", "arn:aws:s3:::b/k")).decision, "Allow");
  assertEquals(resourceArn({ name: "b", account: "acme" }, "k", "acme"), "arn:aws:s3:::b/k");
  assertEquals(resourceArn({ name: "b", account: "acme" }, null, "other"), "arn:aws:s3:::acme:b");
  assertEquals(resourceArn({ name: "g", account: "" }, "k", "acme"), "arn:aws:s3:::g/k");
  assertEquals(resourceArn(null, null, "acme"), "arn:aws:s3:::*");
});

Deno.test("validation: AWS's MalformedPolicy messages", () => {
  assertEquals(fault(" {}"), "Policies must be valid JSON and the first byte must be '{'");
  assertEquals(fault("[]"), "Policies must be valid JSON and the first byte must be '{'");
  assertEquals(fault("{nope"), "This policy contains invalid Json");
  assertEquals(fault({ Version: "2012-10-17" }), "Missing required field Statement");
  assertEquals(fault({ Statement: [] }), "Could not parse the policy: Statement is empty!");
  assertEquals(
    fault({ Version: "2020-01-01", Statement: [allowGet] }),
    "The policy must contain a valid version string",
  );
  assertEquals(fault({ Statement: [allowGet], Extra: 1 }), "Unknown field Extra");
  assertEquals(fault({ Statement: [{ ...allowGet, Actions: "s3:*" }] }), "Unknown field Actions");
  assertEquals(
    fault({ Statement: [{ ...allowGet, Sid: "a" }, { ...allowGet, Sid: "a" }] }),
    "Statement IDs (SID) in a single policy must be unique",
  );
  const { Principal: _, ...noPrincipal } = allowGet;
  assertEquals(fault({ Statement: [noPrincipal] }), "Missing required field Principal");
  assertEquals(
    fault({ Statement: [{ ...allowGet, Effect: undefined }] }),
    "Missing required field Effect",
  );
  assertEquals(fault({ Statement: [{ ...allowGet, Effect: "Maybe" }] }), "Invalid effect: Maybe");
  assertEquals(
    fault({ Statement: [{ ...allowGet, Action: "s3:GetObjekt" }] }),
    "Policy has invalid action",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Action: "s3:Nope*" }] }),
    "Policy has invalid action",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Action: "ec2:RunInstances" }] }),
    "Policy has invalid action",
  );
  assertEquals(fault({ Statement: [{ ...allowGet, Action: [] }] }), "Policy has invalid action");
  assertEquals(
    fault({ Statement: [{ ...allowGet, Action: undefined }] }),
    "Missing required field Action",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, NotAction: "s3:PutObject" }] }),
    "Statement can not have both Action and NotAction",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Resource: "arn:aws:s3:::other/*" }] }),
    "Policy has invalid resource",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Resource: "arn:aws:s3:::*" }] }),
    "Policy has invalid resource",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Resource: "*" }] }),
    "Policy has invalid resource",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Resource: "arn:aws:s3:::other:b/*" }] }),
    "Policy has invalid resource",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Resource: undefined }] }),
    "Missing required field Resource",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Resource: "arn:aws:s3:::b" }] }),
    "Action does not apply to any resource(s) in statement",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Action: "s3:ListBucket" }] }),
    "Action does not apply to any resource(s) in statement",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Action: ["s3:ListBucket", "s3:GetObject"] }] }),
    "ok",
  );
  for (
    const Principal of [{}, "alice", { AWS: "not an arn" }, { AWS: "arn:aws:iam::acme:group/x" }, {
      Foo: "x",
    }, { AWS: [] }]
  ) {
    assertEquals(fault({ Statement: [{ ...allowGet, Principal }] }), "Invalid principal in policy");
  }
  assertEquals(
    fault({ Statement: [{ ...allowGet, NotPrincipal: { AWS: "acme" } }] }),
    "Invalid principal in policy",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Condition: { StringEquals: { "s3:nope": "x" } } }] }),
    "Policy has an invalid condition key",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Condition: { StringEqualz: { "s3:prefix": "x" } } }] }),
    "Invalid Condition type : StringEqualz",
  );
  assertEquals(
    fault({
      Statement: [{ ...allowGet, Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/" } } }],
    }),
    "Invalid IP address in Conditions",
  );
  assertEquals(
    fault({
      Statement: [{ ...allowGet, Condition: { NumericLessThan: { "s3:max-keys": "ten" } } }],
    }),
    "Invalid Condition value for NumericLessThan: ten",
  );
  assertEquals(
    fault({
      Statement: [{ ...allowGet, Condition: { DateLessThan: { "aws:CurrentTime": "soon" } } }],
    }),
    "Invalid Condition value for DateLessThan: soon",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Condition: { Bool: { "aws:SecureTransport": "yes" } } }] }),
    "Invalid Condition value for Bool: yes",
  );
  assertEquals(
    fault({ Statement: [{ ...allowGet, Condition: { NullIfExists: { "s3:prefix": "true" } } }] }),
    "Invalid Condition type : NullIfExists",
  );
  // A single statement object, the 2008 version and the Id are accepted.
  assertEquals(fault({ Version: "2008-10-17", Id: "p1", Statement: allowGet }), "ok");
});

Deno.test("validation: identity policies take no Principal and accept unknown well-formed actions", () => {
  const idOpts = { kind: "identity" as const };
  assertEquals(
    fault({ Statement: [allowGet] }, idOpts),
    "Policy document should not specify a principal.",
  );
  const { Principal: _, ...noPrincipal } = allowGet;
  assertEquals(
    fault({ Statement: [{ ...noPrincipal, Action: "s3:SomethingNew", Resource: "*" }] }, idOpts),
    "ok",
  );
  assertEquals(
    fault({ Statement: [{ ...noPrincipal, Resource: "arn:aws:sqs:::q" }] }, idOpts),
    "Policy has invalid resource",
  );
  // Sids may repeat in identity policies (IAM does not insist).
  assertEquals(
    fault({ Statement: [{ ...noPrincipal, Sid: "a" }, { ...noPrincipal, Sid: "a" }] }, idOpts),
    "ok",
  );
});

Deno.test("a principal lookup refuses principals that do not exist", () => {
  const known = new Set(["arn:aws:iam::acme:user/alice", "arn:aws:iam::acme:root"]);
  const opts = { ...bucketOpts, principals: { principalExists: (a: string) => known.has(a) } };
  const withP = (AWS: string) => ({ Statement: [{ ...allowGet, Principal: { AWS } }] });
  assertEquals(fault(withP("arn:aws:iam::acme:user/alice"), opts), "ok");
  assertEquals(fault(withP("acme"), opts), "ok");
  assertEquals(fault(withP("arn:aws:iam::acme:user/ghost"), opts), "Invalid principal in policy");
  assertEquals(fault(withP("nosuchtenant"), opts), "Invalid principal in policy");
  assertEquals(fault(withP("*"), opts), "ok");
});

Deno.test("parsed policies are plain data that survive a structured clone", () => {
  const p = bucketPolicy([{
    ...allowGet,
    Condition: { IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"] } },
  }]);
  const copy = structuredClone(p);
  const r = req("s3:GetObject", "arn:aws:s3:::b/k", null, { "aws:sourceip": "10.2.3.4" });
  assertEquals(evaluatePolicy([copy], r).decision, "Allow");
});

Deno.test("IP helpers", () => {
  assertEquals(ipInCidr("::ffff:192.168.1.9", "192.168.1.0/24"), true);
  assertEquals(ipInCidr("192.168.2.9", "192.168.1.0/24"), false);
  assertEquals(ipInCidr("::1", "::1"), true);
  assertEquals(clientIp("127.0.0.1", "1.2.3.4, 10.0.0.2", ["127.0.0.1", "10.0.0.0/8"]), "1.2.3.4");
  assertEquals(clientIp("9.9.9.9", "1.2.3.4", ["127.0.0.1"]), "9.9.9.9");
});
