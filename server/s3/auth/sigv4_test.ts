import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { hexEqual, hmacHex, signatureFor, signingKey } from "./sigv4.ts";

Deno.test("sigv4: hmacHex equals HMAC-SHA256 for keys of every length, repeated use included", () => {
  for (const len of [0, 1, 32, 63, 64, 65, 200]) {
    const key = new Uint8Array(len).map((_, i) => (i * 37 + len) & 0xff);
    for (const data of ["", "a", "x".repeat(1000), "ünï\ncode"]) {
      const want = createHmac("sha256", key).update(data).digest("hex");
      assert.equal(hmacHex(key, data), want, `key ${len}, data ${data.length}`);
      assert.equal(hmacHex(key, data), want, "second use of the cached pads");
    }
  }
});

Deno.test("sigv4: the signature of AWS's GetObject example", () => {
  // docs.aws.amazon.com, "Signature Calculations for the Authorization Header", GET Object.
  const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  const sts = [
    "AWS4-HMAC-SHA256",
    "20130524T000000Z",
    "20130524/us-east-1/s3/aws4_request",
    "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
  ].join("\n");
  const scope = {
    accessKeyId: "AKIAIOSFODNN7EXAMPLE",
    date: "20130524",
    region: "us-east-1",
    service: "s3",
  };
  const sig = signatureFor(secret, scope, sts);
  assert.equal(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  assert.equal(
    signingKey(secret, "20130524", "us-east-1", "s3"),
    signingKey(secret, "20130524", "us-east-1", "s3"),
  );
  assert.ok(hexEqual(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
  assert.ok(!hexEqual(sig.toUpperCase(), sig));
  assert.ok(!hexEqual(sig.slice(0, 63) + "0", sig));
  assert.ok(!hexEqual(sig.slice(1), sig));
});
