/**
 * Conformance cases: additional checksums of multipart uploads, computed here with node's hashes:
 * COMPOSITE (a checksum of the part checksums, `-N`) and FULL_OBJECT (a CRC of all the bytes).
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { assertEquals } from "../../../tests/_helpers/assert.ts";
import {
  bodyOf,
  bucket,
  concat,
  type ConformanceCase,
  expectCode,
  OWNER,
  randomBytes,
  read,
  sha256Base64,
} from "./harness.ts";
import { uploadPart } from "./multipart.ts";

/** A CRC32 as S3 shows it: the 4 big-endian bytes, base64. */
function crc32Base64(b: Uint8Array): string {
  const v = crc32(b);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v >>> 0);
  return btoa(String.fromCharCode(...out));
}

export const CHECKSUM_CASES: ConformanceCase[] = [
  {
    name: "checksums: multipart SHA256 composite and CRC32 full-object checksums",
    async run({ be }) {
      const b = await bucket(be, "checksums");
      const datas = [randomBytes(3000), randomBytes(10), randomBytes(777)];

      const sha = await be.createMultipartUpload(b, {
        key: "sha",
        content: {},
        meta: {},
        ownerId: OWNER,
        checksum: { algorithm: "SHA256", type: "COMPOSITE" },
      });
      await expectCode(
        () =>
          be.uploadPart(b, {
            key: "sha",
            uploadId: sha.uploadId,
            partNumber: 1,
            body: bodyOf(datas[0]),
            contentLength: datas[0].length,
            checksum: { algorithm: "CRC32", expected: () => undefined },
          }),
        "InvalidRequest",
      );
      for (const [i, d] of datas.entries()) await uploadPart(be, b, "sha", sha.uploadId, i + 1, d);
      const page = await be.listParts(b, "sha", sha.uploadId, { marker: 0, maxParts: 10 });
      assertEquals(
        page.parts.map((p) => p.checksum),
        datas.map((d) => ({ algorithm: "SHA256" as const, value: sha256Base64(d) })),
      );
      const listed = page.parts.map((p) => ({
        n: p.n,
        etag: p.etag,
        checksums: { SHA256: sha256Base64(datas[p.n - 1]) },
      }));
      const wrong = listed.map((p, i) =>
        i === 1 ? { ...p, checksums: { SHA256: sha256Base64(datas[0]) } } : p
      );
      const complete = (parts: typeof listed, expected?: string) =>
        be.completeMultipartUpload(b, {
          key: "sha",
          uploadId: sha.uploadId,
          parts,
          minPartSize: 0,
          expectedChecksum: expected === undefined
            ? undefined
            : { algorithm: "SHA256", value: expected },
        });
      await expectCode(() => complete(wrong), "InvalidPart");
      const h = createHash("sha256");
      for (const d of datas) h.update(createHash("sha256").update(d).digest());
      const composite = `${h.digest("base64")}-3`;
      await expectCode(() => complete(listed, `${sha256Base64(datas[0])}-3`), "BadDigest");
      const rec = await complete(listed, composite);
      assertEquals(rec.checksum, { algorithm: "SHA256", type: "COMPOSITE", value: composite });
      assertEquals((await be.getObjectRecord(b, "sha")).checksum?.value, composite);

      const crc = await be.createMultipartUpload(b, {
        key: "crc",
        content: {},
        meta: {},
        ownerId: OWNER,
        checksum: { algorithm: "CRC32", type: "FULL_OBJECT" },
      });
      const parts = [];
      for (const [i, d] of datas.entries()) {
        parts.push(await uploadPart(be, b, "crc", crc.uploadId, i + 1, d));
      }
      assertEquals(parts.map((p) => p.checksum?.value), datas.map(crc32Base64));
      const whole = await be.completeMultipartUpload(b, {
        key: "crc",
        uploadId: crc.uploadId,
        parts: parts.map((p) => ({ n: p.n, etag: p.etag, checksums: {} })),
        minPartSize: 0,
      });
      const all = concat(datas);
      assertEquals(whole.checksum, {
        algorithm: "CRC32",
        type: "FULL_OBJECT",
        value: crc32Base64(all),
      });
      assertEquals(await read(be, await be.getObjectRecord(b, "crc")), all);
    },
  },
];
