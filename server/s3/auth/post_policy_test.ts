import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { S3Error } from "../errors.ts";
import { authenticatePostForm, checkPostPolicy, parsePostPolicy } from "./post_policy.ts";

const b64 = (o: unknown) => btoa(JSON.stringify(o));
const NOW = Date.parse("2026-01-01T00:00:00Z");

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert(e instanceof S3Error, String(e));
    return e.code;
  }
  throw new Error("expected an error");
}

Deno.test("policy documents: parse errors are InvalidPolicyDocument", () => {
  assertEquals(codeOf(() => parsePostPolicy("not base64 json")), "InvalidPolicyDocument");
  assertEquals(codeOf(() => parsePostPolicy(b64({ conditions: [] }))), "InvalidPolicyDocument");
  assertEquals(
    codeOf(() => parsePostPolicy(b64({ expiration: "2026-01-02T00:00:00Z", conditions: [[1]] }))),
    "InvalidPolicyDocument",
  );
  const p = parsePostPolicy(b64({
    expiration: "2026-01-02T00:00:00.000Z",
    conditions: [
      { bucket: "b" },
      ["starts-with", "$key", "user/"],
      ["eq", "$Content-Type", "text/plain"],
      ["content-length-range", "1", 10],
    ],
  }));
  assertEquals(p.conditions.length, 4);
});

Deno.test("conditions: eq, starts-with, extra fields, expiration, length range", () => {
  const policy = parsePostPolicy(b64({
    expiration: "2026-01-02T00:00:00Z",
    conditions: [
      { bucket: "b" },
      ["starts-with", "$key", "user/"],
      { "content-type": "text/plain" },
      ["starts-with", "$x-amz-meta-tag", ""],
      ["content-length-range", 5, 10],
    ],
  }));
  const fields = (extra: Record<string, string> = {}) =>
    new Map(Object.entries({
      bucket: "b",
      key: "user/a",
      "content-type": "text/plain",
      "x-amz-meta-tag": "anything",
      policy: "p",
      "x-ignore-me": "1",
      ...extra,
    }));
  const opts = { now: NOW, keyAlternatives: ["user/${filename}", "user/a.txt"] };
  assertEquals(checkPostPolicy(policy, fields(), opts), { min: 5, max: 10 });
  assertEquals(
    codeOf(() => checkPostPolicy(policy, fields(), { ...opts, keyAlternatives: ["other"] })),
    "AccessDenied",
  );
  assertEquals(
    codeOf(() => checkPostPolicy(policy, fields({ "content-type": "text/html" }), opts)),
    "AccessDenied",
  );
  assertEquals(
    codeOf(() => checkPostPolicy(policy, fields({ acl: "public-read" }), opts)),
    "AccessDenied",
  );
  assertEquals(
    codeOf(() => checkPostPolicy(policy, fields({ bucket: "c" }), opts)),
    "AccessDenied",
  );
  assertEquals(
    codeOf(() => checkPostPolicy(policy, fields(), { ...opts, now: NOW + 2 * 86400_000 })),
    "AccessDenied",
  );
});

Deno.test("form authentication: which fields are required", async () => {
  const store = {
    lookup: (id: string) =>
      Promise.resolve(
        id === "AKID"
          ? {
            accessKeyId: "AKID",
            secretAccessKey: "secret",
            principal: {
              kind: "root" as const,
              userId: "root",
              tenantId: null,
              isAdmin: true,
              displayName: "root",
            },
          }
          : null,
      ),
  };
  const code = async (f: Record<string, string>) => {
    try {
      await authenticatePostForm(new Map(Object.entries(f)), store);
      return "ok";
    } catch (e) {
      assert(e instanceof S3Error, String(e));
      return e.code;
    }
  };
  assertEquals(await code({ key: "k" }), "ok");
  assertEquals(await code({ key: "k", policy: "e30=" }), "InvalidArgument");
  assertEquals(await code({ awsaccesskeyid: "AKID", signature: "x" }), "InvalidArgument");
  assertEquals(
    await code({ awsaccesskeyid: "NOPE", signature: "x", policy: "e30=" }),
    "InvalidAccessKeyId",
  );
  assertEquals(
    await code({ awsaccesskeyid: "AKID", signature: "AAAA", policy: "e30=" }),
    "SignatureDoesNotMatch",
  );
  assertEquals(await code({ "x-amz-algorithm": "AWS4-HMAC-SHA256" }), "InvalidArgument");
  assertEquals(
    await code({
      "x-amz-algorithm": "AWS4-ECDSA-P256-SHA256",
      "x-amz-credential": "AKID/20260101/us-east-1/s3/aws4_request",
    }),
    "InvalidArgument",
  );
});
