/** Lower-case hex of bytes, and random hex ids: the one place the server spells bytes as hex. */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** `bytes` as lower-case hex (a table lookup per byte: ids and digests are built per request). */
export function hex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

/** `n` random bytes from the system's CSPRNG, as 2 × `n` lower-case hex digits. */
export function randomHex(n: number): string {
  return hex(crypto.getRandomValues(new Uint8Array(n)));
}
