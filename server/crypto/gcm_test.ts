/**
 * The two AES-256-GCM engines give the same bytes for every length (empty included), open each
 * other's output, refuse a flipped bit in ciphertext, tag, nonce or additional data, and this
 * process uses OpenSSL's (required under CI, where libssl3 is installed).
 */
import { assert, assertEquals } from "../../tests/_helpers/assert.ts";
import { builtinGcm, gcm, type GcmEngine, openWithNonce, sealWithNonce } from "./gcm.ts";

const key = new Uint8Array(32).map((_, i) => 3 * i + 1);
const aad = new TextEncoder().encode("blob-1234");

function sealed(e: GcmEngine, plain: Uint8Array, iv: Uint8Array): Uint8Array {
  const out = new Uint8Array(plain.byteLength + 16);
  assertEquals(e.seal(key, iv, aad, plain, out, 0), out.byteLength);
  return out;
}

Deno.test("gcm: the engine in use", () => {
  if (gcm.name !== "openssl") {
    const why = "libcrypto.so.3 did not load (or MAXIOFS_CRYPTO=builtin): the built-in engine runs";
    if (Deno.env.get("CI") === "true") throw new Error(why);
    console.log(`note: ${why}`);
  }
});

Deno.test("gcm: both engines agree and open each other's bytes", () => {
  for (const n of [0, 1, 15, 16, 17, 4096, 65536, 65537]) {
    const plain = new Uint8Array(n).map((_, i) => (i * 31 + n) & 255);
    const iv = new Uint8Array(12).map((_, i) => i + n);
    const a = sealed(gcm, plain, iv);
    const b = sealed(builtinGcm, plain, iv);
    assertEquals(a, b, `length ${n}`);
    for (const [e, s] of [[gcm, b], [builtinGcm, a]] as const) {
      const back = new Uint8Array(n);
      assert(e.open(key, iv, aad, s, back, 0), `${e.name} opens ${n}`);
      assertEquals(back, plain);
    }
  }
});

Deno.test("gcm: any change is refused", () => {
  const plain = new Uint8Array(1000).fill(7);
  const iv = new Uint8Array(12).fill(9);
  for (const e of [gcm, builtinGcm]) {
    const s = sealed(e, plain, iv);
    const out = new Uint8Array(1000);
    for (const at of [0, 500, 999, 1000, 1015]) {
      const bad = s.slice();
      bad[at] ^= 0x10;
      assertEquals(e.open(key, iv, aad, bad, out, 0), false, `${e.name} byte ${at}`);
    }
    const otherIv = iv.slice();
    otherIv[11] ^= 1;
    assertEquals(e.open(key, otherIv, aad, s, out, 0), false);
    assertEquals(e.open(key, iv, new TextEncoder().encode("blob-1235"), s, out, 0), false);
    assertEquals(e.open(key, iv, aad, s.subarray(0, 10), out, 0), false);
  }
});

Deno.test("gcm: keys sealed with a random nonce open only under the same key and data", () => {
  const dk = crypto.getRandomValues(new Uint8Array(32));
  const a = sealWithNonce(key, dk, aad);
  const b = sealWithNonce(key, dk, aad);
  assert(a.some((x, i) => x !== b[i]), "a fresh nonce each time");
  assertEquals(openWithNonce(key, a, aad), dk);
  let refused = 0;
  for (const [k, d] of [[key.map((x) => x ^ 1), aad], [key, new Uint8Array(0)]] as const) {
    try {
      openWithNonce(k, a, d);
    } catch {
      refused++;
    }
  }
  assertEquals(refused, 2);
});
