/** GetObjectAttributes: ETag, checksum, part list, storage class and size in one document. */
import { S3Error } from "../errors.ts";
import { buildXml, type XmlObject } from "../xml.ts";
import { readTarget } from "./object_get.ts";
import type { OpContext, OpResult } from "../context.ts";
import { partSizesOf } from "../../storage/parts.ts";
import type { ObjectRecord } from "../../storage/types.ts";

export const OBJECT_ATTRIBUTES = [
  "ETag",
  "Checksum",
  "ObjectParts",
  "StorageClass",
  "ObjectSize",
] as const;
export type ObjectAttribute = typeof OBJECT_ATTRIBUTES[number];

/** Parses `x-amz-object-attributes` (one header, comma separated, or repeated). */
export function parseObjectAttributes(header: string | null): Set<ObjectAttribute> {
  const names = (header ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) {
    throw new S3Error("InvalidArgument", {
      message: "Missing required header for this request: x-amz-object-attributes",
      fields: { ArgumentName: "x-amz-object-attributes" },
    });
  }
  const out = new Set<ObjectAttribute>();
  for (const n of names) {
    if (!(OBJECT_ATTRIBUTES as readonly string[]).includes(n)) {
      throw new S3Error("InvalidArgument", {
        message: "Invalid attribute name specified.",
        fields: { ArgumentName: "x-amz-object-attributes", ArgumentValue: n },
      });
    }
    out.add(n as ObjectAttribute);
  }
  return out;
}

function intHeader(h: Headers, name: string, def: number, max: number): number {
  const v = h.get(name);
  if (v === null || v.trim() === "") return def;
  if (!/^\d+$/.test(v.trim())) {
    throw new S3Error("InvalidArgument", {
      message: `Provided ${name} not an integer or within integer range`,
      fields: { ArgumentName: name, ArgumentValue: v },
    });
  }
  return Math.min(Number(v.trim()), max);
}

/** One entry per part: inline part refs carry checksums; chunked lists give sizes only. */
function partEntries(rec: ObjectRecord): { n: number; size: number; checksum?: string }[] | null {
  if (rec.parts) return rec.parts.map((p) => ({ n: p.n, size: p.size, checksum: p.checksum }));
  const sizes = partSizesOf(rec);
  return sizes ? sizes.map((size, i) => ({ n: i + 1, size })) : null;
}

/** The `ObjectParts` element of a multipart object (paged by part number). */
function objectParts(rec: ObjectRecord, h: Headers): XmlObject | undefined {
  const parts = partEntries(rec);
  if (!parts) return undefined; // single-part objects have no parts
  const maxParts = intHeader(h, "x-amz-max-parts", 1000, 1000);
  const marker = intHeader(h, "x-amz-part-number-marker", 0, 10000);
  const after = parts.filter((p) => p.n > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  // The SDK's TotalPartsCount travels as <PartsCount>.
  const out: XmlObject = { PartsCount: rec.partsCount ?? parts.length };
  out.PartNumberMarker = marker;
  if (truncated && page.length) out.NextPartNumberMarker = page[page.length - 1].n;
  out.MaxParts = maxParts;
  out.IsTruncated = truncated;
  // General purpose buckets list parts only for objects with an additional checksum (AWS).
  if (!rec.checksum) return out;
  out.Part = page.map((p) => {
    const part: XmlObject = { PartNumber: p.n, Size: p.size };
    if (p.checksum && rec.checksum) part[`Checksum${rec.checksum.algorithm}`] = p.checksum;
    return part;
  });
  return out;
}

export async function getObjectAttributes(ctx: OpContext): Promise<OpResult> {
  const h = ctx.req.headers;
  const wanted = parseObjectAttributes(h.get("x-amz-object-attributes"));
  const rec = await readTarget(ctx);
  const body: XmlObject = {};
  // AWS answers the ETag of GetObjectAttributes without quotes.
  if (wanted.has("ETag")) body.ETag = rec.etag.replace(/^"|"$/g, "");
  if (wanted.has("Checksum") && rec.checksum) {
    body.Checksum = {
      [`Checksum${rec.checksum.algorithm}`]: rec.checksum.value,
      ChecksumType: rec.checksum.type,
    };
  }
  if (wanted.has("ObjectParts")) {
    const parts = objectParts(rec, h);
    if (parts) body.ObjectParts = parts;
  }
  if (wanted.has("StorageClass")) body.StorageClass = rec.storageClass || "STANDARD";
  if (wanted.has("ObjectSize")) body.ObjectSize = rec.size;
  const headers: Record<string, string> = {
    "last-modified": new Date(rec.lastModified).toUTCString(),
  };
  if (rec.versionId !== "null") headers["x-amz-version-id"] = rec.versionId;
  return { headers, xml: buildXml("GetObjectAttributesResponse", body) };
}
