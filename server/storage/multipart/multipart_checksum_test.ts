import { assertEquals } from "../../../tests/_helpers/assert.ts";
import { combineCrc, multipartChecksum } from "./multipart_checksum.ts";
import {
  type ChecksumAlgorithm,
  digestOf,
  newChecksumHasher,
  toBase64,
} from "../objects/hashing.ts";
import { randomBytes } from "../../../tests/_helpers/server.ts";

const whole = (alg: ChecksumAlgorithm, b: Uint8Array) => digestOf(newChecksumHasher(alg), b);

for (const alg of ["CRC32", "CRC32C", "CRC64NVME"] as const) {
  Deno.test(`combineCrc ${alg} equals the checksum of the concatenation`, () => {
    const a = randomBytes(1000, 3);
    const b = randomBytes(777, 9);
    const ab = new Uint8Array([...a, ...b]);
    assertEquals(combineCrc(alg, whole(alg, a), whole(alg, b), b.length), whole(alg, ab));
  });

  Deno.test(`multipartChecksum FULL_OBJECT ${alg} over three parts, one empty`, () => {
    const parts = [randomBytes(4096, 1), randomBytes(1, 2), randomBytes(0, 3), randomBytes(50, 4)];
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    const got = multipartChecksum(
      alg,
      "FULL_OBJECT",
      parts.map((p) => ({ checksum: toBase64(whole(alg, p)), size: p.length })),
    );
    assertEquals(got, toBase64(whole(alg, all)));
  });
}

Deno.test("multipartChecksum COMPOSITE is the checksum of the part digests with -N", () => {
  const p1 = randomBytes(100, 1), p2 = randomBytes(200, 2);
  const d1 = whole("SHA256", p1), d2 = whole("SHA256", p2);
  const got = multipartChecksum("SHA256", "COMPOSITE", [
    { checksum: toBase64(d1), size: 100 },
    { checksum: toBase64(d2), size: 200 },
  ]);
  assertEquals(got, `${toBase64(whole("SHA256", new Uint8Array([...d1, ...d2])))}-2`);
});
