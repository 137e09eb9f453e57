/** Lower-case hex of bytes, and random hex ids: the one place the server spells bytes as hex. */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** `bytes` as lower-case hex (a table lookup per byte: ids and digests are built per request). */
export function hex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

/**
 * CSPRNG bytes drawn ahead in one call and handed out once each (then zeroed): a request takes
 * two or three ids, and one `getRandomValues` call per id cost ~1.2 µs against ~0.1 µs from here.
 */
const POOL = new Uint8Array(4096);
let poolAt = POOL.length;

/** `n` random bytes from the system's CSPRNG, as 2 × `n` lower-case hex digits. */
export function randomHex(n: number): string {
  if (n > POOL.length) return hex(crypto.getRandomValues(new Uint8Array(n)));
  if (poolAt + n > POOL.length) {
    crypto.getRandomValues(POOL);
    poolAt = 0;
  }
  const s = hex(POOL.subarray(poolAt, poolAt + n));
  POOL.fill(0, poolAt, poolAt + n);
  poolAt += n;
  return s;
}
