import assert from "node:assert/strict";
import {
  bucketEncryptionFromJson,
  bucketEncryptionXml,
  parseBucketEncryption,
  resolveSse,
} from "./bucket_encryption.ts";
import { parseXml } from "./xml.ts";
import { S3Error } from "./errors.ts";

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

function doc(rule: string): string {
  return `<ServerSideEncryptionConfiguration ${NS}>${rule}</ServerSideEncryptionConfiguration>`;
}

function by(inner: string, extra = ""): string {
  return `<Rule><ApplyServerSideEncryptionByDefault>${inner}</ApplyServerSideEncryptionByDefault>${extra}</Rule>`;
}

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof S3Error, String(e));
    return e.code;
  }
  assert.fail("no error");
}

Deno.test("bucket encryption: AWS's documents parse and print back", () => {
  const s3 = parseBucketEncryption(parseXml(doc(by("<SSEAlgorithm>AES256</SSEAlgorithm>"))));
  assert.deepEqual(s3, { v: 1, algorithm: "AES256", bucketKey: false });
  const kms = parseBucketEncryption(parseXml(doc(by(
    "<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>testkey-1</KMSMasterKeyID>",
    "<BucketKeyEnabled>true</BucketKeyEnabled>",
  ))));
  assert.deepEqual(kms, { v: 1, algorithm: "aws:kms", kmsKeyId: "testkey-1", bucketKey: true });
  // What GetBucketEncryption answers parses to the same configuration.
  assert.deepEqual(parseBucketEncryption(parseXml(bucketEncryptionXml(kms))), kms);
  assert.match(bucketEncryptionXml(s3), /<BucketKeyEnabled>false<\/BucketKeyEnabled>/);
});

Deno.test("bucket encryption: bad documents are MalformedXML (a key id with AES256 InvalidArgument)", () => {
  const bad = [
    doc(""),
    doc(by("<SSEAlgorithm>AES512</SSEAlgorithm>")),
    doc(by("")),
    doc(by("<SSEAlgorithm>AES256</SSEAlgorithm><Other/>")),
    doc(by("<SSEAlgorithm>AES256</SSEAlgorithm>") + by("<SSEAlgorithm>AES256</SSEAlgorithm>")),
    doc(by("<SSEAlgorithm>AES256</SSEAlgorithm>", "<BucketKeyEnabled>maybe</BucketKeyEnabled>")),
    doc("<Rule><BucketKeyEnabled>true</BucketKeyEnabled></Rule>"),
    `<Other ${NS}>${by("<SSEAlgorithm>AES256</SSEAlgorithm>")}</Other>`,
  ];
  for (const d of bad) {
    assert.equal(codeOf(() => parseBucketEncryption(parseXml(d))), "MalformedXML", d);
  }
  assert.equal(
    codeOf(() =>
      parseBucketEncryption(parseXml(doc(by(
        "<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>",
      ))))
    ),
    "InvalidArgument",
  );
});

Deno.test("bucket encryption: headers, then the bucket default, then the server option", () => {
  const kms = { v: 1 as const, algorithm: "aws:kms" as const, kmsKeyId: "k", bucketKey: true };
  assert.deepEqual(resolveSse({ mode: "AES256" }, kms, false), { mode: "AES256" });
  assert.deepEqual(resolveSse(undefined, kms, false), {
    mode: "aws:kms",
    keyId: "k",
    bucketKey: true,
  });
  assert.deepEqual(resolveSse(undefined, { v: 1, algorithm: "AES256", bucketKey: false }, false), {
    mode: "AES256",
  });
  assert.deepEqual(resolveSse(undefined, null, true), { mode: "AES256" });
  assert.equal(resolveSse(undefined, null, false), undefined);
});

Deno.test("bucket encryption: the console's JSON form", () => {
  assert.equal(bucketEncryptionFromJson({ algorithm: null }), null);
  assert.deepEqual(bucketEncryptionFromJson({ algorithm: "aws:kms", kmsKeyId: " k " }), {
    v: 1,
    algorithm: "aws:kms",
    kmsKeyId: "k",
    bucketKey: false,
  });
  for (
    const bad of [[], { algorithm: "x" }, { algorithm: "AES256", kmsKeyId: "k" }, { other: 1 }]
  ) {
    assert.equal(codeOf(() => bucketEncryptionFromJson(bad)), "InvalidRequest");
  }
});
