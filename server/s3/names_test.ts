import assert from "node:assert/strict";
import {
  bucketNameProblem,
  validateBucketName,
  validateEndpointNames,
  validateKey,
} from "./names.ts";
import { parseEndpoint } from "./endpoint.ts";
import { S3Error } from "./errors.ts";

const isCode = (code: string) => (e: unknown) => e instanceof S3Error && e.code === code;

Deno.test("bucketNameProblem: valid names pass, each broken rule is named", () => {
  for (const ok of ["abc", "my-bucket.2026", "a".repeat(63), "1bucket", "x-s3"]) {
    assert.equal(bucketNameProblem(ok), null, ok);
  }
  const cases: [string, RegExp][] = [
    ["ab", /3 to 63 characters long, this one has 2/],
    ["a".repeat(2100), /3 to 63 characters long, this one has 2100/],
    ["My-Bucket", /only lowercase letters.*not "M"/],
    ["my_bucket", /not "_"/],
    ["-bucket", /begin and end with a letter or a digit/],
    ["bucket.", /begin and end/],
    ["my..bucket", /two adjacent dots/],
    ["my.-bucket", /dot next to a hyphen/],
    ["192.168.1.10", /IP address/],
    ["xn--bucket", /reserved prefix "xn--"/],
    ["bucket-s3alias", /reserved suffix "-s3alias"/],
  ];
  for (const [name, re] of cases) {
    const problem = bucketNameProblem(name);
    assert.ok(problem && re.test(problem), `${name.slice(0, 20)}: ${problem}`);
  }
});

Deno.test("validateBucketName: InvalidBucketName whose message says what is wrong", () => {
  try {
    validateBucketName("Ab", "copy source bucket");
    assert.fail("accepted");
  } catch (e) {
    assert.ok(isCode("InvalidBucketName")(e));
    assert.match(
      (e as S3Error).message,
      /^The specified copy source bucket is not valid: a bucket/,
    );
    assert.equal((e as S3Error).fields.BucketName, "Ab");
  }
});

Deno.test("validateKey: 1024 UTF-8 bytes pass, one more is KeyTooLongError", () => {
  validateKey("k".repeat(1024));
  validateKey("€".repeat(341)); // 1023 bytes
  assert.throws(() => validateKey("k".repeat(1025)), isCode("KeyTooLongError"));
  assert.throws(() => validateKey("€".repeat(342)), isCode("KeyTooLongError")); // 1026 bytes
  assert.throws(() => validateKey("k".repeat(3000)), isCode("KeyTooLongError"));
});

Deno.test("validateEndpointNames: bucket before key; preflights and ListBuckets pass", () => {
  const ep = (method: string, path: string) =>
    parseEndpoint(new Request(`http://h${path}`, { method }), { domain: null });
  validateEndpointNames(ep("GET", "/"));
  validateEndpointNames(ep("GET", "/bucket/key"));
  validateEndpointNames(ep("OPTIONS", `/${"B".repeat(3000)}/k`));
  assert.throws(
    () => validateEndpointNames(ep("GET", `/${"b".repeat(3000)}`)),
    isCode("InvalidBucketName"),
  );
  assert.throws(
    () => validateEndpointNames(ep("PUT", `/${"b".repeat(3000)}/${"k".repeat(3000)}`)),
    isCode("InvalidBucketName"),
  );
  assert.throws(
    () => validateEndpointNames(ep("HEAD", `/bucket/${"k".repeat(1025)}`)),
    isCode("KeyTooLongError"),
  );
});

Deno.test("validateEndpointNames: a listing's prefix or marker over 1024 bytes", () => {
  const list = (query: string) =>
    parseEndpoint(new Request(`http://h/bucket?${query}`), { domain: null });
  const long = "p".repeat(1025);
  validateEndpointNames(list(`list-type=2&prefix=${"p".repeat(1024)}&delimiter=${long}`));
  for (
    const q of [
      "list-type=2&prefix",
      "list-type=2&start-after",
      "marker",
      "versions&key-marker",
      "uploads&prefix",
    ]
  ) {
    assert.throws(() => validateEndpointNames(list(`${q}=${long}`)), isCode("KeyTooLongError"), q);
  }
});
