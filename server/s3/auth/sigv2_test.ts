import { assertEquals } from "../../../tests/_helpers/assert.ts";
import { canonicalAmzHeaders, canonicalSubresources, v2StringToSign } from "./sigv2.ts";

Deno.test("V2 canonical resource keeps only S3 sub-resources, sorted, values decoded", () => {
  assertEquals(canonicalSubresources(""), "");
  assertEquals(canonicalSubresources("prefix=a&max-keys=2"), "");
  assertEquals(canonicalSubresources("versionId=3%2F4&acl"), "?acl&versionId=3/4");
  assertEquals(
    canonicalSubresources("uploadId=abc&partNumber=2&x-id=UploadPart"),
    "?partNumber=2&uploadId=abc",
  );
  assertEquals(
    canonicalSubresources("response-content-type=text%2Fplain&delete="),
    "?delete=&response-content-type=text/plain",
  );
});

Deno.test("V2 x-amz headers: lower-case, sorted, trimmed", () => {
  const h = new Headers({
    "X-Amz-Meta-B": " two ",
    "x-amz-date": "Tue, 27 Mar 2007 19:36:42 +0000",
    "Content-Type": "image/jpeg",
    "x-amz-acl": "public-read",
  });
  assertEquals(
    canonicalAmzHeaders(h),
    "x-amz-acl:public-read\nx-amz-date:Tue, 27 Mar 2007 19:36:42 +0000\nx-amz-meta-b:two\n",
  );
});

Deno.test("V2 string to sign follows the documented layout", () => {
  // AWS's example "PUT with x-amz headers" layout: verb, MD5, type, date, amz headers, resource.
  const h = new Headers({
    "content-md5": "4gJE4saaMU4BqNR0kLY+lw==",
    "content-type": "application/x-download",
    "x-amz-acl": "public-read",
  });
  assertEquals(
    v2StringToSign({
      method: "PUT",
      headers: h,
      date: "Tue, 27 Mar 2007 21:06:08 +0000",
      resource: "/static.example.com/db-backup.dat.gz",
    }),
    "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n" +
      "x-amz-acl:public-read\n/static.example.com/db-backup.dat.gz",
  );
});
