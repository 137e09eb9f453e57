/**
 * The lifecycle configuration (Get/PutBucketLifecycleConfiguration) as the console's rule editor
 * sees it: rules read from S3's document and written back whole. What the editor does not show
 * (object size filters, transitions) is kept as written, so saving one rule never drops another
 * rule's settings. Read with small regular expressions, like access_xml.ts.
 */
import { blocks, esc, tagText } from "./access_xml.ts";

const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

export type Expiration =
  | { kind: "none" }
  | { kind: "days"; days: number }
  /** `YYYY-MM-DD`: S3 takes midnight UTC of that day. */
  | { kind: "date"; date: string }
  /** ExpiredObjectDeleteMarker: removes delete markers left with no version behind them. */
  | { kind: "deleteMarkers" };

export interface LifecycleRule {
  id: string;
  enabled: boolean;
  /** "" for every object. */
  prefix: string;
  tags: [string, string][];
  /** ObjectSizeGreaterThan / ObjectSizeLessThan, kept as read. */
  sizeGt?: number;
  sizeLt?: number;
  expiration: Expiration;
  /** NoncurrentVersionExpiration: days after a version stops being current. */
  noncurrentDays?: number;
  /** NewerNoncurrentVersions: how many noncurrent versions are kept whatever their age. */
  newerNoncurrent?: number;
  /** AbortIncompleteMultipartUpload: days after an upload started. */
  abortDays?: number;
  /** Transition and NoncurrentVersionTransition elements, as S3 returned them. */
  transitionsXml: string;
}

/** An empty rule for the "Add rule" form. */
export function newRule(id = ""): LifecycleRule {
  return {
    id,
    enabled: true,
    prefix: "",
    tags: [],
    expiration: { kind: "none" },
    transitionsXml: "",
  };
}

const num = (s: string): number | undefined => s === "" ? undefined : Number(s);

function elements(xml: string, tag: string): string[] {
  return Array.from(
    xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>[\\s\\S]*?</${tag}>|<${tag}\\s*/>`, "g")),
  ).map((m) => m[0]);
}

function parseRule(r: string): LifecycleRule {
  // The filter's elements, else a legacy rule-level <Prefix> (outside any <Filter>).
  const filter = blocks(r, "Filter")[0] ?? "";
  const outside = r.replace(/<Filter(?:\s[^>]*)?>[\s\S]*?<\/Filter>/, "");
  const prefix = filter ? tagText(filter, "Prefix") : tagText(outside, "Prefix");
  const tags = blocks(filter, "Tag").map((t) =>
    [tagText(t, "Key"), tagText(t, "Value")] as [string, string]
  );
  const exp = blocks(r, "Expiration")[0];
  let expiration: Expiration = { kind: "none" };
  if (exp !== undefined) {
    if (tagText(exp, "Days")) expiration = { kind: "days", days: Number(tagText(exp, "Days")) };
    else if (tagText(exp, "Date")) {
      expiration = { kind: "date", date: tagText(exp, "Date").slice(0, 10) };
    } else if (tagText(exp, "ExpiredObjectDeleteMarker") === "true") {
      expiration = { kind: "deleteMarkers" };
    }
  }
  const nve = blocks(r, "NoncurrentVersionExpiration")[0] ?? "";
  const abort = blocks(r, "AbortIncompleteMultipartUpload")[0] ?? "";
  const rule: LifecycleRule = {
    id: tagText(r, "ID"),
    enabled: tagText(r, "Status") === "Enabled",
    prefix,
    tags,
    expiration,
    transitionsXml: [
      ...elements(r, "Transition"),
      ...elements(r, "NoncurrentVersionTransition"),
    ].join(""),
  };
  const gt = num(tagText(filter, "ObjectSizeGreaterThan"));
  const lt = num(tagText(filter, "ObjectSizeLessThan"));
  const nd = num(tagText(nve, "NoncurrentDays"));
  const newer = num(tagText(nve, "NewerNoncurrentVersions"));
  const ad = num(tagText(abort, "DaysAfterInitiation"));
  if (gt !== undefined) rule.sizeGt = gt;
  if (lt !== undefined) rule.sizeLt = lt;
  if (nd !== undefined) rule.noncurrentDays = nd;
  if (newer !== undefined) rule.newerNoncurrent = newer;
  if (ad !== undefined) rule.abortDays = ad;
  return rule;
}

/** The rules of a GetBucketLifecycleConfiguration answer ("" for none). */
export function parseLifecycle(xml: string): LifecycleRule[] {
  return blocks(xml, "Rule").map(parseRule);
}

function filterXml(r: LifecycleRule): string {
  const preds: string[] = [];
  if (r.prefix) preds.push(`<Prefix>${esc(r.prefix)}</Prefix>`);
  for (const [k, v] of r.tags) {
    preds.push(`<Tag><Key>${esc(k)}</Key><Value>${esc(v)}</Value></Tag>`);
  }
  if (r.sizeGt !== undefined) {
    preds.push(`<ObjectSizeGreaterThan>${r.sizeGt}</ObjectSizeGreaterThan>`);
  }
  if (r.sizeLt !== undefined) preds.push(`<ObjectSizeLessThan>${r.sizeLt}</ObjectSizeLessThan>`);
  // S3 takes one predicate as is; several go inside <And>.
  return `<Filter>${preds.length > 1 ? `<And>${preds.join("")}</And>` : preds.join("")}</Filter>`;
}

function expirationXml(e: Expiration): string {
  switch (e.kind) {
    case "none":
      return "";
    case "days":
      return `<Expiration><Days>${e.days}</Days></Expiration>`;
    case "date":
      return `<Expiration><Date>${e.date}T00:00:00.000Z</Date></Expiration>`;
    case "deleteMarkers":
      return "<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>";
  }
}

/** The document of PutBucketLifecycleConfiguration for these rules (at least one). */
export function lifecycleXml(rules: LifecycleRule[]): string {
  const body = rules.map((r) => {
    const nve = r.noncurrentDays === undefined ? "" : `<NoncurrentVersionExpiration>` +
      `<NoncurrentDays>${r.noncurrentDays}</NoncurrentDays>` +
      (r.newerNoncurrent === undefined
        ? ""
        : `<NewerNoncurrentVersions>${r.newerNoncurrent}</NewerNoncurrentVersions>`) +
      `</NoncurrentVersionExpiration>`;
    const abort = r.abortDays === undefined
      ? ""
      : `<AbortIncompleteMultipartUpload><DaysAfterInitiation>${r.abortDays}` +
        `</DaysAfterInitiation></AbortIncompleteMultipartUpload>`;
    // Without an ID, S3 names the rule itself.
    const id = r.id ? `<ID>${esc(r.id)}</ID>` : "";
    return `<Rule>${id}${filterXml(r)}<Status>${
      r.enabled ? "Enabled" : "Disabled"
    }</Status>${r.transitionsXml}${expirationXml(r.expiration)}${nve}${abort}</Rule>`;
  }).join("");
  return `<LifecycleConfiguration xmlns="${S3_NS}">${body}</LifecycleConfiguration>`;
}

/** What a rule applies to, in words, for the rule list. */
export function ruleScope(r: LifecycleRule): string {
  const parts: string[] = [];
  if (r.prefix) parts.push(`prefix "${r.prefix}"`);
  for (const [k, v] of r.tags) parts.push(`tag ${k}=${v}`);
  if (r.sizeGt !== undefined) parts.push(`size > ${r.sizeGt} B`);
  if (r.sizeLt !== undefined) parts.push(`size < ${r.sizeLt} B`);
  return parts.length ? parts.join(", ") : "every object";
}

/** What a rule does, in words, for the rule list. */
export function ruleActions(r: LifecycleRule): string {
  const parts: string[] = [];
  const e = r.expiration;
  if (e.kind === "days") parts.push(`expire after ${e.days} days`);
  if (e.kind === "date") parts.push(`expire on ${e.date}`);
  if (e.kind === "deleteMarkers") parts.push("remove expired delete markers");
  if (r.noncurrentDays !== undefined) {
    parts.push(
      `delete noncurrent versions after ${r.noncurrentDays} days` +
        (r.newerNoncurrent !== undefined ? ` (keep ${r.newerNoncurrent} newest)` : ""),
    );
  }
  if (r.abortDays !== undefined) parts.push(`abort uploads after ${r.abortDays} days`);
  if (r.transitionsXml) parts.push("transitions");
  return parts.join("; ") || "—";
}
