/** Object and bucket tag parsing and limits (`InvalidTag`). */
import { S3Error } from "./errors.ts";
import { buildXml, child, children, type XmlNode } from "./xml.ts";

export const MAX_OBJECT_TAGS = 10;
export const MAX_BUCKET_TAGS = 50;

/** Validates a tag set against S3's limits. */
export function validateTags(tags: [string, string][], max: number): Record<string, string> {
  if (tags.length > max) {
    throw new S3Error("InvalidTag", {
      message: max === MAX_BUCKET_TAGS
        ? `Bucket tag count cannot be greater than ${max}`
        : `Object tags cannot be greater than ${max}`,
    });
  }
  const out: Record<string, string> = {};
  for (const [k, v] of tags) {
    if (k.length === 0 || [...k].length > 128) {
      throw new S3Error("InvalidTag", { message: "The TagKey you have provided is invalid" });
    }
    if ([...v].length > 256) {
      throw new S3Error("InvalidTag", { message: "The TagValue you have provided is invalid" });
    }
    if (k.startsWith("aws:")) {
      throw new S3Error("InvalidTag", { message: "Your TagKey cannot be prefixed with aws:" });
    }
    if (Object.hasOwn(out, k)) {
      throw new S3Error("InvalidTag", {
        message: "Cannot provide multiple Tags with the same key",
      });
    }
    out[k] = v;
  }
  return out;
}

/** Parses the `x-amz-tagging` header (URL query encoding). */
export function parseTaggingHeader(v: string | null): Record<string, string> | undefined {
  if (v === null) return undefined;
  const pairs: [string, string][] = [];
  for (const part of v.split("&")) {
    if (!part) continue;
    const i = part.indexOf("=");
    try {
      const k = decodeURIComponent((i < 0 ? part : part.slice(0, i)).replace(/\+/g, " "));
      const val = i < 0 ? "" : decodeURIComponent(part.slice(i + 1).replace(/\+/g, " "));
      pairs.push([k, val]);
    } catch {
      throw new S3Error("InvalidArgument", {
        message:
          "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
      });
    }
  }
  return validateTags(pairs, MAX_OBJECT_TAGS);
}

/** Parses a `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>` document. */
export function parseTaggingXml(doc: XmlNode, max: number): Record<string, string> {
  if (doc.name !== "Tagging") throw new S3Error("MalformedXML");
  const set = child(doc, "TagSet");
  if (!set) throw new S3Error("MalformedXML");
  const pairs: [string, string][] = [];
  for (const t of children(set, "Tag")) {
    const k = child(t, "Key");
    const v = child(t, "Value");
    if (!k || !v) throw new S3Error("MalformedXML");
    pairs.push([k.text, v.text]);
  }
  return validateTags(pairs, max);
}

/** Renders a tag set as S3's `Tagging` document, sorted by key as S3 returns it. */
export function taggingXml(tags: Record<string, string> | undefined): string {
  const sorted = Object.entries(tags ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return buildXml("Tagging", {
    TagSet: { Tag: sorted.map(([Key, Value]) => ({ Key, Value })) },
  });
}
