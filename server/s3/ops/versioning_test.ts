/**
 * `versionXml` writes what the generic XML builder wrote for a ListObjectVersions entry, byte
 * for byte: versions and markers, checksums, characters that need escaping, url encoding, times
 * in and out of the fast formatter's range.
 */
import { assertEquals } from "../../../tests/_helpers/assert.ts";
import { buildElement, type XmlObject } from "../xml.ts";
import { isoTime } from "../headers.ts";
import { ListTimes } from "./list.ts";
import { versionXml } from "./versioning.ts";
import type { ObjectRecord, VersionEntry } from "../../storage/types.ts";

/** The element as the generic builder renders it (how the op wrote entries before). */
function builderXml(v: VersionEntry, encode: (s: string) => string): string {
  const r = v.rec;
  const owner = { ID: r.ownerId, DisplayName: r.ownerId };
  const base: XmlObject = {
    Key: encode(r.key),
    VersionId: r.versionId,
    IsLatest: v.isLatest,
    LastModified: isoTime(r.lastModified),
  };
  if (r.deleteMarker) return buildElement("DeleteMarker", { ...base, Owner: owner });
  const e: XmlObject = {
    ...base,
    ETag: r.etag,
    Size: r.size,
    StorageClass: r.storageClass || "STANDARD",
    Owner: owner,
  };
  if (r.checksum) {
    e.ChecksumAlgorithm = r.checksum.algorithm;
    e.ChecksumType = r.checksum.type;
  }
  return buildElement("Version", e);
}

const rec = (r: Partial<ObjectRecord>): ObjectRecord => ({
  v: 1,
  key: "k",
  versionId: "null",
  blob: null,
  size: 3,
  etag: '"0123456789abcdef0123456789abcdef"',
  lastModified: 1_700_000_000_123,
  content: {},
  meta: {},
  storageClass: "STANDARD",
  ownerId: "owner",
  ...r,
} as ObjectRecord);

Deno.test("versionXml: the same bytes as the generic builder", () => {
  const entries: VersionEntry[] = [
    { rec: rec({}), isLatest: true },
    { rec: rec({ key: "a&b <c> \"d\" 'e'\r", versionId: "0f".repeat(16) }), isLatest: false },
    { rec: rec({ deleteMarker: true, size: 0, etag: "" }), isLatest: true },
    { rec: rec({ deleteMarker: true, lastModified: 1_700_000_000_123 }), isLatest: false },
    { rec: rec({ storageClass: "" as never, lastModified: 1_700_000_000_009 }), isLatest: false },
    {
      rec: rec({
        etag: '"abc-2"',
        checksum: { algorithm: "CRC32", value: "AAAAAA==", type: "COMPOSITE" },
        ownerId: "o&<",
        lastModified: 1_700_000_001_000,
      } as Partial<ObjectRecord>),
      isLatest: true,
    },
    { rec: rec({ etag: 'no"quotes&' }), isLatest: true },
    { rec: rec({ lastModified: 1_700_000_000_050.5 }), isLatest: true },
    { rec: rec({ key: "é/ü", lastModified: 0 }), isLatest: true },
  ];
  const plain = (s: string) => s;
  for (const encode of [plain, encodeURIComponent]) {
    const times = new ListTimes();
    for (const v of entries) {
      assertEquals(versionXml(v, encode, times), builderXml(v, encode), JSON.stringify(v.rec));
    }
  }
});
