/**
 * Bucket lifecycle configuration: parsing and validation of the S3 XML document (with the error
 * codes AWS answers), the stored form, and rendering it back for GetBucketLifecycleConfiguration.
 */
import { S3Error } from "../../s3/errors.ts";
import { child, children, childText, type XmlNode, type XmlObject } from "../../s3/xml.ts";
import { validateTags } from "../../s3/tags.ts";

/** Bucket config kind of the lifecycle configuration. */
export const LIFECYCLE_CONFIG = "lifecycle";
export const MAX_RULES = 1000;

/** The rule's filter as written (so GET returns the same shape). */
export interface RuleFilter {
  prefix?: string;
  tags?: [string, string][];
  sizeGt?: number;
  sizeLt?: number;
  /** The predicates were wrapped in `<And>`. */
  and?: boolean;
}

export interface Transition {
  days?: number;
  date?: string;
  storageClass: string;
}

export interface NoncurrentTransition {
  days?: number;
  newer?: number;
  storageClass: string;
}

export interface LifecycleRule {
  id: string;
  status: "Enabled" | "Disabled";
  /** Legacy rule-level `<Prefix>` (no `<Filter>`). */
  legacyPrefix?: string;
  filter?: RuleFilter;
  expiration?: { days?: number; date?: string; expiredObjectDeleteMarker?: boolean };
  noncurrentExpiration?: { days: number; newer?: number };
  abortIncompleteDays?: number;
  /** Accepted and returned; this server has one storage tier, so they change nothing. */
  transitions?: Transition[];
  noncurrentTransitions?: NoncurrentTransition[];
}

export interface LifecycleConfig {
  v: 1;
  rules: LifecycleRule[];
}

const TRANSITION_CLASSES = [
  "GLACIER",
  "STANDARD_IA",
  "ONEZONE_IA",
  "INTELLIGENT_TIERING",
  "DEEP_ARCHIVE",
  "GLACIER_IR",
];

const malformed = () => new S3Error("MalformedXML");

function intOf(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\s*-?\d+\s*$/.test(s)) throw malformed();
  return Number(s);
}

function positive(n: number | undefined, message: string): number | undefined {
  if (n !== undefined && n <= 0) throw new S3Error("InvalidArgument", { message });
  return n;
}

/** A lifecycle Date: ISO 8601 at midnight UTC. */
function midnightDate(s: string): string {
  const t = Date.parse(s.trim());
  if (Number.isNaN(t)) throw malformed();
  if (t % 86_400_000 !== 0) {
    throw new S3Error("InvalidArgument", { message: "'Date' must be at midnight GMT" });
  }
  return new Date(t).toISOString();
}

/** A rule's `<Filter>` (lifecycle; replication takes its prefix and tag predicates). */
export function parseRuleFilter(node: XmlNode): RuleFilter {
  const f: RuleFilter = {};
  const preds = node.children;
  if (preds.length > 1) throw malformed(); // several predicates need <And>
  const p = preds[0];
  if (!p) return f;
  const tagOf = (t: XmlNode): [string, string] => {
    const k = child(t, "Key");
    const v = child(t, "Value");
    if (!k || !v) throw malformed();
    return [k.text, v.text];
  };
  switch (p.name) {
    case "Prefix":
      f.prefix = p.text;
      break;
    case "Tag":
      f.tags = [tagOf(p)];
      break;
    case "ObjectSizeGreaterThan":
      f.sizeGt = intOf(p.text);
      break;
    case "ObjectSizeLessThan":
      f.sizeLt = intOf(p.text);
      break;
    case "And": {
      f.and = true;
      for (const c of p.children) {
        if (c.name === "Prefix") {
          if (f.prefix !== undefined) throw malformed();
          f.prefix = c.text;
        } else if (c.name === "Tag") (f.tags ??= []).push(tagOf(c));
        else if (c.name === "ObjectSizeGreaterThan") f.sizeGt = intOf(c.text);
        else if (c.name === "ObjectSizeLessThan") f.sizeLt = intOf(c.text);
        else throw malformed();
      }
      break;
    }
    default:
      throw malformed();
  }
  if (f.tags) {
    const seen = validateTags(f.tags, 50);
    if (Object.keys(seen).length !== f.tags.length) throw new S3Error("InvalidTag");
  }
  if ((f.sizeGt !== undefined && f.sizeGt < 0) || (f.sizeLt !== undefined && f.sizeLt <= 0)) {
    throw new S3Error("InvalidArgument", { message: "Object size must be a positive value" });
  }
  if (f.sizeGt !== undefined && f.sizeLt !== undefined && f.sizeGt >= f.sizeLt) {
    throw new S3Error("InvalidArgument", {
      message: "ObjectSizeGreaterThan must be less than ObjectSizeLessThan",
    });
  }
  return f;
}

/**
 * A rule's `ID` (AWS makes one up when absent; at most 255 characters) and `Status`: what lifecycle
 * and replication rules start with.
 */
export function ruleIdAndStatus(r: XmlNode): { id: string; status: "Enabled" | "Disabled" } {
  const id = childText(r, "ID") ?? crypto.randomUUID().replaceAll("-", "").slice(0, 20);
  if (id.length > 255) {
    throw new S3Error("InvalidArgument", {
      message: "ID length should not exceed allowed limit of 255",
    });
  }
  const status = childText(r, "Status");
  if (status !== "Enabled" && status !== "Disabled") throw malformed();
  return { id, status };
}

function parseRule(r: XmlNode): LifecycleRule {
  const rule: LifecycleRule = ruleIdAndStatus(r);
  const legacy = child(r, "Prefix");
  const filter = child(r, "Filter");
  if (legacy && filter) throw malformed();
  if (legacy) rule.legacyPrefix = legacy.text;
  else if (filter) rule.filter = parseRuleFilter(filter);
  else throw malformed();

  const exp = child(r, "Expiration");
  if (exp) {
    const days = positive(
      intOf(childText(exp, "Days")),
      "'Days' for Expiration action must be a positive integer",
    );
    const date = childText(exp, "Date");
    const eodm = childText(exp, "ExpiredObjectDeleteMarker");
    if (eodm !== undefined && eodm !== "true" && eodm !== "false") throw malformed();
    const set = [days !== undefined, date !== undefined, eodm !== undefined].filter(Boolean);
    if (set.length !== 1) throw malformed();
    rule.expiration = {};
    if (days !== undefined) rule.expiration.days = days;
    if (date !== undefined) rule.expiration.date = midnightDate(date);
    if (eodm !== undefined) rule.expiration.expiredObjectDeleteMarker = eodm === "true";
  }
  const nve = child(r, "NoncurrentVersionExpiration");
  if (nve) {
    const days = positive(
      intOf(childText(nve, "NoncurrentDays")),
      "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
    );
    if (days === undefined) throw malformed();
    const newer = intOf(childText(nve, "NewerNoncurrentVersions"));
    if (newer !== undefined && (newer < 1 || newer > 100)) {
      throw new S3Error("InvalidArgument", {
        message: "NewerNoncurrentVersions must be between 1 and 100",
      });
    }
    rule.noncurrentExpiration = newer === undefined ? { days } : { days, newer };
  }
  const abort = child(r, "AbortIncompleteMultipartUpload");
  if (abort) {
    const days = positive(
      intOf(childText(abort, "DaysAfterInitiation")),
      "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
    );
    if (days === undefined) throw malformed();
    rule.abortIncompleteDays = days;
  }
  for (const t of children(r, "Transition")) {
    const sc = childText(t, "StorageClass");
    if (!sc || !TRANSITION_CLASSES.includes(sc)) throw malformed();
    const days = intOf(childText(t, "Days"));
    const date = childText(t, "Date");
    if ((days === undefined) === (date === undefined)) throw malformed();
    if (days !== undefined && days < 0) {
      throw new S3Error("InvalidArgument", {
        message: "'Days' for Transition action must be a nonnegative integer",
      });
    }
    (rule.transitions ??= []).push(
      days !== undefined
        ? { days, storageClass: sc }
        : { date: midnightDate(date!), storageClass: sc },
    );
  }
  for (const t of children(r, "NoncurrentVersionTransition")) {
    const sc = childText(t, "StorageClass");
    if (!sc || !TRANSITION_CLASSES.includes(sc)) throw malformed();
    const days = intOf(childText(t, "NoncurrentDays"));
    if (days === undefined || days < 0) throw malformed();
    const newer = intOf(childText(t, "NewerNoncurrentVersions"));
    (rule.noncurrentTransitions ??= []).push(
      newer === undefined ? { days, storageClass: sc } : { days, newer, storageClass: sc },
    );
  }
  if (
    !rule.expiration && !rule.noncurrentExpiration && rule.abortIncompleteDays === undefined &&
    !rule.transitions && !rule.noncurrentTransitions
  ) {
    throw new S3Error("InvalidRequest", {
      message: "At least one action needs to be specified in a rule",
    });
  }
  const hasTags = !!rule.filter?.tags?.length;
  if (hasTags && rule.expiration?.expiredObjectDeleteMarker !== undefined) {
    throw new S3Error("InvalidRequest", {
      message: "ExpiredObjectDeleteMarker cannot be specified with tags.",
    });
  }
  if (hasTags && rule.abortIncompleteDays !== undefined) {
    throw new S3Error("InvalidRequest", {
      message: "AbortIncompleteMultipartUpload cannot be specified with Tags.",
    });
  }
  return rule;
}

/**
 * The `<Rule>` elements of a rules document (lifecycle, replication) with root `root`: one at
 * least, MAX_RULES at most.
 */
export function ruleNodes(doc: XmlNode, root: string): XmlNode[] {
  if (doc.name !== root) throw malformed();
  const rules = children(doc, "Rule");
  if (rules.length === 0) throw malformed();
  if (rules.length > MAX_RULES) {
    throw new S3Error("InvalidRequest", {
      message: `Configuration cannot have more than ${MAX_RULES} rules`,
    });
  }
  return rules;
}

/** Parses and validates a `<LifecycleConfiguration>` document. */
export function parseLifecycle(doc: XmlNode): LifecycleConfig {
  const parsed = ruleNodes(doc, "LifecycleConfiguration").map(parseRule);
  const ids = new Set<string>();
  for (const r of parsed) {
    if (ids.has(r.id)) {
      throw new S3Error("InvalidArgument", {
        message: "Rule ID must be unique. Found same ID for more than one rule",
      });
    }
    ids.add(r.id);
  }
  return { v: 1, rules: parsed };
}

function filterXml(f: RuleFilter): XmlObject {
  const preds: XmlObject = {};
  if (f.prefix !== undefined) preds.Prefix = f.prefix;
  if (f.tags) preds.Tag = f.tags.map(([Key, Value]) => ({ Key, Value }));
  if (f.sizeGt !== undefined) preds.ObjectSizeGreaterThan = f.sizeGt;
  if (f.sizeLt !== undefined) preds.ObjectSizeLessThan = f.sizeLt;
  return f.and ? { And: preds } : preds;
}

/** The stored configuration as the body of GetBucketLifecycleConfiguration. */
export function lifecycleXml(cfg: LifecycleConfig): XmlObject {
  return {
    Rule: cfg.rules.map((r) => {
      const o: XmlObject = { ID: r.id };
      if (r.legacyPrefix !== undefined) o.Prefix = r.legacyPrefix;
      else o.Filter = filterXml(r.filter ?? {});
      o.Status = r.status;
      if (r.transitions) {
        o.Transition = r.transitions.map((t) =>
          t.days !== undefined
            ? { Days: t.days, StorageClass: t.storageClass }
            : { Date: t.date!, StorageClass: t.storageClass }
        );
      }
      if (r.expiration) {
        const e = r.expiration;
        o.Expiration = e.days !== undefined
          ? { Days: e.days }
          : e.date !== undefined
          ? { Date: e.date }
          : { ExpiredObjectDeleteMarker: !!e.expiredObjectDeleteMarker };
      }
      if (r.noncurrentTransitions) {
        o.NoncurrentVersionTransition = r.noncurrentTransitions.map((t) => ({
          NoncurrentDays: t.days,
          StorageClass: t.storageClass,
          ...(t.newer !== undefined ? { NewerNoncurrentVersions: t.newer } : {}),
        }));
      }
      if (r.noncurrentExpiration) {
        o.NoncurrentVersionExpiration = {
          NoncurrentDays: r.noncurrentExpiration.days,
          ...(r.noncurrentExpiration.newer !== undefined
            ? { NewerNoncurrentVersions: r.noncurrentExpiration.newer }
            : {}),
        };
      }
      if (r.abortIncompleteDays !== undefined) {
        o.AbortIncompleteMultipartUpload = { DaysAfterInitiation: r.abortIncompleteDays };
      }
      return o;
    }),
  };
}
