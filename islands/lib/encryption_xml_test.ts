import assert from "node:assert/strict";
import {
  bucketDefaultXml,
  needsCustomerKey,
  objectEncryption,
  parseBucketDefault,
} from "./encryption_xml.ts";

Deno.test("encryption xml: bucket defaults round trip", () => {
  const kms = { algorithm: "aws:kms" as const, kmsKeyId: "testkey-1", bucketKey: true };
  assert.deepEqual(parseBucketDefault(bucketDefaultXml(kms)), kms);
  assert.deepEqual(parseBucketDefault(bucketDefaultXml({ algorithm: "AES256" })), {
    algorithm: "AES256",
  });
  assert.equal(parseBucketDefault(""), null);
  assert.doesNotMatch(
    bucketDefaultXml({ algorithm: "aws:kms", kmsKeyId: "", bucketKey: false }),
    /KMSMasterKeyID|BucketKeyEnabled/,
  );
});

Deno.test("encryption xml: an object's mode from its HEAD headers", () => {
  assert.deepEqual(objectEncryption(new Headers()), { mode: "none" });
  assert.equal(
    objectEncryption(new Headers({ "x-amz-server-side-encryption": "AES256" })).mode,
    "SSE-S3 (server-managed key)",
  );
  assert.deepEqual(
    objectEncryption(
      new Headers({
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1::key/k",
      }),
    ),
    { mode: "SSE-KMS (key service)", kmsKey: "arn:aws:kms:us-east-1::key/k" },
  );
  assert.ok(
    needsCustomerKey(
      "InvalidRequest",
      "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
    ),
  );
  assert.ok(!needsCustomerKey("NoSuchKey", "The specified key does not exist."));
});
