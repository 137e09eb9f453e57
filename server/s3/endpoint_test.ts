/**
 * The router against request lines from the AWS S3 API reference: each example maps to exactly
 * one operation, bucket and key. (Dot segments are covered end to end: `new Request` here would
 * normalize them, the server's raw request target does not.)
 */
import assert from "node:assert/strict";
import { type Endpoint, normalizeDomain, parseEndpoint } from "./endpoint.ts";
import { S3Error } from "./errors.ts";

type Row = [
  method: string,
  target: string,
  op: Endpoint["op"],
  bucket: string | null,
  key: string | null,
  headers?: Record<string, string>,
];

const COPY = { "x-amz-copy-source": "/src/key" };
const FORM = { "content-type": "multipart/form-data; boundary=xyz" };

const PATH_STYLE: Row[] = [
  ["GET", "/", "ListBuckets", null, null],
  ["GET", "/?max-buckets=10&prefix=a", "ListBuckets", null, null],
  ["PUT", "/amzn-s3-demo-bucket", "CreateBucket", "amzn-s3-demo-bucket", null],
  ["PUT", "/amzn-s3-demo-bucket/", "CreateBucket", "amzn-s3-demo-bucket", null],
  ["HEAD", "/amzn-s3-demo-bucket", "HeadBucket", "amzn-s3-demo-bucket", null],
  ["DELETE", "/amzn-s3-demo-bucket", "DeleteBucket", "amzn-s3-demo-bucket", null],
  ["GET", "/b", "ListObjects", "b", null],
  ["GET", "/b?prefix=photos/2006/&delimiter=/", "ListObjects", "b", null],
  ["GET", "/b?marker=x&max-keys=40", "ListObjects", "b", null],
  ["GET", "/b?list-type=2", "ListObjectsV2", "b", null],
  ["GET", "/b?list-type=2&continuation-token=abc&fetch-owner=true", "ListObjectsV2", "b", null],
  ["GET", "/b?location", "GetBucketLocation", "b", null],
  ["GET", "/b?versioning", "GetBucketVersioning", "b", null],
  ["PUT", "/b?versioning", "PutBucketVersioning", "b", null],
  ["GET", "/b?versions", "ListObjectVersions", "b", null],
  ["GET", "/b?versions&prefix=a&key-marker=k&version-id-marker=v", "ListObjectVersions", "b", null],
  ["GET", "/b?uploads", "ListMultipartUploads", "b", null],
  ["GET", "/b?tagging", "GetBucketTagging", "b", null],
  ["PUT", "/b?tagging", "PutBucketTagging", "b", null],
  ["DELETE", "/b?tagging", "DeleteBucketTagging", "b", null],
  ["GET", "/b?lifecycle", "GetBucketLifecycleConfiguration", "b", null],
  ["PUT", "/b?lifecycle", "PutBucketLifecycleConfiguration", "b", null],
  ["DELETE", "/b?lifecycle", "DeleteBucketLifecycle", "b", null],
  ["GET", "/b?object-lock", "GetObjectLockConfiguration", "b", null],
  ["PUT", "/b?object-lock", "PutObjectLockConfiguration", "b", null],
  ["GET", "/b?policy", "GetBucketPolicy", "b", null],
  ["PUT", "/b?policy", "PutBucketPolicy", "b", null],
  ["DELETE", "/b?policy", "DeleteBucketPolicy", "b", null],
  ["GET", "/b?policyStatus", "GetBucketPolicyStatus", "b", null],
  ["GET", "/b?acl", "GetBucketAcl", "b", null],
  ["PUT", "/b?acl", "PutBucketAcl", "b", null],
  ["GET", "/b?cors", "GetBucketCors", "b", null],
  ["PUT", "/b?cors", "PutBucketCors", "b", null],
  ["DELETE", "/b?cors", "DeleteBucketCors", "b", null],
  ["GET", "/b?encryption", "GetBucketEncryption", "b", null],
  ["PUT", "/b?encryption", "PutBucketEncryption", "b", null],
  ["DELETE", "/b?encryption", "DeleteBucketEncryption", "b", null],
  ["GET", "/b?publicAccessBlock", "GetPublicAccessBlock", "b", null],
  ["PUT", "/b?publicAccessBlock", "PutPublicAccessBlock", "b", null],
  ["DELETE", "/b?publicAccessBlock", "DeletePublicAccessBlock", "b", null],
  ["GET", "/b?ownershipControls", "GetBucketOwnershipControls", "b", null],
  ["PUT", "/b?ownershipControls", "PutBucketOwnershipControls", "b", null],
  ["DELETE", "/b?ownershipControls", "DeleteBucketOwnershipControls", "b", null],
  ["GET", "/b?notification", "GetBucketNotificationConfiguration", "b", null],
  ["PUT", "/b?notification", "PutBucketNotificationConfiguration", "b", null],
  ["GET", "/b?replication", "GetBucketReplication", "b", null],
  ["PUT", "/b?replication", "PutBucketReplication", "b", null],
  ["DELETE", "/b?replication", "DeleteBucketReplication", "b", null],
  ["GET", "/b?website", "GetBucketWebsite", "b", null],
  ["PUT", "/b?website", "PutBucketWebsite", "b", null],
  ["DELETE", "/b?website", "DeleteBucketWebsite", "b", null],
  ["GET", "/b?logging", "GetBucketLogging", "b", null],
  ["PUT", "/b?logging", "PutBucketLogging", "b", null],
  ["GET", "/b?inventory&id=report1", "GetBucketInventoryConfiguration", "b", null],
  ["GET", "/b?inventory", "ListBucketInventoryConfigurations", "b", null],
  ["GET", "/b?inventory&continuation-token=x", "ListBucketInventoryConfigurations", "b", null],
  ["PUT", "/b?inventory&id=report1", "PutBucketInventoryConfiguration", "b", null],
  ["DELETE", "/b?inventory&id=report1", "DeleteBucketInventoryConfiguration", "b", null],
  ["GET", "/b?accelerate", "GetBucketAccelerateConfiguration", "b", null],
  ["GET", "/b?requestPayment", "GetBucketRequestPayment", "b", null],
  ["POST", "/b?delete", "DeleteObjects", "b", null],
  ["POST", "/b", "PostObject", "b", null, FORM],
  ["GET", "/b/my-image.jpg", "GetObject", "b", "my-image.jpg"],
  ["GET", "/b/my-image.jpg?versionId=3HL4kqtJlcpXroDTDmJ", "GetObject", "b", "my-image.jpg"],
  ["GET", "/b/k?response-content-type=text/plain&response-expires=x", "GetObject", "b", "k"],
  ["GET", "/b/k?partNumber=2", "GetObject", "b", "k"],
  ["GET", "/b/k?x-id=GetObject", "GetObject", "b", "k"],
  ["HEAD", "/b/k", "HeadObject", "b", "k"],
  ["HEAD", "/b/k?partNumber=1", "HeadObject", "b", "k"],
  ["PUT", "/b/my-image.jpg", "PutObject", "b", "my-image.jpg"],
  ["PUT", "/b/k", "CopyObject", "b", "k", COPY],
  ["DELETE", "/b/k", "DeleteObject", "b", "k"],
  ["DELETE", "/b/k?versionId=v1", "DeleteObject", "b", "k"],
  ["GET", "/b/k?attributes", "GetObjectAttributes", "b", "k"],
  ["GET", "/b/k?tagging", "GetObjectTagging", "b", "k"],
  ["PUT", "/b/k?tagging", "PutObjectTagging", "b", "k"],
  ["DELETE", "/b/k?tagging", "DeleteObjectTagging", "b", "k"],
  ["GET", "/b/k?acl", "GetObjectAcl", "b", "k"],
  ["PUT", "/b/k?acl", "PutObjectAcl", "b", "k"],
  ["GET", "/b/k?retention", "GetObjectRetention", "b", "k"],
  ["PUT", "/b/k?retention", "PutObjectRetention", "b", "k"],
  ["GET", "/b/k?legal-hold", "GetObjectLegalHold", "b", "k"],
  ["PUT", "/b/k?legal-hold", "PutObjectLegalHold", "b", "k"],
  ["POST", "/b/example-object?uploads", "CreateMultipartUpload", "b", "example-object"],
  ["PUT", "/b/k?partNumber=1&uploadId=VXBsb2FkIElE", "UploadPart", "b", "k"],
  ["PUT", "/b/k?partNumber=1&uploadId=VXBsb2FkIElE", "UploadPartCopy", "b", "k", COPY],
  ["POST", "/b/k?uploadId=VXBsb2FkIElE", "CompleteMultipartUpload", "b", "k"],
  ["DELETE", "/b/k?uploadId=VXBsb2FkIElE", "AbortMultipartUpload", "b", "k"],
  ["GET", "/b/k?uploadId=VXBsb2FkIElE&max-parts=2", "ListParts", "b", "k"],
  ["OPTIONS", "/b/k", "Options", "b", "k"],
  ["OPTIONS", "/b", "Options", "b", null],
  // Keys keep repeated slashes, spaces, plus signs, escaped percent signs and any UTF-8.
  ["GET", "/b/a//b///c", "GetObject", "b", "a//b///c"],
  ["GET", "/b/dir/", "GetObject", "b", "dir/"],
  ["GET", "/b/a%20b+c", "GetObject", "b", "a b+c"],
  ["GET", "/b/100%25%2Bsure", "GetObject", "b", "100%+sure"],
  ["GET", "/b/%E2%82%AC/%F0%9F%98%80", "GetObject", "b", "€/😀"],
  ["PUT", "/b/%3Fquestion%23hash", "PutObject", "b", "?question#hash"],
];

function request(method: string, target: string, host: string, headers: Record<string, string>) {
  return new Request(`http://${host}${target}`, { method, headers: { host, ...headers } });
}

Deno.test("path-style AWS examples map to operations", () => {
  for (const [method, target, op, bucket, key, headers] of PATH_STYLE) {
    const ep = parseEndpoint(request(method, target, "127.0.0.1:9000", headers ?? {}), {
      domain: null,
    });
    const label = `${method} ${target}`;
    assert.equal(ep.op, op, label);
    assert.equal(ep.bucket, bucket, label);
    assert.equal(ep.key, key, label);
    assert.equal(ep.style, "path", label);
  }
});

Deno.test("virtual-host style takes the bucket from the Host under the domain", () => {
  const rows: [string, string, string, Endpoint["op"], string | null, string | null][] = [
    ["GET", "/", "photos.s3.test:9000", "ListObjects", "photos", null],
    ["GET", "/?list-type=2", "photos.s3.test", "ListObjectsV2", "photos", null],
    ["PUT", "/", "photos.s3.test", "CreateBucket", "photos", null],
    ["GET", "/puppy.jpg", "photos.s3.test", "GetObject", "photos", "puppy.jpg"],
    ["GET", "/a//b", "my.dotted.bucket.s3.test:80", "GetObject", "my.dotted.bucket", "a//b"],
    ["POST", "/?delete", "photos.s3.test", "DeleteObjects", "photos", null],
    ["GET", "/", "S3.TEST:9000", "ListBuckets", null, null],
    ["GET", "/k", "photos.s3.test.:9000", "GetObject", "photos", "k"],
    ["GET", "/photos/puppy.jpg", "s3.test", "GetObject", "photos", "puppy.jpg"],
    ["GET", "/photos/puppy.jpg", "127.0.0.1:9000", "GetObject", "photos", "puppy.jpg"],
  ];
  for (const [method, target, host, op, bucket, key] of rows) {
    const ep = parseEndpoint(request(method, target, host, {}), { domain: "s3.test" });
    // A domain configured with a port or a trailing dot means the same.
    const ported = parseEndpoint(request(method, target, host, {}), {
      domain: normalizeDomain("S3.test.:9000"),
    });
    assert.deepEqual([ported.op, ported.bucket, ported.key], [ep.op, ep.bucket, ep.key]);
    const label = `${method} ${host}${target}`;
    assert.equal(ep.op, op, label);
    assert.equal(ep.bucket, bucket, label);
    assert.equal(ep.key, key, label);
  }
});

Deno.test("unsupported requests get S3 errors, never a crash", () => {
  const rows: [string, string, string, Record<string, string>?][] = [
    ["GET", "/b?analytics", "NotImplemented"],
    ["GET", "/b?analytics&id=x", "NotImplemented"],
    ["GET", "/b?metrics", "NotImplemented"],
    ["GET", "/b?intelligent-tiering", "NotImplemented"],
    ["PUT", "/b?analytics", "NotImplemented"],
    ["DELETE", "/b?metrics", "NotImplemented"],
    ["GET", "/b/k?torrent", "NotImplemented"],
    ["POST", "/b/k?restore", "NotImplemented"],
    ["POST", "/b/k?select&select-type=2", "NotImplemented"],
    // A subresource with a method it has no operation for never falls through to the default
    // operation (which would delete, create or overwrite).
    ["DELETE", "/b?logging", "NotImplemented"],
    ["POST", "/b?inventory", "NotImplemented"],
    ["GET", "/b/k?inventory", "NotImplemented"],
    ["DELETE", "/b?versioning", "NotImplemented"],
    ["DELETE", "/b?acl", "NotImplemented"],
    ["PUT", "/b?location", "NotImplemented"],
    ["PUT", "/b?accelerate", "NotImplemented"],
    ["PUT", "/b?requestPayment", "NotImplemented"],
    ["PUT", "/b?uploads", "NotImplemented"],
    ["GET", "/b?delete", "NotImplemented"],
    ["DELETE", "/b/k?acl", "NotImplemented"],
    ["DELETE", "/b/k?retention", "NotImplemented"],
    ["DELETE", "/b/k?legal-hold", "NotImplemented"],
    ["PUT", "/b/k?attributes", "NotImplemented"],
    ["GET", "/b/k?uploads", "NotImplemented"],
    ["POST", "/b/k", "MethodNotAllowed"],
    ["POST", "/b", "MethodNotAllowed"],
    ["PATCH", "/b/k", "MethodNotAllowed"],
    ["PUT", "/", "MethodNotAllowed"],
    ["GET", "/b/%zz", "InvalidURI"],
  ];
  for (const [method, target, code, headers] of rows) {
    assert.throws(
      () => parseEndpoint(request(method, target, "127.0.0.1", headers ?? {}), { domain: null }),
      (e) => e instanceof S3Error && e.code === code,
      `${method} ${target}`,
    );
  }
});
