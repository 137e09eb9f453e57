/**
 * AES-256-GCM, one message at a time, synchronously: the primitive under the `seg1` segments,
 * the keyring's and the key service's wrapped keys.
 *
 * Two engines give the same bytes. OpenSSL's libcrypto (libcrypto.so.3, part of every Debian and
 * Ubuntu system through libssl3) is called through Deno's FFI when the library loads: it runs on
 * AES-NI/VAES and measured ~10× the throughput of the others on this project's machines. Deno's
 * own implementations (node:crypto here; WebCrypto for runs of segments, segments.ts) take over
 * when it does not, or when `MAXIOFS_CRYPTO=builtin` asks for them (tests run both).
 */
import { createCipheriv, createDecipheriv } from "node:crypto";

export const GCM_TAG_BYTES = 16;

export interface GcmEngine {
  readonly name: "openssl" | "builtin";
  /**
   * Writes `ciphertext || tag` of `plain` into `out` at `at` (`plain.length + 16` bytes);
   * returns the bytes written.
   */
  seal(
    key: Uint8Array,
    iv: Uint8Array,
    aad: Uint8Array | null,
    plain: Uint8Array,
    out: Uint8Array,
    at: number,
  ): number;
  /**
   * Writes the plaintext of `sealed` (`ciphertext || tag`) into `out` at `at`; returns false
   * (and leaves garbage there) when it is not authentic.
   */
  open(
    key: Uint8Array,
    iv: Uint8Array,
    aad: Uint8Array | null,
    sealed: Uint8Array,
    out: Uint8Array,
    at: number,
  ): boolean;
}

const builtin: GcmEngine = {
  name: "builtin",
  seal(key, iv, aad, plain, out, at) {
    const c = createCipheriv("aes-256-gcm", key, iv);
    if (aad) c.setAAD(aad);
    const ct = c.update(plain);
    out.set(ct, at);
    const tail = c.final();
    out.set(tail, at + ct.length);
    const n = ct.length + tail.length;
    out.set(c.getAuthTag(), at + n);
    return n + GCM_TAG_BYTES;
  },
  open(key, iv, aad, sealed, out, at) {
    if (sealed.byteLength < GCM_TAG_BYTES) return false;
    const ctLen = sealed.byteLength - GCM_TAG_BYTES;
    const d = createDecipheriv("aes-256-gcm", key, iv);
    if (aad) d.setAAD(aad);
    d.setAuthTag(sealed.subarray(ctLen));
    try {
      const a = d.update(sealed.subarray(0, ctLen));
      out.set(a, at);
      out.set(d.final(), at + a.length);
      return true;
    } catch {
      return false;
    }
  },
};

const SYMBOLS = {
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_fetch: { parameters: ["pointer", "buffer", "pointer"], result: "pointer" },
  EVP_CipherInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_CipherUpdate: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_CipherFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
} as const;

const EVP_CTRL_GCM_GET_TAG = 0x10;
const EVP_CTRL_GCM_SET_TAG = 0x11;

/** OpenSSL's engine, or null when libcrypto cannot be loaded or fails its self-check. */
function loadOpenSsl(): GcmEngine | null {
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen("libcrypto.so.3", SYMBOLS);
  } catch {
    return null;
  }
  const s = lib.symbols;
  // One context for the process: JavaScript calls it one operation at a time.
  const ctx = s.EVP_CIPHER_CTX_new();
  // Fetched once: the legacy EVP_aes_256_gcm() is fetched again at every init (~5 µs).
  const cipher = s.EVP_CIPHER_fetch(null, new TextEncoder().encode("AES-256-GCM\0"), null);
  if (!ctx || !cipher) return null;
  const outl = new Int32Array(1);
  const tagBuf = new Uint8Array(GCM_TAG_BYTES);
  const none = new Uint8Array(0);
  const fail = (what: string): never => {
    throw new Error(`OpenSSL AES-GCM: ${what} failed`);
  };
  const init = (key: Uint8Array, iv: Uint8Array, enc: number) => {
    if (key.byteLength !== 32 || iv.byteLength !== 12) fail("key or nonce length");
    if (s.EVP_CipherInit_ex(ctx, cipher, null, key, iv, enc) !== 1) fail("init");
  };
  const engine: GcmEngine = {
    name: "openssl",
    seal(key, iv, aad, plain, out, at) {
      init(key, iv, 1);
      if (aad?.byteLength && s.EVP_CipherUpdate(ctx, null, outl, aad, aad.byteLength) !== 1) {
        fail("aad");
      }
      let n = 0;
      if (plain.byteLength) {
        const dst = out.subarray(at, at + plain.byteLength);
        if (s.EVP_CipherUpdate(ctx, dst, outl, plain, plain.byteLength) !== 1) fail("update");
        n = outl[0];
      }
      if (s.EVP_CipherFinal_ex(ctx, out.subarray(at + n), outl) !== 1) fail("final");
      n += outl[0];
      if (s.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_BYTES, tagBuf) !== 1) {
        fail("tag");
      }
      out.set(tagBuf, at + n);
      return n + GCM_TAG_BYTES;
    },
    open(key, iv, aad, sealed, out, at) {
      if (sealed.byteLength < GCM_TAG_BYTES) return false;
      const ctLen = sealed.byteLength - GCM_TAG_BYTES;
      init(key, iv, 0);
      if (aad?.byteLength && s.EVP_CipherUpdate(ctx, null, outl, aad, aad.byteLength) !== 1) {
        fail("aad");
      }
      let n = 0;
      if (ctLen) {
        const dst = out.subarray(at, at + ctLen);
        if (s.EVP_CipherUpdate(ctx, dst, outl, sealed.subarray(0, ctLen), ctLen) !== 1) {
          fail("update");
        }
        n = outl[0];
      }
      tagBuf.set(sealed.subarray(ctLen));
      if (s.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_BYTES, tagBuf) !== 1) {
        fail("tag");
      }
      return s.EVP_CipherFinal_ex(ctx, ctLen ? out.subarray(at + n) : none, outl) === 1;
    },
  };
  return selfCheck(engine) ? engine : null;
}

/** The engine gives the bytes the built-in one gives, and refuses a flipped bit. */
function selfCheck(e: GcmEngine): boolean {
  try {
    const key = new Uint8Array(32).map((_, i) => i);
    const iv = new Uint8Array(12).map((_, i) => 100 + i);
    const aad = new TextEncoder().encode("self-check");
    const plain = new Uint8Array(1000).map((_, i) => i * 7);
    const a = new Uint8Array(1016);
    const b = new Uint8Array(1016);
    e.seal(key, iv, aad, plain, a, 0);
    builtin.seal(key, iv, aad, plain, b, 0);
    if (!a.every((x, i) => x === b[i])) return false;
    const back = new Uint8Array(1000);
    if (!e.open(key, iv, aad, a, back, 0) || !back.every((x, i) => x === plain[i])) return false;
    a[5] ^= 1;
    return !e.open(key, iv, aad, a, back, 0);
  } catch {
    return false;
  }
}

function choose(): GcmEngine {
  let wanted: string | undefined;
  try {
    wanted = Deno.env.get("MAXIOFS_CRYPTO");
  } catch { /* no env permission: the default */ }
  if (wanted === "builtin") return builtin;
  return loadOpenSsl() ?? builtin;
}

/** The engine this process uses. */
export const gcm: GcmEngine = choose();

/** The built-in engine (tests compare the two). */
export const builtinGcm: GcmEngine = builtin;

/** `nonce (12) || ciphertext || tag (16)` of `plain` under `key`, with a random nonce. */
export function sealWithNonce(key: Uint8Array, plain: Uint8Array, aad: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + plain.byteLength + GCM_TAG_BYTES);
  const nonce = crypto.getRandomValues(out.subarray(0, 12));
  gcm.seal(key, nonce, aad, plain, out, 12);
  return out;
}

/** Opens what `sealWithNonce` sealed; throws when the key or the additional data differ. */
export function openWithNonce(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  if (sealed.byteLength < 12 + GCM_TAG_BYTES) throw new Error("Cannot open: too short");
  const out = new Uint8Array(sealed.byteLength - 12 - GCM_TAG_BYTES);
  if (!gcm.open(key, sealed.subarray(0, 12), aad, sealed.subarray(12), out, 0)) {
    throw new Error("Cannot open: authentication failed");
  }
  return out;
}
