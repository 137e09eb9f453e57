import { createHash } from "node:crypto";
import { assertEquals } from "../../tests/_helpers/assert.ts";
import { contentMd5, copySource, documentBody, parseTags, s3Url } from "./s3.ts";

Deno.test("contentMd5 matches node:crypto", async () => {
  for (const text of ["", "a", "x".repeat(55), "y".repeat(56), "z".repeat(1000), "héllo"]) {
    const want = createHash("md5").update(text).digest("base64");
    assertEquals(await contentMd5(text), want);
  }
});

Deno.test("s3Url encodes key segments and keeps slashes", () => {
  assertEquals(s3Url("b"), "/api/v1/s3/b");
  assertEquals(s3Url("b", "a b/c?d"), "/api/v1/s3/b/a%20b/c%3Fd");
  assertEquals(s3Url("b", "", { "list-type": "2" }), "/api/v1/s3/b?list-type=2");
});

Deno.test("s3Url adds tenantId for a tenant bucket reference", () => {
  assertEquals(s3Url({ name: "b", tenantId: "t1" }, "k"), "/api/v1/s3/b/k?tenantId=t1");
  assertEquals(
    s3Url({ name: "b", tenantId: "t1" }, "", { "list-type": "2" }),
    "/api/v1/s3/b?list-type=2&tenantId=t1",
  );
});

Deno.test("parseTags reads key=value lines", () => {
  assertEquals(parseTags("a=1\n b = two ,c="), { a: "1", b: "two", c: "" });
});

Deno.test("documentBody: the body with its type and Content-MD5", async () => {
  const init = await documentBody("<CORSConfiguration/>", "application/xml");
  assertEquals(init.body, "<CORSConfiguration/>");
  const h = init.headers as Record<string, string>;
  assertEquals(h["content-type"], "application/xml");
  assertEquals(h["content-md5"], createHash("md5").update("<CORSConfiguration/>").digest("base64"));
  assertEquals((await documentBody("")).headers, {
    "content-type": "application/xml",
    "content-md5": "1B2M2Y8AsgTpgAmY7PhCfg==",
  });
});

Deno.test("copySource names one version, key segments encoded", () => {
  assertEquals(copySource("b", "a b/c?d", "v1+2"), "b/a%20b/c%3Fd?versionId=v1%2B2");
  assertEquals(copySource({ name: "b", tenantId: "t" }, "k", "null"), "b/k?versionId=null");
});
