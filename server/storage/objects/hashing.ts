/**
 * Streaming digests for object data: MD5 (ETag), SHA-256 (payload signing) and the S3
 * additional checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256). Native code where Deno has it.
 */
import { hex } from "../../hex.ts";
import { S3Error } from "../../s3/errors.ts";
import { createHash } from "node:crypto";
import zlib from "node:zlib";
import { Buffer } from "node:buffer";

export const CHECKSUM_ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const;
export type ChecksumAlgorithm = typeof CHECKSUM_ALGORITHMS[number];

export interface Hasher {
  update(chunk: Uint8Array): void;
  /** Raw digest bytes. */
  digest(): Uint8Array;
}

function nodeHasher(alg: "md5" | "sha1" | "sha256"): Hasher {
  const h = createHash(alg);
  return {
    update: (c) => void h.update(c),
    digest: () => new Uint8Array(h.digest()),
  };
}

const crc32Native = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;

function u32be(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}

function crc32Hasher(): Hasher {
  let v = 0;
  return {
    update: (c) => {
      v = crc32Native ? crc32Native(c, v) : crc32Table(CRC32_TABLE, c, v);
    },
    digest: () => u32be(v),
  };
}

function makeTable32(poly: number): Uint32Array {
  const t = new Uint32Array(256 * 8);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 8; s++) {
      t[s * 256 + i] = (t[(s - 1) * 256 + i] >>> 8) ^ t[t[(s - 1) * 256 + i] & 0xff];
    }
  }
  return t;
}
const CRC32_TABLE = makeTable32(0xedb88320);
const CRC32C_TABLE = makeTable32(0x82f63b78);

/** Slice-by-8 reflected CRC-32 over a table built by `makeTable32`. */
function crc32Table(t: Uint32Array, data: Uint8Array, prev: number): number {
  let crc = ~prev >>> 0;
  let i = 0;
  const n = data.length;
  while (n - i >= 8) {
    const a = (crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>>
      0;
    crc = t[7 * 256 + (a & 0xff)] ^ t[6 * 256 + ((a >>> 8) & 0xff)] ^
      t[5 * 256 + ((a >>> 16) & 0xff)] ^
      t[4 * 256 + (a >>> 24)] ^ t[3 * 256 + data[i + 4]] ^ t[2 * 256 + data[i + 5]] ^
      t[256 + data[i + 6]] ^ t[data[i + 7]];
    i += 8;
  }
  for (; i < n; i++) crc = t[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

function crc32cHasher(): Hasher {
  let v = 0;
  return { update: (c) => void (v = crc32Table(CRC32C_TABLE, c, v)), digest: () => u32be(v) };
}

// CRC-64/NVME: reflected, poly 0x9a6c9329ac4bc9b5, init and xorout all ones.
const CRC64_TABLE = (() => {
  const poly = 0x9a6c9329ac4bc9b5n;
  const t = new BigUint64Array(256);
  for (let i = 0n; i < 256n; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    t[Number(i)] = c;
  }
  // Split into two u32 halves for speed (BigInt per byte is slow).
  const lo = new Uint32Array(256), hi = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    lo[i] = Number(t[i] & 0xffffffffn);
    hi[i] = Number(t[i] >> 32n);
  }
  return { lo, hi };
})();

function crc64nvmeHasher(): Hasher {
  let lo = 0xffffffff, hi = 0xffffffff;
  const { lo: tlo, hi: thi } = CRC64_TABLE;
  return {
    update: (c) => {
      for (let i = 0; i < c.length; i++) {
        const idx = (lo ^ c[i]) & 0xff;
        // crc >> 8 on a 64-bit value held as (hi, lo)
        const nlo = ((lo >>> 8) | ((hi & 0xff) << 24)) >>> 0;
        const nhi = hi >>> 8;
        lo = (nlo ^ tlo[idx]) >>> 0;
        hi = (nhi ^ thi[idx]) >>> 0;
      }
    },
    digest: () => {
      const b = new Uint8Array(8);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, ~hi >>> 0);
      dv.setUint32(4, ~lo >>> 0);
      return b;
    },
  };
}

export function newChecksumHasher(alg: ChecksumAlgorithm): Hasher {
  switch (alg) {
    case "CRC32":
      return crc32Hasher();
    case "CRC32C":
      return crc32cHasher();
    case "CRC64NVME":
      return crc64nvmeHasher();
    case "SHA1":
      return nodeHasher("sha1");
    case "SHA256":
      return nodeHasher("sha256");
  }
}

export const newMd5 = (): Hasher => nodeHasher("md5");
export const newSha256 = (): Hasher => nodeHasher("sha256");

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b).toString("base64");
}
export const toHex = hex;
export function fromBase64(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  return new Uint8Array(Buffer.from(s, "base64"));
}

/** Digest length in bytes for each checksum algorithm (for validating header values). */
export const CHECKSUM_LENGTH: Record<ChecksumAlgorithm, number> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

export function checksumHeaderName(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

/** One-shot digest of a whole buffer. */
export function digestOf(h: Hasher, data: Uint8Array): Uint8Array {
  h.update(data);
  return h.digest();
}

/** The 16 bytes of a Content-MD5 value (absent: null); `InvalidDigest` when it is not one. */
export function parseContentMd5(value: string | null | undefined): Uint8Array | null {
  if (value === null || value === undefined) return null;
  const md5 = fromBase64(value.trim());
  if (!md5 || md5.length !== 16) throw new S3Error("InvalidDigest");
  return md5;
}

/** `BadDigest` when a Content-MD5 was given and the body's MD5 differs. */
export function verifyMd5(expected: Uint8Array | null, digest: Uint8Array): void {
  if (expected && toHex(expected) !== toHex(digest)) throw new S3Error("BadDigest");
}

/** `BadDigest` naming the algorithm when an expected checksum differs from the computed one. */
export function verifyChecksum(
  algorithm: ChecksumAlgorithm,
  expected: string | undefined,
  actual: string,
): void {
  if (expected !== undefined && expected !== actual) {
    throw new S3Error("BadDigest", {
      message: `The ${algorithm} you specified did not match the calculated checksum.`,
    });
  }
}
