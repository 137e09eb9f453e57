import { assertEquals } from "../tests/_helpers/assert.ts";
import { assetUrl, serveAsset } from "./static.ts";
import { CONTENT_SECURITY_POLICY, withSecurityHeaders } from "./security.ts";

const assets = { "app.css": { contentType: "text/css", body: "a{}", hash: "abc123" } };

function get(path: string, headers: HeadersInit = {}) {
  const url = new URL(path, "http://console.test");
  return serveAsset(assets, new Request(url, { headers }), url);
}

Deno.test("hash-busted asset URLs are cached for a year", async () => {
  const res = get(assetUrl(assets, "app.css"))!;
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assertEquals(res.headers.get("content-type"), "text/css");
  assertEquals(await res.text(), "a{}");
});

Deno.test("unversioned asset URLs revalidate with the ETag", () => {
  const res = get("/static/app.css")!;
  assertEquals(res.headers.get("cache-control"), "no-cache");
  const again = get("/static/app.css", { "if-none-match": '"abc123"' })!;
  assertEquals(again.status, 304);
});

Deno.test("unknown assets and prototype names fall through", () => {
  assertEquals(get("/static/nope.js"), null);
  assertEquals(get("/static/constructor"), null);
  assertEquals(get("/other"), null);
});

Deno.test("security headers are added once and keep an existing CSP", () => {
  const res = withSecurityHeaders(new Response("x"));
  assertEquals(res.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
  assertEquals(res.headers.get("x-content-type-options"), "nosniff");
  assertEquals(res.headers.get("x-frame-options"), "DENY");
  const custom = withSecurityHeaders(
    new Response("x", { headers: { "content-security-policy": "default-src 'none'" } }),
  );
  assertEquals(custom.headers.get("content-security-policy"), "default-src 'none'");
});
