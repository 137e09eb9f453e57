import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  canonicalRequest,
  canonicalRequests,
  deriveSigningKey,
  hexEqual,
  hmacHex,
  signatureFor,
  SigningKeys,
  utf8HeaderText,
} from "./sigv4.ts";
import type { RequestTarget } from "../endpoint.ts";

Deno.test("sigv4: hmacHex equals HMAC-SHA256 for keys of every length", () => {
  for (const len of [0, 1, 32, 63, 64, 65, 200]) {
    const key = new Uint8Array(len).map((_, i) => (i * 37 + len) & 0xff);
    for (const data of ["", "a", "x".repeat(1000), "ünï\ncode"]) {
      const want = createHmac("sha256", key).update(data).digest("hex");
      assert.equal(hmacHex(key, data), want, `key ${len}, data ${data.length}`);
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
  const keys = new SigningKeys(2);
  const sig = signatureFor(keys.of(secret, scope), sts);
  assert.equal(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  // The cache hands out the same key object per scope, and a full cache starts again.
  assert.equal(keys.of(secret, scope), keys.of(secret, scope));
  assert.deepEqual(keys.of(secret, scope), deriveSigningKey(secret, "20130524", "us-east-1", "s3"));
  const first = keys.of(secret, scope);
  keys.of(secret, { ...scope, date: "20130525" });
  keys.of(secret, { ...scope, date: "20130526" });
  assert.notEqual(keys.of(secret, scope), first);
  assert.ok(hexEqual(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
  assert.ok(!hexEqual(sig.toUpperCase(), sig));
  assert.ok(!hexEqual(sig.slice(0, 63) + "0", sig));
  assert.ok(!hexEqual(sig.slice(1), sig));
});

Deno.test("sigv4: non-ASCII header values, as Latin-1 and as UTF-8 bytes", () => {
  // A signer hashes the text "café"; clients send either one byte per character (é = e9) or
  // its UTF-8 bytes (c3 a9), which the server reads as one Latin-1 character per byte.
  const target: RequestTarget = {
    host: "h",
    path: "/b/k",
    rawPath: "/b/k",
    rawQuery: "",
    query: new URLSearchParams(),
  };
  const input = (meta: string) => ({
    method: "PUT",
    target,
    headers: new Headers({ host: "h", "x-amz-meta-m": meta }),
    signedHeaders: ["host", "x-amz-meta-m"],
    payloadHash: "UNSIGNED-PAYLOAD",
  });
  const signed = canonicalRequest(input("caf\u00e9"));
  assert.ok(signed.includes("x-amz-meta-m:café\n"));
  assert.deepEqual(canonicalRequests(input("caf\u00e9")), [signed]);
  const utf8 = canonicalRequests(input("caf\u00c3\u00a9"));
  assert.equal(utf8.length, 2);
  assert.equal(utf8[1], signed);
  // ASCII values and bytes that are not UTF-8 have one reading only.
  assert.equal(canonicalRequests(input("plain")).length, 1);
  assert.equal(utf8HeaderText("plain"), null);
  assert.equal(utf8HeaderText("\u00e9t\u00e9"), null);
  assert.equal(utf8HeaderText("\u00e6\u0097\u00a5"), "日");
});
