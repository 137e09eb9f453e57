import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { MAX_PRESIGN_SECONDS, presignUrl } from "./presign_url.ts";

const base = {
  method: "GET",
  endpoint: "http://127.0.0.1:9000",
  bucket: "b",
  key: "dir/a b+c.txt",
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  region: "us-east-1",
  expiresSeconds: 3600,
  now: Date.UTC(2013, 4, 24),
};

Deno.test("presignUrl: keys are percent-encoded, slashes kept, the signature last", () => {
  const url = new URL(presignUrl(base));
  assertEquals(url.pathname, "/b/dir/a%20b%2Bc.txt");
  assertEquals(url.searchParams.get("X-Amz-Expires"), "3600");
  assertEquals(url.searchParams.get("X-Amz-SignedHeaders"), "host");
  assert(/^[0-9a-f]{64}$/.test(url.searchParams.get("X-Amz-Signature")!));
});

Deno.test("presignUrl: refuses lifetimes outside 1 s .. 7 days", () => {
  for (const expiresSeconds of [0, 1.5, MAX_PRESIGN_SECONDS + 1]) {
    let threw = false;
    try {
      presignUrl({ ...base, expiresSeconds });
    } catch (e) {
      threw = e instanceof RangeError;
    }
    assert(threw, `${expiresSeconds} s`);
  }
});
