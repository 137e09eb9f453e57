/**
 * Whole-object checksums of a multipart upload, built from the part checksums without reading
 * the bytes again: COMPOSITE (a checksum of the concatenated part digests, `-N` suffix) and
 * FULL_OBJECT for the CRCs (part CRCs combined as if the bytes had been hashed in one pass).
 */
import {
  type ChecksumAlgorithm,
  digestOf,
  fromBase64,
  newChecksumHasher,
  toBase64,
} from "../objects/hashing.ts";

export type ChecksumType = "COMPOSITE" | "FULL_OBJECT";

/** Reflected polynomials of the CRCs S3 offers (all with init and xorout all ones). */
const CRC_PARAMS: Partial<Record<ChecksumAlgorithm, { width: bigint; poly: bigint }>> = {
  CRC32: { width: 32n, poly: 0xedb88320n },
  CRC32C: { width: 32n, poly: 0x82f63b78n },
  CRC64NVME: { width: 64n, poly: 0x9a6c9329ac4bc9b5n },
};

/** The checksum type an upload gets when CreateMultipartUpload names only the algorithm. */
export function defaultChecksumType(alg: ChecksumAlgorithm): ChecksumType {
  return alg === "CRC64NVME" ? "FULL_OBJECT" : "COMPOSITE";
}

/** Whether S3 offers this algorithm/type pair (full-object needs a CRC, CRC64NVME needs it). */
export function checksumTypeAllowed(alg: ChecksumAlgorithm, type: ChecksumType): boolean {
  if (type === "FULL_OBJECT") return alg in CRC_PARAMS;
  return alg !== "CRC64NVME";
}

/** a(x) * b(x) modulo the polynomial, in the reflected bit order CRCs use. */
function multModP(a: bigint, b: bigint, width: bigint, poly: bigint): bigint {
  if (a === 0n) return 0n;
  let m = 1n << (width - 1n);
  let p = 0n;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ poly : b >> 1n;
  }
  return p;
}

/** x^(8 * bytes) modulo the polynomial: the shift a CRC undergoes over `bytes` zero bytes. */
function xPow8n(bytes: number, width: bigint, poly: bigint): bigint {
  let p = 1n << (width - 1n); // x^0
  let sq = 1n << (width - 9n); // x^8: one byte
  let n = BigInt(bytes);
  while (n > 0n) {
    if (n & 1n) p = multModP(sq, p, width, poly);
    sq = multModP(sq, sq, width, poly);
    n >>= 1n;
  }
  return p;
}

function toBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function fromBig(v: bigint, width: bigint): Uint8Array {
  const n = Number(width / 8n);
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** CRC(A || B) from CRC(A), CRC(B) and the length of B (zlib's crc32_combine, any width). */
export function combineCrc(
  alg: ChecksumAlgorithm,
  crcA: Uint8Array,
  crcB: Uint8Array,
  lenB: number,
): Uint8Array {
  const p = CRC_PARAMS[alg];
  if (!p) throw new Error(`Cannot combine ${alg} checksums: not a CRC`);
  const shifted = multModP(xPow8n(lenB, p.width, p.poly), toBig(crcA), p.width, p.poly);
  return fromBig(shifted ^ toBig(crcB), p.width);
}

/**
 * The object checksum from the part checksums (base64, in object order). COMPOSITE values carry
 * the `-N` part-count suffix; FULL_OBJECT values are the plain checksum of all bytes.
 */
export function multipartChecksum(
  alg: ChecksumAlgorithm,
  type: ChecksumType,
  parts: { checksum: string; size: number }[],
): string {
  const raw = parts.map((p) => fromBase64(p.checksum) ?? new Uint8Array());
  if (type === "COMPOSITE") {
    const all = new Uint8Array(raw.reduce((n, r) => n + r.length, 0));
    let off = 0;
    for (const r of raw) {
      all.set(r, off);
      off += r.length;
    }
    return `${toBase64(digestOf(newChecksumHasher(alg), all))}-${parts.length}`;
  }
  let acc = raw[0] ?? digestOf(newChecksumHasher(alg), new Uint8Array());
  for (let i = 1; i < raw.length; i++) acc = combineCrc(alg, acc, raw[i], parts[i].size);
  return toBase64(acc);
}
