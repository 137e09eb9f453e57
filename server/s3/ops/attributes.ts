/** GetObjectAttributes: ETag, checksum, part list, storage class and size in one document. */
import { S3Error } from "../errors.ts";
import { buildXml, type XmlObject } from "../xml.ts";
import { setVersionIdHeader } from "./object_put.ts";
import { transportOf } from "./encryption.ts";
import { checkCustomerKey, customerKeyFrom, refuseSseHeaders } from "../sse.ts";
import type { OpContext, OpResult } from "../context.ts";
import { partSizesOf } from "../../storage/mod.ts";
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

/** The `ObjectParts` element of a multipart object (paged by part number). */
async function objectParts(ctx: OpContext, rec: ObjectRecord): Promise<XmlObject | undefined> {
  const h = ctx.req.headers;
  const sizes = partSizesOf(rec);
  if (!sizes) return undefined; // single-part objects have no parts
  const maxParts = intHeader(h, "x-amz-max-parts", 1000, 1000);
  const marker = intHeader(h, "x-amz-part-number-marker", 0, 10000);
  // The SDK's TotalPartsCount travels as <PartsCount>.
  const out: XmlObject = { PartsCount: rec.partsCount ?? sizes.length };
  out.PartNumberMarker = marker;
  // General purpose buckets list parts only for objects with an additional checksum (AWS). The
  // part list (inline, or chunked beyond 200 parts) is loaded only then: part numbers and
  // checksums are not in the size list.
  const parts = rec.parts ?? (rec.checksum ? await ctx.deps.storage.objectParts(rec) : null);
  const numbers = parts ? parts.map((p) => p.n) : sizes.map((_, i) => i + 1);
  const after = numbers.filter((n) => n > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  if (truncated && page.length) out.NextPartNumberMarker = page[page.length - 1];
  out.MaxParts = maxParts;
  out.IsTruncated = truncated;
  if (!parts || !rec.checksum) return out;
  const alg = rec.checksum.algorithm;
  out.Part = parts.filter((p) => p.n > marker).slice(0, maxParts).map((p) => {
    const part: XmlObject = { PartNumber: p.n, Size: p.size };
    if (p.checksum) part[`Checksum${alg}`] = p.checksum;
    return part;
  });
  return out;
}

export async function getObjectAttributes(ctx: OpContext): Promise<OpResult> {
  const h = ctx.req.headers;
  const wanted = parseObjectAttributes(h.get("x-amz-object-attributes"));
  refuseSseHeaders(h);
  // An SSE-C object's attributes need its key, as its bytes do.
  const customer = customerKeyFrom(h, transportOf(ctx));
  // A chunked part list vanishes when the object is replaced between reading the record and
  // loading the list: storage then reads the new record and this runs again.
  const { rec, parts } = await ctx.deps.storage.readObject(
    await ctx.bucket(),
    ctx.ep.key!,
    ctx.ep.query.get("versionId"),
    async (rec) => {
      checkCustomerKey(rec.enc, customer);
      return {
        rec,
        parts: wanted.has("ObjectParts") ? await objectParts(ctx, rec) : undefined,
      };
    },
  );
  const body: XmlObject = {};
  // AWS answers the ETag of GetObjectAttributes without quotes.
  if (wanted.has("ETag")) body.ETag = rec.etag.replace(/^"|"$/g, "");
  if (wanted.has("Checksum") && rec.checksum) {
    body.Checksum = {
      [`Checksum${rec.checksum.algorithm}`]: rec.checksum.value,
      ChecksumType: rec.checksum.type,
    };
  }
  if (parts) body.ObjectParts = parts;
  if (wanted.has("StorageClass")) body.StorageClass = rec.storageClass || "STANDARD";
  if (wanted.has("ObjectSize")) body.ObjectSize = rec.size;
  const headers: Record<string, string> = {
    "last-modified": new Date(rec.lastModified).toUTCString(),
  };
  setVersionIdHeader(headers, rec, await ctx.bucket());
  return { headers, xml: buildXml("GetObjectAttributesResponse", body) };
}
