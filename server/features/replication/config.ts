/**
 * Bucket replication configuration: AWS's `<ReplicationConfiguration>` document parsed and
 * validated (with the error codes AWS answers), the stored form, rendering it back for
 * GetBucketReplication, and which rules an object falls under.
 *
 * A rule's Destination Bucket is `arn:aws:s3:::<name>`, where `<name>` is a destination
 * registered in the bucket's namespace (destinations.ts: endpoint, region, remote bucket,
 * credentials). Registering a destination under the remote bucket's name keeps the ARN exactly
 * what AWS would have.
 */
import { S3Error } from "../../s3/errors.ts";
import { child, childText, type XmlNode, type XmlObject } from "../../s3/xml.ts";
import { STORAGE_CLASSES } from "../../s3/ops/object_put.ts";
import { parseRuleFilter, ruleIdAndStatus, ruleNodes } from "../lifecycle/config.ts";

/** Bucket config kind of the replication configuration. */
export const REPLICATION_CONFIG = "replication";
/** The change-feed follower name buckets with replication rules list in `BucketRecord.feed`. */
export const REPLICATION_FOLLOWER = "replication";
const ARN_PREFIX = "arn:aws:s3:::";

export interface ReplicationFilter {
  prefix?: string;
  tags?: [string, string][];
  /** The predicates were wrapped in `<And>` (GET returns the same shape). */
  and?: boolean;
}

export interface ReplicationRule {
  id: string;
  /** Absent in rules written without one (AWS's V1 schema, a rule-level `<Prefix>`). */
  priority?: number;
  status: "Enabled" | "Disabled";
  /** V1 rule-level `<Prefix>` (no `<Filter>`). */
  legacyPrefix?: string;
  filter?: ReplicationFilter;
  /** The destination's registered name (the ARN's resource part). */
  destination: string;
  storageClass?: string;
  /** Delete markers are replicated (V1 rules: always, as AWS). */
  deleteMarkers: boolean;
  /** Objects present before the rule are copied by a sync ("sync now", scheduled). */
  existingObjects: boolean;
}

export interface ReplicationConfig {
  v: 1;
  /** Accepted and returned; this server copies with the destination's own credentials. */
  role: string;
  rules: ReplicationRule[];
}

/** `x-amz-replication-status` values (ObjectRecord.replication). */
export type ReplicationStatus = "PENDING" | "COMPLETED" | "FAILED" | "REPLICA";

const malformed = () => new S3Error("MalformedXML");

function enabled(node: XmlNode | undefined, what: string): boolean | undefined {
  if (!node) return undefined;
  const s = childText(node, "Status");
  if (s === "Enabled") return true;
  if (s === "Disabled") return false;
  throw new S3Error("MalformedXML", { message: `${what} Status must be Enabled or Disabled` });
}

/** A replication `<Filter>`: lifecycle's predicates but the object sizes. */
function parseFilter(node: XmlNode): ReplicationFilter {
  const { sizeGt, sizeLt, ...f } = parseRuleFilter(node);
  if (sizeGt !== undefined || sizeLt !== undefined) throw malformed();
  if (f.tags && f.tags.length > 10) throw new S3Error("InvalidTag");
  return f;
}

/** The destination name an ARN names (`arn:aws:s3:::<name>`); `InvalidArgument` otherwise. */
export function destinationOfArn(arn: string): string {
  const name = arn.startsWith(ARN_PREFIX) ? arn.slice(ARN_PREFIX.length) : "";
  if (!name || name.includes("/") || name.includes(":")) {
    throw new S3Error("InvalidArgument", { message: "Invalid bucket ARN." });
  }
  return name;
}

function parseRule(r: XmlNode): ReplicationRule {
  const { id, status } = ruleIdAndStatus(r);
  const dest = child(r, "Destination");
  const bucket = dest && childText(dest, "Bucket");
  if (!dest || bucket === undefined) throw malformed();
  const legacy = child(r, "Prefix");
  const filter = child(r, "Filter");
  if (legacy && filter) throw malformed();
  const prio = childText(r, "Priority");
  if (prio !== undefined && !/^\s*\d+\s*$/.test(prio)) throw malformed();
  const dm = enabled(child(r, "DeleteMarkerReplication"), "DeleteMarkerReplication");
  const rule: ReplicationRule = {
    id,
    status,
    destination: destinationOfArn(bucket.trim()),
    deleteMarkers: legacy || !filter ? (dm ?? true) : dm ?? false,
    existingObjects: enabled(child(r, "ExistingObjectReplication"), "ExistingObjectReplication") ??
      false,
  };
  if (prio !== undefined) rule.priority = Number(prio);
  if (legacy) rule.legacyPrefix = legacy.text;
  else if (filter) {
    rule.filter = parseFilter(filter);
    // AWS's V2 schema (rules with a Filter): the delete-marker choice must be explicit.
    if (dm === undefined) {
      throw new S3Error("InvalidRequest", {
        message:
          "DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema.",
      });
    }
    if (dm && rule.filter.tags?.length) {
      throw new S3Error("InvalidRequest", {
        message: "Delete marker replication is not supported if any Tag filter is specified.",
      });
    }
  }
  const sc = childText(dest, "StorageClass");
  if (sc !== undefined) {
    if (!STORAGE_CLASSES.includes(sc)) {
      throw new S3Error("InvalidStorageClass", { fields: { StorageClassRequested: sc } });
    }
    rule.storageClass = sc;
  }
  return rule;
}

/** Parses and validates a `<ReplicationConfiguration>` document. */
export function parseReplication(doc: XmlNode): ReplicationConfig {
  const parsed = ruleNodes(doc, "ReplicationConfiguration").map(parseRule);
  const ids = new Set<string>();
  const priorities = new Set<number>();
  const v2 = parsed.some((r) => r.filter);
  for (const r of parsed) {
    if (ids.has(r.id)) {
      throw new S3Error("InvalidArgument", { message: "Rule Id must be unique." });
    }
    ids.add(r.id);
    if (v2 && r.legacyPrefix !== undefined) {
      throw new S3Error("InvalidRequest", {
        message: "Prefix and Filter cannot be used in the same replication configuration.",
      });
    }
    if (v2 && parsed.length > 1) {
      if (r.priority === undefined) {
        throw new S3Error("InvalidRequest", {
          message:
            "Priority must be specified for this version of Cross Region Replication configuration schema.",
        });
      }
      if (priorities.has(r.priority)) {
        throw new S3Error("InvalidRequest", {
          message: "Found duplicate priority " + r.priority + " for rules.",
        });
      }
      priorities.add(r.priority);
    }
  }
  return { v: 1, role: childText(doc, "Role") ?? "", rules: parsed };
}

/** The configuration as GetBucketReplication's document body. */
export function replicationXml(cfg: ReplicationConfig): XmlObject {
  return {
    Role: cfg.role,
    Rule: cfg.rules.map((r) => {
      const out: XmlObject = { ID: r.id };
      if (r.priority !== undefined) out.Priority = r.priority;
      if (r.legacyPrefix !== undefined) out.Prefix = r.legacyPrefix;
      if (r.filter) out.Filter = filterXml(r.filter);
      out.Status = r.status;
      if (r.existingObjects) out.ExistingObjectReplication = { Status: "Enabled" };
      const dest: XmlObject = { Bucket: ARN_PREFIX + r.destination };
      if (r.storageClass) dest.StorageClass = r.storageClass;
      out.Destination = dest;
      if (r.filter) {
        out.DeleteMarkerReplication = { Status: r.deleteMarkers ? "Enabled" : "Disabled" };
      }
      return out;
    }),
  };
}

function filterXml(f: ReplicationFilter): XmlObject {
  const tags = (f.tags ?? []).map(([Key, Value]) => ({ Key, Value }));
  if (f.and) {
    const and: XmlObject = {};
    if (f.prefix !== undefined) and.Prefix = f.prefix;
    if (tags.length) and.Tag = tags;
    return { And: and };
  }
  if (f.prefix !== undefined) return { Prefix: f.prefix };
  if (tags.length) return { Tag: tags[0] };
  return {};
}

/** Whether a rule selects an object of this key and these tags. */
export function ruleMatches(
  rule: ReplicationRule,
  key: string,
  tags: Record<string, string> | undefined,
): boolean {
  const prefix = rule.legacyPrefix ?? rule.filter?.prefix ?? "";
  if (!key.startsWith(prefix)) return false;
  for (const [k, v] of rule.filter?.tags ?? []) if (tags?.[k] !== v) return false;
  return true;
}

/**
 * The enabled rules that replicate an object of this key and tags: for each destination the
 * rule of highest priority only (AWS: when rules overlap on a destination, priority decides).
 */
export function rulesFor(
  cfg: ReplicationConfig,
  key: string,
  tags: Record<string, string> | undefined,
): ReplicationRule[] {
  const byDest = new Map<string, ReplicationRule>();
  for (const r of cfg.rules) {
    if (r.status !== "Enabled" || !ruleMatches(r, key, tags)) continue;
    const had = byDest.get(r.destination);
    if (!had || (r.priority ?? 0) > (had.priority ?? 0)) byDest.set(r.destination, r);
  }
  return [...byDest.values()];
}
