import assert from "node:assert/strict";
import { recreateOwnedBucket, sameGrants } from "./bucket.ts";
import { S3Error } from "../errors.ts";
import { cannedAcl, privateAcl } from "../../iam/acl.ts";

const code = (fn: () => void) => {
  try {
    fn();
    return null;
  } catch (e) {
    return e instanceof S3Error ? e.code : String(e);
  }
};

Deno.test("bucket: re-creating an owned bucket, by region and ACL change", () => {
  assert.equal(code(() => recreateOwnedBucket(false, "us-east-1")), null);
  assert.equal(code(() => recreateOwnedBucket(false, "eu-west-1")), "BucketAlreadyOwnedByYou");
  assert.equal(code(() => recreateOwnedBucket(true, "us-east-1")), "BucketAlreadyExists");
  assert.equal(code(() => recreateOwnedBucket(true, "eu-west-1")), "BucketAlreadyExists");
});

Deno.test("bucket: the same grants in any order, display names aside", () => {
  const owner = { id: "u1", displayName: "one" };
  const opts = { bucketOwner: owner, forBucket: true };
  const pub = cannedAcl("public-read", owner, opts);
  const reordered = { ...pub, grants: [...pub.grants].reverse() };
  assert.equal(sameGrants(pub, reordered), true);
  assert.equal(sameGrants(privateAcl(owner), privateAcl({ id: "u1", displayName: "u1" })), true);
  assert.equal(sameGrants(pub, privateAcl(owner)), false);
  assert.equal(sameGrants(pub, cannedAcl("authenticated-read", owner, opts)), false);
});
