import assert from "node:assert/strict";
import { namedAccessKey, resolveBucketUnsigned } from "./resolve_bucket.ts";
import { splitTarget } from "./endpoint.ts";
import { withStorage } from "../../tests/_helpers/storage.ts";
import type { Principal } from "../iam/types.ts";

const key = (url: string, headers: Record<string, string> = {}) => {
  const req = new Request(url, { headers });
  return namedAccessKey(req, splitTarget(req));
};

Deno.test("namedAccessKey: presigned query (v4, v2), then the Authorization header", () => {
  const cred = "AKIAEXAMPLE000000001%2F20260101%2Fus-east-1%2Fs3%2Faws4_request";
  assert.equal(
    key(`http://h/b/k?X-Amz-Credential=${cred}&X-Amz-Signature=x`),
    "AKIAEXAMPLE000000001",
  );
  assert.equal(key("http://h/b/k?AWSAccessKeyId=AKIAV2&Signature=x"), "AKIAV2");
  assert.equal(
    key("http://h/b/k", {
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIAHEADER/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x",
    }),
    "AKIAHEADER",
  );
  assert.equal(key("http://h/b/k", { authorization: "AWS AKIASIGV2:c2ln" }), "AKIASIGV2");
  assert.equal(key("http://h/b/k"), null);
});

Deno.test("resolveBucketUnsigned: tenant:bucket, the key's namespace, then the global one", async () => {
  await withStorage("maxiofs-resolve-", async (s) => {
    const b = s.backend;
    const own = await b.createBucket({ ns: "t1", name: "pics", ownerId: "u", region: "r" });
    const shared = await b.createBucket({ ns: "", name: "shared", ownerId: "u", region: "r" });
    const globalPics = await b.createBucket({ ns: "", name: "pics", ownerId: "u", region: "r" });
    const principal: Principal = {
      kind: "user",
      userId: "u1",
      tenantId: "t1",
      isAdmin: false,
      displayName: "u1",
    };
    const deps = {
      storage: b,
      credentials: {
        lookup: (id: string) =>
          Promise.resolve(
            id === "AKIAT1" ? { accessKeyId: id, secretAccessKey: "s", principal } : null,
          ),
      },
      namespaces: {
        nsOf: (name: string) => (name === "acme" ? "t1" : null),
        accountOf: (ns: string) => (ns === "t1" ? "acme" : ns === "" ? "" : null),
      },
    };
    const resolve = async (url: string, name: string) => {
      const req = new Request(url);
      return (await resolveBucketUnsigned(deps, req, splitTarget(req), name))?.id ?? null;
    };
    const presigned = "?X-Amz-Credential=AKIAT1%2F20260101%2Fus-east-1%2Fs3%2Faws4_request";
    assert.equal(await resolve("http://h/acme:pics/k", "acme:pics"), own.id);
    assert.equal(await resolve("http://h/nobody:pics/k", "nobody:pics"), null);
    assert.equal(await resolve("http://h/acme:Bad_Name/k", "acme:Bad_Name"), null);
    assert.equal(await resolve(`http://h/pics/k${presigned}`, "pics"), own.id);
    assert.equal(await resolve(`http://h/shared/k${presigned}`, "shared"), shared.id);
    assert.equal(await resolve("http://h/pics/k", "pics"), globalPics.id);
    assert.equal(
      await resolve("http://h/pics/k?AWSAccessKeyId=AKIAUNKNOWN", "pics"),
      globalPics.id,
    );
    assert.equal(await resolve("http://h/none/k", "none"), null);
  });
});
