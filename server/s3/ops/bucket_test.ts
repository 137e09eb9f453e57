import assert from "node:assert/strict";
import { recreateOwnedBucket, requestsAclChange } from "./bucket.ts";
import { S3Error } from "../errors.ts";

const code = (fn: () => void) => {
  try {
    fn();
    return null;
  } catch (e) {
    return e instanceof S3Error ? e.code : String(e);
  }
};

Deno.test("bucket: re-creating an owned bucket, by region and ACL headers", () => {
  const none = new Headers();
  const priv = new Headers({ "x-amz-acl": "private" });
  const pub = new Headers({ "x-amz-acl": "public-read" });
  const grant = new Headers({ "x-amz-grant-read": 'id="u1"' });
  assert.equal(requestsAclChange(none), false);
  assert.equal(requestsAclChange(priv), false);
  assert.equal(requestsAclChange(pub), true);
  assert.equal(requestsAclChange(grant), true);
  assert.equal(code(() => recreateOwnedBucket(none, "us-east-1")), null);
  assert.equal(code(() => recreateOwnedBucket(priv, "us-east-1")), null);
  assert.equal(code(() => recreateOwnedBucket(none, "eu-west-1")), "BucketAlreadyOwnedByYou");
  assert.equal(code(() => recreateOwnedBucket(pub, "us-east-1")), "BucketAlreadyExists");
  assert.equal(code(() => recreateOwnedBucket(grant, "eu-west-1")), "BucketAlreadyExists");
});
